package abi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name, input, expected string
	}{
		{"required", `validating root: required: missing properties: ["pattern" "text"]`, `"pattern": missing (required); "text": missing (required)`},
		{"nested required", `validating root: validating /properties/opts: required: missing properties: ["mode"]`, `"opts.mode": missing (required)`},
		{"additional", `validating root: unexpected additional properties ["txet"]`, `"txet": unknown property`},
		{"type", `validating root: validating /properties/text: type: 5 has type "integer", want "string"`, `"text": type: 5 has type "integer", want "string"`},
		{"minimum", `validating root: validating /properties/limit: minimum: 0/1 is less than 1.000000`, `"limit": 0 is less than the minimum 1`},
		{"exclusive maximum", `validating root: validating /properties/x: exclusiveMaximum: 3/2 is greater than or equal to 1.500000`, `"x": 1.5 is greater than or equal to the exclusive maximum 1.5`},
		{"items", `validating root: validating /properties/tags: validating /properties/tags/items: type: 1 has type "integer", want "string"`, `"tags[]": type: 1 has type "integer", want "string"`},
		{"escaped name", `validating root: validating /properties/a~1b: type: 1 has type "integer", want "string"`, `"a/b": type: 1 has type "integer", want "string"`},
		{"root", `validating root: not: validated against {}`, `not: validated against {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(errors.New(tt.input), nil); got != tt.expected {
				t.Errorf("describe(%q)\n got %q\nwant %q", tt.input, got, tt.expected)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name, raw, defaulted, expected string
	}{
		{"adds missing", `{"a":1}`, `{"a":1,"b":"x"}`, `{"a":1,"b":"x"}`},
		{"keeps big numbers", `{"big":12345678901234567890}`, `{"big":12345678901234567000,"n":7}`, `{"big":12345678901234567890,"n":7}`},
		{"nested", `{"o":{"a":true}}`, `{"o":{"a":true,"m":"fast"}}`, `{"o":{"a":true,"m":"fast"}}`},
		{"keeps html", `{"s":"<&>"}`, `{"s":"<&>"}`, `{"s":"<&>"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d any
			if err := json.Unmarshal([]byte(tt.defaulted), &d); err != nil {
				t.Fatal(err)
			}
			got, err := withDefaults(json.RawMessage(tt.raw), d)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.expected {
				t.Errorf("got %s, want %s", got, tt.expected)
			}
		})
	}
}

func TestInputSchemaArguments(t *testing.T) {
	schema := `{"type":"object","properties":{"text":{"type":"string"},"limit":{"type":"integer","minimum":1,"default":10}},"required":["text"],"additionalProperties":false}`
	s, err := NewInputSchema(json.RawMessage(schema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input, expected, err string
	}{
		{name: "defaults applied", input: `{"text":"a"}`, expected: `{"limit":10,"text":"a"}`},
		{name: "own value kept", input: `{"text":"a","limit":3}`, expected: `{"limit":3,"text":"a"}`},
		{name: "missing", input: `{}`, err: `invalid arguments: "text": missing (required)`},
		{name: "empty is an object", input: ``, err: `invalid arguments: "text": missing (required)`},
		{name: "null is an object", input: `null`, err: `invalid arguments: "text": missing (required)`},
		{name: "misspelt", input: `{"txet":"a"}`, err: `invalid arguments: "txet": unknown property (the tool takes limit, text); "text": missing (required)`},
		{name: "below minimum", input: `{"text":"a","limit":0}`, err: `invalid arguments: "limit": 0 is less than the minimum 1`},
		{name: "wrong type", input: `{"text":5}`, err: `invalid arguments: "text": type: 5 has type "integer", want "string"`},
		{name: "not an object", input: `[1]`, err: `invalid arguments: must be a JSON object, got an array`},
		{name: "not JSON", input: `{`, err: `invalid arguments: not valid JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Arguments(json.RawMessage(tt.input))
			if tt.err != "" {
				var ae *ArgumentsError
				if !errors.As(err, &ae) || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("Arguments(%s): %v, want an *ArgumentsError starting %q", tt.input, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.expected {
				t.Errorf("Arguments(%s) = %s, want %s", tt.input, got, tt.expected)
			}
		})
	}
}

func TestInputSchemaWithoutDefaultsKeepsBytes(t *testing.T) {
	s, err := NewInputSchema(json.RawMessage(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	in := `{"big": 12345678901234567890, "s": "<&>"}`
	got, err := s.Arguments(json.RawMessage(in))
	if err != nil || string(got) != in {
		t.Errorf("Arguments(%s) = %s, %v; want the same bytes", in, got, err)
	}
}

// TestJSONSchemaGoFailsDraft04 records why ResolveSchema refuses draft-04
// (RATIONALE.md, "Strict manifest"): jsonschema-go resolves a draft-04
// schema without an error and then fails every instance, valid or not. If
// a new version validates draft-04, this test fails and the refusal needs
// another look.
func TestJSONSchemaGoFailsDraft04(t *testing.T) {
	var s jsonschema.Schema
	if err := json.Unmarshal([]byte(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"a":{"type":"string"}}}`), &s); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Resolve(nil)
	if err != nil {
		t.Fatalf("jsonschema-go no longer resolves draft-04: %v", err)
	}
	for _, valid := range []any{map[string]any{"a": "x"}, map[string]any{}} {
		if err := rs.Validate(valid); err == nil {
			t.Errorf("jsonschema-go validated %v against a draft-04 schema", valid)
		}
	}
	if _, err := ResolveSchema(json.RawMessage(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`)); err == nil {
		t.Error("ResolveSchema accepted draft-04")
	}
}
