//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/color"
	imagepng "image/png"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	hostclient "github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/runtime"
)

// The tests run the committed module, tools.wasm, through the runtime.

func load(t *testing.T) *runtime.Module {
	t.Helper()
	rt, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(hostclient.HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	m, err := rt.Load(context.Background(), "tools.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type events struct {
	mu   sync.Mutex
	logs []string
	prog []string
}

func (e *events) Log(l abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, l.String()+": "+msg)
}

func (e *events) Progress(p, total float64, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prog = append(e.prog, fmt.Sprintf("%g/%g", p, total))
}

// client answers as the conformance suite's client does, and records the
// questions: "key method" per question, one line per ask.
type client struct {
	asks []string
}

func (c *client) Ask(ctx context.Context, qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	answers := map[string]json.RawMessage{}
	var asked []string
	for _, k := range slices.Sorted(maps.Keys(qs)) {
		q := qs[k]
		asked = append(asked, k+" "+q.Method)
		switch q.Method {
		case "sampling/createMessage":
			answers[k] = json.RawMessage(`{"role":"assistant","content":{"type":"text","text":"The capital of France is Paris."},"model":"test-model","stopReason":"endTurn"}`)
		case "roots/list":
			answers[k] = json.RawMessage(`{"roots":[{"uri":"file:///test/root","name":"Test Root"}]}`)
		case "elicitation/create":
			var p struct {
				RequestedSchema struct {
					Properties map[string]any `json:"properties"`
				} `json:"requestedSchema"`
			}
			_ = json.Unmarshal(q.Params, &p)
			content := map[string]any{}
			for name := range p.RequestedSchema.Properties {
				switch name {
				case "ok":
					content[name] = true
				case "color":
					content[name] = "blue"
				default:
					content[name] = "Alice"
				}
			}
			b, _ := json.Marshal(map[string]any{"action": "accept", "content": content})
			answers[k] = b
		}
	}
	c.asks = append(c.asks, strings.Join(asked, ", "))
	return answers, nil
}

var everything = &abi.ClientInfo{ProtocolVersion: "2025-11-25", Capabilities: map[string]json.RawMessage{
	"sampling": json.RawMessage("{}"), "elicitation": json.RawMessage("{}"), "roots": json.RawMessage("{}"),
}}

func call(t *testing.T, m *runtime.Module, tool string, args string, c runtime.Client, info *abi.ClientInfo) (*runtime.Outcome, *events) {
	t.Helper()
	ev := &events{}
	out, err := m.Call(context.Background(), runtime.Call{
		Tool: tool, Arguments: json.RawMessage(args), Events: ev, Client: c, ClientInfo: info,
		Grant: &runtime.Grant{Sampling: true, Elicitation: true, Roots: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil && out.Err.Kind != runtime.KindToolError {
		t.Fatalf("%s: %v (stderr %s)", tool, out.Err, out.Stderr)
	}
	return out, ev
}

func text(out *runtime.Outcome) string {
	var b strings.Builder
	for _, c := range out.Result.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestManifest(t *testing.T) {
	man := load(t).Manifest()
	if man.Name != "conformance-tools" || !man.Permissions.Sampling || !man.Permissions.Elicitation || !man.Permissions.Roots {
		t.Errorf("manifest: %s %+v", man.Name, man.Permissions)
	}
	var names []string
	for _, tool := range man.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" {
			t.Errorf("tool %s has no description", tool.Name)
		}
	}
	slices.Sort(names)
	// The header validation scenario calls the first tool of tools/list
	// (sorted by name) with {}.
	if names[0] != "echo_header" {
		t.Errorf("first tool %s, want echo_header", names[0])
	}
	for _, tool := range man.Tools {
		switch tool.Name {
		case "json_schema_2020_12_tool":
			var s map[string]any
			_ = json.Unmarshal(tool.InputSchema, &s)
			defs, _ := s["$defs"].(map[string]any)
			addr, _ := defs["address"].(map[string]any)
			if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || addr["$anchor"] != "addressDef" || s["additionalProperties"] != false ||
				s["allOf"] == nil || s["if"] == nil || s["then"] == nil || s["else"] == nil {
				t.Errorf("json_schema_2020_12_tool schema: %s", tool.InputSchema)
			}
		case "echo_header":
			if !bytes.Contains(tool.InputSchema, []byte(`"x-mcp-header":"Region"`)) {
				t.Errorf("echo_header schema: %s", tool.InputSchema)
			}
		}
	}
}

func TestContent(t *testing.T) {
	m := load(t)
	out, _ := call(t, m, "echo_header", `{}`, nil, nil)
	if out.Err != nil || text(out) != "region=" {
		t.Errorf("echo_header {}: %v %q", out.Err, text(out))
	}
	if out, _ := call(t, m, "test_simple_text", ``, nil, nil); text(out) != "This is a simple text response for testing." {
		t.Errorf("simple text: %q", text(out))
	}

	out, _ = call(t, m, "test_image_content", `{}`, nil, nil)
	img, ok := out.Result.Content[0].(*mcp.ImageContent)
	if !ok || img.MIMEType != "image/png" {
		t.Fatalf("image: %#v", out.Result.Content)
	}
	decoded, err := imagepng.Decode(bytes.NewReader(img.Data))
	if err != nil || decoded.Bounds().Dx() != 1 || decoded.Bounds().Dy() != 1 || color.RGBAModel.Convert(decoded.At(0, 0)) != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("image is not a 1x1 red PNG: %v", err)
	}

	out, _ = call(t, m, "test_audio_content", `{}`, nil, nil)
	audio, ok := out.Result.Content[0].(*mcp.AudioContent)
	if !ok || audio.MIMEType != "audio/wav" {
		t.Fatalf("audio: %#v", out.Result.Content)
	}
	w := audio.Data
	le := binary.LittleEndian
	if len(w) < 44 || string(w[:4]) != "RIFF" || int(le.Uint32(w[4:])) != len(w)-8 || string(w[8:16]) != "WAVEfmt " ||
		le.Uint16(w[20:]) != 1 || le.Uint32(w[28:]) != le.Uint32(w[24:])*uint32(le.Uint16(w[32:])) ||
		string(w[36:40]) != "data" || int(le.Uint32(w[40:])) != len(w)-44 {
		t.Errorf("not a valid PCM WAV: % x", w)
	}

	out, _ = call(t, m, "test_embedded_resource", `{}`, nil, nil)
	if r, ok := out.Result.Content[0].(*mcp.EmbeddedResource); !ok || r.Resource.URI != "test://embedded-resource" ||
		r.Resource.MIMEType != "text/plain" || r.Resource.Text != "This is an embedded resource content." {
		t.Errorf("embedded resource: %#v", out.Result.Content)
	}
	out, _ = call(t, m, "test_multiple_content_types", `{}`, nil, nil)
	if c := out.Result.Content; len(c) != 3 || text(out) != "Multiple content types test:" {
		t.Errorf("mixed: %#v", c)
	} else if r, ok := c[2].(*mcp.EmbeddedResource); !ok || r.Resource.URI != "test://mixed-content-resource" || r.Resource.Text != `{"test":"data","value":123}` {
		t.Errorf("mixed resource: %#v", c[2])
	}

	out, ev := call(t, m, "test_tool_with_logging", `{}`, nil, nil)
	if want := []string{"info: Tool execution started", "info: Tool processing data", "info: Tool execution completed"}; !slices.Equal(ev.logs, want) {
		t.Errorf("logs: %q", ev.logs)
	}
	if out.Duration < 2*pause {
		t.Errorf("the log messages came within %v, want %v apart", out.Duration, pause)
	}
	_, ev = call(t, m, "test_tool_with_progress", `{}`, nil, nil)
	if want := []string{"0/100", "50/100", "100/100"}; !slices.Equal(ev.prog, want) {
		t.Errorf("progress: %q", ev.prog)
	}
	if out, _ := call(t, m, "test_error_handling", `{}`, nil, nil); !out.Result.IsError || text(out) != "This tool intentionally returns an error for testing" {
		t.Errorf("error: %v %q", out.Result.IsError, text(out))
	}
	if out, _ := call(t, m, "json_schema_2020_12_tool", `{"name":"Ada","email":"ada@example.com"}`, nil, nil); text(out) != `Received: {"email":"ada@example.com","name":"Ada"}` {
		t.Errorf("json schema tool: %q", text(out))
	}
}

func TestQuestions(t *testing.T) {
	m := load(t)
	for _, tc := range []struct {
		tool, args string
		info       *abi.ClientInfo
		asks       []string
		want       string
	}{
		{"test_sampling", `{"prompt":"Test prompt for sampling"}`, everything, []string{"sample sampling/createMessage"}, "LLM response: The capital of France is Paris."},
		{"test_elicitation", `{"message":"Please provide your information"}`, everything, []string{"elicit elicitation/create"}, `User response: action=accept, content={"email":"Alice","username":"Alice"}`},
		{"test_elicitation_sep1034_defaults", `{}`, everything, []string{"elicit elicitation/create"}, `Elicitation completed: action=accept, content={"age":"Alice",`},
		{"test_elicitation_sep1330_enums", `{}`, everything, []string{"elicit elicitation/create"}, `Elicitation completed: action=accept`},
		{"test_missing_capability", `{}`, nil, []string{"sample sampling/createMessage"}, "The client declared sampling; its model said: The capital of France is Paris."},
		{"test_streaming_elicitation", `{}`, nil, []string{"elicit elicitation/create"}, `Elicitation completed: action=accept, content={"ok":true}`},
		{"test_input_required_result_elicitation", `{}`, nil, []string{"user_name elicitation/create"}, "Hello, Alice!"},
		{"test_input_required_result_sampling", `{}`, nil, []string{"capital_question sampling/createMessage"}, "The client's model answered: The capital of France is Paris."},
		{"test_input_required_result_list_roots", `{}`, nil, []string{"client_roots roots/list"}, "The client's roots: file:///test/root (Test Root)"},
		{"test_input_required_result_request_state", `{}`, nil, []string{"confirm elicitation/create"}, "state-ok: the request state came back intact; confirmed: true"},
		{"test_input_required_result_multiple_inputs", `{}`, nil, []string{"client_roots roots/list, greeting sampling/createMessage, user_name elicitation/create"},
			"name: Alice; greeting: The capital of France is Paris.; roots: file:///test/root (Test Root)"},
		{"test_input_required_result_multi_round", `{}`, nil, []string{"step1 elicitation/create", "step2 elicitation/create"}, "Alice's favorite color is blue."},
		{"test_input_required_result_tampered_state", `{}`, nil, []string{"confirm elicitation/create"}, "confirmed: true"},
		{"test_input_required_result_capabilities", `{}`, everything, []string{"client_roots roots/list, greeting sampling/createMessage, user_name elicitation/create"},
			"name: Alice; greeting: The capital of France is Paris.; roots: file:///test/root (Test Root)"},
		{"test_input_required_result_capabilities", `{}`, &abi.ClientInfo{Capabilities: map[string]json.RawMessage{"sampling": json.RawMessage("{}")}},
			[]string{"greeting sampling/createMessage"}, "greeting: The capital of France is Paris."},
		{"test_input_required_result_capabilities", `{}`, &abi.ClientInfo{}, nil, "The client declared neither elicitation, sampling nor roots"},
		{"test_sampling", `{"prompt":"x"}`, &abi.ClientInfo{}, nil, "the client did not declare the sampling capability"},
		{"test_elicitation", `{"message":"x"}`, nil, nil, "the client did not declare the elicitation capability"},
	} {
		c := &client{}
		out, _ := call(t, m, tc.tool, tc.args, c, tc.info)
		if !strings.HasPrefix(text(out), tc.want) {
			t.Errorf("%s: %q, want %q", tc.tool, text(out), tc.want)
		}
		if !slices.Equal(c.asks, tc.asks) {
			t.Errorf("%s asked\n %q\nwant %q", tc.tool, c.asks, tc.asks)
		}
	}
	// The elicitation schemas the suite checks field by field.
	var schema string
	rec := clientFunc(func(qs map[string]runtime.Question) { schema = string(qs["elicit"].Params) })
	call(t, m, "test_elicitation_sep1034_defaults", `{}`, rec, nil)
	for _, want := range []string{`"name":{"type":"string","description":"Your name","default":"John Doe"}`, `"age":{"type":"integer","description":"Your age","default":30}`,
		`"score":{"type":"number","description":"Your score","default":95.5}`, `"status":{"type":"string","description":"Your status","default":"active","enum":["active","inactive","pending"]}`,
		`"verified":{"type":"boolean","description":"Whether you are verified","default":true}`} {
		if !strings.Contains(schema, want) {
			t.Errorf("sep1034 schema %s lacks %s", schema, want)
		}
	}
	call(t, m, "test_elicitation_sep1330_enums", `{}`, rec, nil)
	for _, want := range []string{`"untitledSingle":{"type":"string","description":"Pick one","enum":["option1","option2","option3"]}`,
		`"titledSingle":{"type":"string","description":"Pick one","oneOf":[{"const":"value1","title":"First Option"},`,
		`"legacyEnum":{"type":"string","description":"Pick one","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]}`,
		`"untitledMulti":{"type":"array","description":"Pick any","items":{"type":"string","enum":["option1","option2","option3"]}}`,
		`"titledMulti":{"type":"array","description":"Pick any","items":{"anyOf":[{"const":"value1","title":"First Choice"},`} {
		if !strings.Contains(schema, want) {
			t.Errorf("sep1330 schema %s lacks %s", schema, want)
		}
	}
}

// clientFunc is a client that shows each ask to f and declines.
type clientFunc func(map[string]runtime.Question)

func (f clientFunc) Ask(ctx context.Context, qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	f(qs)
	answers := map[string]json.RawMessage{}
	for k := range qs {
		answers[k] = json.RawMessage(`{"action":"decline"}`)
	}
	return answers, nil
}
