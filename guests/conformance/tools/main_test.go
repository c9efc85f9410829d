//go:build !wasip1

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/color"
	imagepng "image/png"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

// The tests run the committed module, tools.wasm, through the runtime.

func load(t *testing.T) *runtime.Module { return guesttest.LoadNew(t, "tools.wasm") }

// suiteAnswer answers as the conformance suite's client does.
func suiteAnswer(key string, q runtime.Question) (json.RawMessage, error) {
	switch q.Method {
	case "sampling/createMessage":
		return json.RawMessage(`{"role":"assistant","content":{"type":"text","text":"The capital of France is Paris."},"model":"test-model","stopReason":"endTurn"}`), nil
	case "roots/list":
		return json.RawMessage(`{"roots":[{"uri":"file:///test/root","name":"Test Root"}]}`), nil
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
		return json.Marshal(map[string]any{"action": "accept", "content": content})
	}
	return nil, fmt.Errorf("unexpected question %s %s", key, q.Method)
}

var everything = guesttest.ClientInfo("sampling", "elicitation", "roots")

// call calls tool with every question granted, c as the client and info as
// what the module is told of it.
func call(t *testing.T, m *runtime.Module, tool string, args string, c runtime.Client, info *abi.ClientInfo) guesttest.Result {
	t.Helper()
	return guesttest.CallWith(t, m, runtime.Call{
		Tool: tool, Arguments: json.RawMessage(args), Client: c, ClientInfo: info,
		Grant: runtime.NewGrant(&client.Grant{Sampling: true, Elicitation: true, Roots: true}),
	})
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
	res := call(t, m, "echo_header", `{}`, nil, nil)
	if res.Out.Err != nil || res.Text != "region=" {
		t.Errorf("echo_header {}: %v %q", res.Out.Err, res.Text)
	}
	if res := call(t, m, "test_simple_text", ``, nil, nil); res.Text != "This is a simple text response for testing." {
		t.Errorf("simple text: %q", res.Text)
	}

	res = call(t, m, "test_image_content", `{}`, nil, nil)
	img, ok := res.Content[0].(*mcp.ImageContent)
	if !ok || img.MIMEType != "image/png" {
		t.Fatalf("image: %#v", res.Content)
	}
	decoded, err := imagepng.Decode(bytes.NewReader(img.Data))
	if err != nil || decoded.Bounds().Dx() != 1 || decoded.Bounds().Dy() != 1 || color.RGBAModel.Convert(decoded.At(0, 0)) != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("image is not a 1x1 red PNG: %v", err)
	}

	res = call(t, m, "test_audio_content", `{}`, nil, nil)
	audio, ok := res.Content[0].(*mcp.AudioContent)
	if !ok || audio.MIMEType != "audio/wav" {
		t.Fatalf("audio: %#v", res.Content)
	}
	w := audio.Data
	le := binary.LittleEndian
	if len(w) < 44 || string(w[:4]) != "RIFF" || int(le.Uint32(w[4:])) != len(w)-8 || string(w[8:16]) != "WAVEfmt " ||
		le.Uint16(w[20:]) != 1 || le.Uint32(w[28:]) != le.Uint32(w[24:])*uint32(le.Uint16(w[32:])) ||
		string(w[36:40]) != "data" || int(le.Uint32(w[40:])) != len(w)-44 {
		t.Errorf("not a valid PCM WAV: % x", w)
	}

	res = call(t, m, "test_embedded_resource", `{}`, nil, nil)
	if r, ok := res.Content[0].(*mcp.EmbeddedResource); !ok || r.Resource.URI != "test://embedded-resource" ||
		r.Resource.MIMEType != "text/plain" || r.Resource.Text != "This is an embedded resource content." {
		t.Errorf("embedded resource: %#v", res.Content)
	}
	res = call(t, m, "test_multiple_content_types", `{}`, nil, nil)
	if c := res.Content; len(c) != 3 || res.Text != "Multiple content types test:" {
		t.Errorf("mixed: %#v", c)
	} else if r, ok := c[2].(*mcp.EmbeddedResource); !ok || r.Resource.URI != "test://mixed-content-resource" || r.Resource.Text != `{"test":"data","value":123}` {
		t.Errorf("mixed resource: %#v", c[2])
	}

	res = call(t, m, "test_tool_with_logging", `{}`, nil, nil)
	if want := []string{"info: Tool execution started", "info: Tool processing data", "info: Tool execution completed"}; !slices.Equal(res.Events.Leveled, want) {
		t.Errorf("logs: %q", res.Events.Leveled)
	}
	if res.Out.Duration < 2*pause {
		t.Errorf("the log messages came within %v, want %v apart", res.Out.Duration, pause)
	}
	res = call(t, m, "test_tool_with_progress", `{}`, nil, nil)
	if want := []string{`[0,100,"started"]`, `[50,100,"halfway"]`, `[100,100,"done"]`}; !slices.Equal(res.Events.Reported, want) {
		t.Errorf("progress: %q", res.Events.Reported)
	}
	if res := call(t, m, "test_error_handling", `{}`, nil, nil); !res.IsError || res.Text != "This tool intentionally returns an error for testing" {
		t.Errorf("error: %v %q", res.IsError, res.Text)
	}
	if res := call(t, m, "json_schema_2020_12_tool", `{"name":"Ada","email":"ada@example.com"}`, nil, nil); res.Text != `Received: {"email":"ada@example.com","name":"Ada"}` {
		t.Errorf("json schema tool: %q", res.Text)
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
		c := &guesttest.Client{Answer: suiteAnswer}
		res := call(t, m, tc.tool, tc.args, c, tc.info)
		if !strings.HasPrefix(res.Text, tc.want) {
			t.Errorf("%s: %q, want %q", tc.tool, res.Text, tc.want)
		}
		if asks := c.Asked(); !slices.Equal(asks, tc.asks) {
			t.Errorf("%s asked\n %q\nwant %q", tc.tool, asks, tc.asks)
		}
	}
	// The elicitation schemas the suite checks field by field.
	schema := func(tool string) string {
		t.Helper()
		rec := &guesttest.Client{Answer: guesttest.Answering(`{"action":"decline"}`)}
		call(t, m, tool, `{}`, rec, nil)
		asks := rec.Asks()
		return string(asks[len(asks)-1]["elicit"].Params)
	}
	sep1034 := schema("test_elicitation_sep1034_defaults")
	for _, want := range []string{`"name":{"type":"string","description":"Your name","default":"John Doe"}`, `"age":{"type":"integer","description":"Your age","default":30}`,
		`"score":{"type":"number","description":"Your score","default":95.5}`, `"status":{"type":"string","description":"Your status","default":"active","enum":["active","inactive","pending"]}`,
		`"verified":{"type":"boolean","description":"Whether you are verified","default":true}`} {
		if !strings.Contains(sep1034, want) {
			t.Errorf("sep1034 schema %s lacks %s", sep1034, want)
		}
	}
	sep1330 := schema("test_elicitation_sep1330_enums")
	for _, want := range []string{`"untitledSingle":{"type":"string","description":"Pick one","enum":["option1","option2","option3"]}`,
		`"titledSingle":{"type":"string","description":"Pick one","oneOf":[{"const":"value1","title":"First Option"},`,
		`"legacyEnum":{"type":"string","description":"Pick one","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]}`,
		`"untitledMulti":{"type":"array","description":"Pick any","items":{"type":"string","enum":["option1","option2","option3"]}}`,
		`"titledMulti":{"type":"array","description":"Pick any","items":{"anyOf":[{"const":"value1","title":"First Choice"},`} {
		if !strings.Contains(sep1330, want) {
			t.Errorf("sep1330 schema %s lacks %s", sep1330, want)
		}
	}
}
