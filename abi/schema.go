package abi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// InputSchema is a tool's input schema, resolved once, that checks the
// arguments of its calls and fills in their defaults. serve and wasmgate
// call both use it, so a call is accepted, completed and refused the same
// way whichever runs it.
type InputSchema struct {
	resolved *jsonschema.Resolved
	defaults bool // the schema declares a default somewhere
}

// NewInputSchema resolves a tool's inputSchema (see ResolveSchema).
func NewInputSchema(raw json.RawMessage) (*InputSchema, error) {
	rs, err := ResolveSchema(raw)
	if err != nil {
		return nil, err
	}
	return &InputSchema{resolved: rs, defaults: hasDefault(raw)}, nil
}

// ArgumentsError is a call's arguments that do not match the tool's input
// schema. Its message names the fields that are wrong:
// `invalid arguments: "text": missing (required)`.
type ArgumentsError struct {
	Detail string
}

func (e *ArgumentsError) Error() string { return "invalid arguments: " + e.Detail }

// Arguments validates a call's arguments (a JSON object; empty or null
// means {}) against the schema after applying its defaults. It returns the
// arguments to pass to the guest: the caller's own bytes for every value
// the caller sent (numbers beyond float64 precision included) plus the
// defaults. An error is an *ArgumentsError.
func (s *InputSchema) Arguments(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &ArgumentsError{"not valid JSON: " + err.Error()}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, &ArgumentsError{fmt.Sprintf("must be a JSON object, got %s", valueKind(v))}
	}
	if s.defaults {
		if err := s.resolved.ApplyDefaults(&v); err != nil {
			return nil, &ArgumentsError{clip(err.Error())}
		}
	}
	if err := s.resolved.Validate(&v); err != nil {
		msg := describe(err, s.resolved.Schema().Properties)
		// The validator stops at the first problem; a misspelt name is
		// both unknown and missing, so say both.
		obj := v.(map[string]any)
		for _, name := range s.resolved.Schema().Required {
			if _, ok := obj[name]; !ok && !strings.Contains(msg, strconv.Quote(name)+": missing") {
				msg += "; " + strconv.Quote(name) + ": missing (required)"
			}
		}
		return nil, &ArgumentsError{msg}
	}
	if !s.defaults {
		return raw, nil
	}
	merged, err := withDefaults(raw, v)
	if err != nil {
		return nil, &ArgumentsError{err.Error()}
	}
	return merged, nil
}

// DescribeSchemaError turns an error of rs.Validate into a message that
// names the field first, as Arguments does: `"words": type: ...`.
func DescribeSchemaError(err error, rs *jsonschema.Resolved) string {
	return describe(err, rs.Schema().Properties)
}

// hasDefault reports whether a schema declares "default" anywhere.
func hasDefault(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["default"]; ok {
				return true
			}
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// maxDetail bounds the part of a validation message that may quote a value.
const maxDetail = 300

// describe turns a jsonschema-go validation error into a message that names
// the field first: `"text": missing (required)`. The library reports schema
// paths ("validating /properties/opts/properties/mode: enum: ...") and may
// quote whole values; the field path is derived from the deepest schema path
// and the rest is clipped.
func describe(err error, rootProps map[string]*jsonschema.Schema) string {
	msg := err.Error()
	path := ""
	for {
		rest, ok := strings.CutPrefix(msg, "validating ")
		if !ok {
			break
		}
		at, after, ok := strings.Cut(rest, ": ")
		if !ok {
			break
		}
		path, msg = at, after
	}
	field := fieldPath(path)

	if names, ok := quotedList(msg, "required: missing properties: "); ok {
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = strconv.Quote(joinField(field, n)) + ": missing (required)"
		}
		return strings.Join(parts, "; ")
	}
	if names, ok := quotedList(msg, "unexpected additional properties "); ok {
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = strconv.Quote(joinField(field, n)) + ": unknown property"
		}
		s := strings.Join(parts, "; ")
		if field == "" && len(rootProps) > 0 {
			known := slices.Sorted(func(yield func(string) bool) {
				for k := range rootProps {
					if !yield(k) {
						return
					}
				}
			})
			s += fmt.Sprintf(" (the tool takes %s)", strings.Join(known, ", "))
		}
		return s
	}
	if m := boundRE.FindStringSubmatch(msg); m != nil {
		// "minimum: 0/1 is less than 1.000000" -> "0 is less than the minimum 1"
		msg = fmt.Sprintf("%s is %s than %sthe %s %s", number(m[2]), m[3], m[4], boundNames[m[1]], number(m[5]))
	}
	if field == "" {
		return clip(msg)
	}
	return strconv.Quote(field) + ": " + clip(msg)
}

var (
	boundRE    = regexp.MustCompile(`^(minimum|maximum|exclusiveMinimum|exclusiveMaximum): (\S+) is (less|greater) than (or equal to )?(\S+)$`)
	boundNames = map[string]string{"minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive minimum", "exclusiveMaximum": "exclusive maximum"}
)

// number formats the library's big.Rat ("3/1") and %f ("1.500000") numbers.
func number(s string) string {
	if num, den, ok := strings.Cut(s, "/"); ok {
		if den == "1" {
			return num
		}
		if r, ok := new(big.Rat).SetString(s); ok {
			s = r.FloatString(6)
		}
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fieldPath maps a schema path such as /properties/opts/properties/mode or
// /properties/tags/items to an argument path: opts.mode, tags[].
func fieldPath(schemaPath string) string {
	if schemaPath == "" || schemaPath == "root" || !strings.HasPrefix(schemaPath, "/") {
		return ""
	}
	segs := strings.Split(strings.TrimPrefix(schemaPath, "/"), "/")
	var b strings.Builder
	for i := 0; i < len(segs); i++ {
		switch segs[i] {
		case "properties":
			if i+1 < len(segs) {
				i++
				name := strings.NewReplacer("~1", "/", "~0", "~").Replace(segs[i])
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(name)
			}
		case "items", "additionalItems", "unevaluatedItems":
			b.WriteString("[]")
		case "prefixItems":
			if i+1 < len(segs) {
				i++
				b.WriteString("[" + segs[i] + "]")
			}
		case "additionalProperties", "unevaluatedProperties":
			b.WriteString(".*")
		case "patternProperties", "dependentSchemas", "$defs", "definitions":
			i++ // skip the key: it names a schema, not a field
		}
	}
	return b.String()
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// quotedList parses `prefix["a" "b"]` as written by %q of a []string.
func quotedList(msg, prefix string) ([]string, bool) {
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok || !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
		return nil, false
	}
	rest = rest[1 : len(rest)-1]
	var names []string
	for rest != "" {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, false
		}
		s, _ := strconv.Unquote(q)
		names = append(names, s)
		rest = strings.TrimPrefix(rest[len(q):], " ")
	}
	return names, len(names) > 0
}

// clip shortens a message that may quote a long value.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxDetail {
		return s
	}
	cut := maxDetail
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// valueKind names the JSON type of a decoded value.
func valueKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// withDefaults returns raw (a JSON object) with every member of defaulted
// that raw lacks, at any depth. Values raw has keep their exact text.
func withDefaults(raw json.RawMessage, defaulted any) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var orig any
	if err := dec.Decode(&orig); err != nil {
		return nil, err
	}
	addMissing(orig, defaulted)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(orig); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func addMissing(dst, src any) {
	d, ok1 := dst.(map[string]any)
	s, ok2 := src.(map[string]any)
	if !ok1 || !ok2 {
		return
	}
	for k, sv := range s {
		if dv, ok := d[k]; ok {
			addMissing(dv, sv)
		} else {
			d[k] = sv
		}
	}
}
