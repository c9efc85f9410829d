package abi

import (
	"errors"
	"strings"
	"testing"
)

const goodManifest = `{
  "abi": 1, "name": "text", "version": "1.0.0", "description": "text tools",
  "tools": [{
    "name": "word_count", "title": "Word Count", "description": "count words",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    "outputSchema": {"type": "object", "properties": {"words": {"type": "integer"}}},
    "annotations": {"readOnlyHint": true, "openWorldHint": false},
    "icons": [{"src": "data:image/png;base64,AAAA", "mimeType": "image/png"}]
  }],
  "resources": [{"uri": "text://readme", "name": "readme"}],
  "resourceTemplates": [{"uriTemplate": "text://doc/{id}", "name": "doc"}],
  "prompts": [{"name": "summarize", "arguments": [{"name": "text", "required": true}]}],
  "permissions": {"network": ["api.example.com", "*.example.org:443"], "files": [{"guest": "/data", "mode": "ro"}],
                  "env": ["LANG"], "secrets": ["TOKEN"], "kv": true, "sampling": true, "elicitation": true},
  "limits": {"memory": "64MiB", "timeout": "5s", "output": 1048576}
}`

func TestParseManifestGood(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"full", goodManifest},
		{"minimal", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`},
		{"draft-07", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}}]}`},
		{"2020-12 explicit", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}}]}`},
		{"prompts only", `{"abi":1,"name":"m","prompts":[{"name":"p"}]}`},
		{"tool names with dots and dashes", `{"abi":1,"name":"m.v2","tools":[{"name":"a.b-c_D9","inputSchema":{"type":"object"}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.input))
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if m.ABI != 1 || m.Name == "" {
				t.Errorf("decoded %+v", m)
			}
		})
	}
	m, _ := ParseManifest([]byte(goodManifest))
	if m.Limits.Memory != 64<<20 || m.Limits.Output != 1<<20 || m.Limits.Timeout.String() != "5s" {
		t.Errorf("limits = %+v", m.Limits)
	}
	if !m.Permissions.KV || len(m.Permissions.Network) != 2 || m.Permissions.Files[0].Guest != "/data" {
		t.Errorf("permissions = %+v", m.Permissions)
	}
}

func TestParseManifestBad(t *testing.T) {
	tool := func(schema string) string {
		return `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":` + schema + `}]}`
	}
	tests := []struct {
		name     string
		input    string
		wantPath string // JSON path named in the error
		wantMsg  string
	}{
		{"not json", `{"abi":1,`, "", "not valid JSON"},
		{"not an object", `[1,2]`, "", "must be a JSON object"},
		{"trailing data", `{"abi":1} {}`, "", "extra data"},
		{"missing abi", `{"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`, "abi", "missing"},
		{"future abi", `{"abi":2,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`, "abi", "not supported"},
		{"bad module name", `{"abi":1,"name":"my module","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`, "name", "not a valid module name"},
		{"nothing declared", `{"abi":1,"name":"m"}`, "tools", "declares no tools"},
		{"unknown top-level field", `{"abi":1,"name":"m","tool":[],"tools":[{"name":"t","inputSchema":{"type":"object"}}]}`, "tool", "unknown field"},
		{"unknown nested field with case hint", `{"abi":1,"name":"m","tools":[{"name":"t","InputSchema":{},"inputSchema":{"type":"object"}}]}`, "tools[0].InputSchema", `did you mean "inputSchema"`},
		{"wrong type", `{"abi":1,"name":"m","tools":[{"name":7,"inputSchema":{"type":"object"}}]}`, "tools[0].name", "want string"},
		{"bad tool name", `{"abi":1,"name":"m","tools":[{"name":"has space","inputSchema":{"type":"object"}}]}`, "tools[0].name", "not a valid tool name"},
		{"tool name too long", `{"abi":1,"name":"m","tools":[{"name":"` + strings.Repeat("a", 129) + `","inputSchema":{"type":"object"}}]}`, "tools[0].name", "not a valid tool name"},
		{"duplicate tool", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}},{"name":"t","inputSchema":{"type":"object"}}]}`, "tools[1].name", "duplicate tool name"},
		{"missing input schema", `{"abi":1,"name":"m","tools":[{"name":"t"}]}`, "tools[0].inputSchema", "missing"},
		{"schema not object type", tool(`{"type":"string"}`), "tools[0].inputSchema", `"type" must be "object"`},
		{"schema without type", tool(`{"properties":{}}`), "tools[0].inputSchema", `"type" must be "object"`},
		{"schema is an array", tool(`[1]`), "tools[0].inputSchema", "JSON object schema"},
		{"draft-04 rejected", tool(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`), "tools[0].inputSchema", "not supported"},
		{"unresolvable ref", tool(`{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}`), "tools[0].inputSchema", "does not resolve"},
		{"bad default", tool(`{"type":"object","properties":{"n":{"type":"integer","default":"x"}}}`), "tools[0].inputSchema", "does not resolve"},
		{"bad output schema", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"},"outputSchema":{"type":"array"}}]}`, "tools[0].outputSchema", `"type" must be "object"`},
		{"icon without src", `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"},"icons":[{"mimeType":"image/png"}]}]}`, "tools[0].icons[0].src", "missing"},
		{"relative resource uri", `{"abi":1,"name":"m","resources":[{"uri":"readme","name":"r"}]}`, "resources[0].uri", "absolute URI"},
		{"duplicate resource", `{"abi":1,"name":"m","resources":[{"uri":"a://x","name":"r"},{"uri":"a://x","name":"s"}]}`, "resources[1].uri", "duplicate"},
		{"template braces", `{"abi":1,"name":"m","resourceTemplates":[{"uriTemplate":"a://{x","name":"r"}]}`, "resourceTemplates[0].uriTemplate", "not an RFC 6570 URI template"},
		{"template duplicate", `{"abi":1,"name":"m","resourceTemplates":[{"uriTemplate":"a://{x}","name":"r"},{"uriTemplate":"a://{x}","name":"s"}]}`, "resourceTemplates[1].uriTemplate", "duplicate"},
		{"completions without arguments", `{"abi":1,"name":"m","completions":true,"prompts":[{"name":"p"}]}`, "completions", "nothing"},
		{"duplicate prompt argument", `{"abi":1,"name":"m","prompts":[{"name":"p","arguments":[{"name":"a"},{"name":"a"}]}]}`, "prompts[0].arguments[1].name", "duplicate"},
		{"bad network host", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["http://x.com/"]}}`, "permissions.network[0]", "not a host pattern"},
		{"bad port", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["x.com:99999"]}}`, "permissions.network[0]", "out of range"},
		{"any host among hosts", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["x.com","*"]}}`, "permissions.network[1]", `"*" (whatever hosts the operator allows) must be the only entry`},
		{"any host of a port", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["*:443"]}}`, "permissions.network[0]", "not a host pattern"},
		{"relative mount", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"files":[{"guest":"data"}]}}`, "permissions.files[0].guest", "absolute"},
		{"bad mount mode", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"files":[{"guest":"/d","mode":"w"}]}}`, "permissions.files[0].mode", "not a mode"},
		{"bad env name", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"env":["A-B"]}}`, "permissions.env[0]", "not an environment variable name"},
		{"bad size", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"limits":{"memory":"lots"}}`, "", "invalid size"},
		{"bad duration", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"limits":{"timeout":"soon"}}`, "", "invalid duration"},
		{"memory over 4GiB", `{"abi":1,"name":"m","prompts":[{"name":"p"}],"limits":{"memory":"5GiB"}}`, "limits.memory", "between 0 and 4GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tc.input))
			if err == nil {
				t.Fatal("ParseManifest succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
			if tc.wantPath == "" {
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			for _, fe := range ve.Errors {
				if fe.Path == tc.wantPath {
					return
				}
			}
			t.Errorf("no problem reported at %s: %v", tc.wantPath, err)
		})
	}
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	_, err := ParseManifest([]byte(`{"abi":3,"name":"","tools":[{"name":"","inputSchema":{"type":"string"}}]}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if len(ve.Errors) != 4 {
		t.Errorf("got %d problems, want 4 (abi, name, tool name, schema): %v", len(ve.Errors), err)
	}
}

func TestEmbedAndExtractManifest(t *testing.T) {
	wasm := minimalCommand()
	if _, err := ExtractManifest(wasm); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("ExtractManifest on a bare module = %v, want ErrNoManifest", err)
	}
	first, err := EmbedManifest(wasm, []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	second, err := EmbedManifest(first, []byte(`{"v":2}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ExtractManifest(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"v":2}` {
		t.Errorf("after repacking, manifest = %s, want the replacement", got)
	}
	if _, err := EmbedManifest([]byte("not wasm"), nil); err == nil {
		t.Error("EmbedManifest accepted a non-wasm file")
	}
	twice := append(append([]byte(nil), first...), first[len(wasm):]...)
	if _, err := ExtractManifest(twice); err == nil || !strings.Contains(err.Error(), "at most one") {
		t.Errorf("two manifest sections: err = %v", err)
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
	}{
		{"4096", 4096}, {"64KiB", 64 << 10}, {"128MiB", 128 << 20}, {"1GiB", 1 << 30},
		{"2MB", 2e6}, {"1.5MiB", 3 << 19}, {" 8 KiB ", 8 << 10}, {"10B", 10},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "12XB", "1e30GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
	if s := Size(128 << 20).String(); s != "128MiB" {
		t.Errorf("String = %s", s)
	}
	if s := Size(4004545).String(); s != "3.82MiB" {
		t.Errorf("String = %s", s)
	}
}

// minimalCommand is the smallest tool module without a manifest: one
// function, exported as _start.
func minimalCommand() []byte {
	return []byte{
		0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
		0x03, 0x02, 0x01, 0x00, // function: one, of type 0
		0x07, 0x0a, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00, // export: _start, func 0
		0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: an empty body
	}
}

// A module that is not whole, or has no entry point, is reported as such,
// not as a module without a manifest: embedding one would not help.
func TestExtractManifestOfModulesThatAreNotTools(t *testing.T) {
	whole := minimalCommand()
	tests := []struct {
		name     string
		input    []byte
		expected string
	}{
		{"cut within a section", whole[:len(whole)-2], "truncated module"},
		{"cut before the code section", whole[:len(whole)-6], "not a well-formed WebAssembly module: it declares 1 function but has code for 0; is the file (30 bytes) cut short?"},
		{"cut after the types", whole[:14], "not a tool module: it has no code and exports neither _start nor wasmgate_call; is the file (14 bytes) cut short?"},
		{"header only", whole[:8], "not a tool module: it has no code"},
		{"no entry point", append(append(append([]byte(nil), whole[:18]...), 0x07, 0x01, 0x00), whole[30:]...), "not a tool module: it exports neither _start nor wasmgate_call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ExtractManifest(tt.input)
			if err == nil || errors.Is(err, ErrNoManifest) || !strings.Contains(err.Error(), tt.expected) {
				t.Errorf("ExtractManifest = %v, want an error saying %q", err, tt.expected)
			}
		})
	}
}

// A manifest may ask for AnyHost, alone: whatever hosts the operator allows.
func TestManifestAnyHost(t *testing.T) {
	m, err := ParseManifest([]byte(`{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["*"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Permissions.WantsAnyHost() {
		t.Error("WantsAnyHost is false for [\"*\"]")
	}
	m, err = ParseManifest([]byte(`{"abi":1,"name":"m","prompts":[{"name":"p"}],"permissions":{"network":["*.example.com"]}}`))
	if err != nil || m.Permissions.WantsAnyHost() {
		t.Errorf("a wildcard domain is not any host: %v %v", err, m.Permissions.WantsAnyHost())
	}
	// A grant names hosts: "*" is no host pattern.
	if err := CheckHostPattern(AnyHost); err == nil || !strings.Contains(err.Error(), "name the hosts") {
		t.Errorf("CheckHostPattern(%q) = %v, want a refusal that says to name the hosts", AnyHost, err)
	}
}
