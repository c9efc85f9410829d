// Tests of the AssemblyScript SDK's resources, prompts, completions,
// content items, client description and the questions it puts to the
// client, through the runtime (the module is testdata/hostcheck).
package assemblyscript_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/runtime"
)

// fakeClient answers the questions of sample, elicit and ask as an MCP
// client would, and records them as "key method params" lines.
type fakeClient struct {
	mu        sync.Mutex
	questions []string
	err       error
}

func (c *fakeClient) Ask(ctx context.Context, qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	answers := map[string]json.RawMessage{}
	for k, q := range qs {
		c.questions = append(c.questions, k+" "+q.Method+" "+string(q.Params))
		switch {
		case q.Method == client.MethodSample:
			answers[k] = json.RawMessage(`{"role":"assistant","content":{"type":"text","text":"4"},"model":"fake-1","stopReason":"endTurn"}`)
		case q.Method == client.MethodRoots:
			answers[k] = json.RawMessage(`{"roots":[{"uri":"file:///home/ada","name":"home"}]}`)
		case strings.Contains(string(q.Params), "Your name?"):
			answers[k] = json.RawMessage(`{"action":"accept","content":{"name":"Ada"}}`)
		default:
			answers[k] = json.RawMessage(`{"action":"decline"}`)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	return answers, nil
}

// updates records resource updates.
type updates struct {
	mu      sync.Mutex
	updated []string
}

func (e *updates) Log(abi.LogLevel, string)          {}
func (e *updates) Progress(float64, float64, string) {}
func (e *updates) ResourceUpdated(uri string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.updated = append(e.updated, uri)
}

var testClient = &abi.ClientInfo{ProtocolVersion: "2025-11-25", Capabilities: map[string]json.RawMessage{
	"sampling": json.RawMessage(`{}`), "elicitation": json.RawMessage(`{}`), "roots": json.RawMessage(`{"listChanged":true}`),
}}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSDKContent(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	out, err := m.Call(context.Background(), runtime.Call{Tool: "content"})
	if err != nil || out.Err != nil {
		t.Fatalf("content: %v %v", err, out.Err)
	}
	want := `[{"type":"audio","mimeType":"audio/wav","data":"UklGRv8="},` +
		`{"type":"resource_link","uri":"test://doc/1","name":"doc 1"},` +
		`{"type":"resource_link","mimeType":"text/plain","uri":"test://static","name":"static","description":"A fixed text."},` +
		`{"type":"resource","resource":{"uri":"test://doc/2","mimeType":"text/markdown","text":"# two"}},` +
		`{"type":"resource","resource":{"uri":"test://blob","blob":"AAEC"}}]`
	if got := toJSON(t, out.Result.Content); got != want {
		t.Errorf("content:\n got %s\nwant %s", got, want)
	}
}

func TestSDKClientInfo(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	call := func(info *abi.ClientInfo) string {
		out, err := m.Call(context.Background(), runtime.Call{Tool: "client", ClientInfo: info})
		if err != nil || out.Err != nil {
			t.Fatalf("client: %v %v", err, out.Err)
		}
		return toJSON(t, out.Result.StructuredContent)
	}
	want := `{"capabilities":{"elicitation":{},"roots":{"listChanged":true},"sampling":{}},"protocolVersion":"2025-11-25","supports":["sampling","elicitation","roots"]}`
	if got := call(testClient); got != want {
		t.Errorf("with a client:\n got %s\nwant %s", got, want)
	}
	if got, want := call(nil), `{"capabilities":null,"protocolVersion":"","supports":[]}`; got != want {
		t.Errorf("without a client: got %s, want %s", got, want)
	}
}

// TestSDKAsk checks sample, sample_text, elicit and ask: what reaches the
// client, what comes back, and each way they fail.
func TestSDKAsk(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	all := &runtime.Grant{Sampling: true, Elicitation: true, Roots: true}
	run := func(g *runtime.Grant, c runtime.Client) map[string]map[string]any {
		t.Helper()
		out, err := m.Call(context.Background(), runtime.Call{Tool: "ask", Grant: g, Client: c, ClientInfo: testClient})
		if err != nil || out.Err != nil {
			t.Fatalf("ask: %v %v", err, out.Err)
		}
		var got map[string]map[string]any
		json.Unmarshal([]byte(toJSON(t, out.Result.StructuredContent)), &got)
		return got
	}

	fc := &fakeClient{}
	got := run(all, fc)
	for k, want := range map[string]string{
		"sample_text": "4",
		"sample":      `{"role":"assistant","content":{"type":"text","text":"4"},"model":"fake-1","stopReason":"endTurn"}`,
		"elicit":      `{"action":"accept","content":{"name":"Ada"}}`,
		"ask":         `{"color":{"action":"decline"},"roots":{"roots":[{"uri":"file:///home/ada","name":"home"}]}}`,
	} {
		if got[k]["status"] != "ok" || got[k]["held"] != want {
			t.Errorf("%s = %v, want %s", k, got[k], want)
		}
	}
	for _, k := range []string{"bad_sample", "bad_ask"} {
		if got[k]["status"] != "invalid" || got[k]["code"] != -1.0 || got[k]["held"] == "" {
			t.Errorf("%s = %v, want invalid with a message", k, got[k])
		}
	}
	asked := strings.Join(fc.questions, "\n")
	for _, want := range []string{
		`sample sampling/createMessage {"messages":[{"role":"user","content":{"type":"text","text":"What is 2+2?"}}],"maxTokens":50}`,
		`sample sampling/createMessage {"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":10,"systemPrompt":"be brief"}`,
		`elicit elicitation/create {"message":"Your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}`,
		`roots roots/list {}`,
		`color elicitation/create {"message":"Favourite colour?","requestedSchema":{"type":"object","properties":{"color":{"type":"string"}}}}`,
	} {
		if !strings.Contains(asked, want) {
			t.Errorf("the client was not asked %s; it was asked:\n%s", want, asked)
		}
	}
	if len(fc.questions) != 5 {
		t.Errorf("%d questions reached the client, want 5:\n%s", len(fc.questions), asked)
	}

	// Without the grants every question is denied before the client is asked.
	fc = &fakeClient{}
	got = run(nil, fc)
	for _, k := range []string{"sample_text", "sample", "elicit", "ask", "bad_sample"} {
		if got[k]["status"] != "denied" || !strings.Contains(got[k]["held"].(string), "not granted") {
			t.Errorf("%s without a grant = %v", k, got[k])
		}
	}
	if len(fc.questions) != 0 {
		t.Errorf("questions reached the client without a grant: %q", fc.questions)
	}
	// A client that fails, and no client at all.
	for name, c := range map[string]runtime.Client{"failing client": &fakeClient{err: errors.New("user went away")}, "no client": nil} {
		got = run(all, c)
		for _, k := range []string{"sample_text", "sample", "elicit", "ask"} {
			if got[k]["status"] != "failed" || got[k]["code"] != -3.0 || got[k]["held"] == "" {
				t.Errorf("%s: %s = %v, want failed", name, k, got[k])
			}
		}
	}
	// On a protocol where answers come with a later request, the guest is
	// stopped at its first question.
	out, err := m.Call(context.Background(), runtime.Call{Tool: "ask", Grant: all, Client: &fakeClient{err: runtime.ErrInputRequired}})
	if err != nil || out.Err == nil || out.Err.Kind != runtime.KindInputRequired {
		t.Errorf("input required: %v %+v", err, out.Err)
	}
}

func TestSDKResourceUpdated(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	ev := &updates{}
	notify := func(uri string) map[string]map[string]any {
		out, err := m.Call(context.Background(), runtime.Call{Tool: "notify", Arguments: json.RawMessage(`{"uri":` + toJSON(t, uri) + `}`), Events: ev})
		if err != nil || out.Err != nil {
			t.Fatalf("notify %s: %v %v", uri, err, out.Err)
		}
		var got map[string]map[string]any
		json.Unmarshal([]byte(toJSON(t, out.Result.StructuredContent)), &got)
		return got
	}
	for _, uri := range []string{"test://static", "test://doc/42"} {
		if got := notify(uri); got["uri"]["status"] != "ok" || got["empty"]["status"] != "invalid" {
			t.Errorf("notify %s = %v", uri, got)
		}
	}
	if got := notify("test://other"); got["uri"]["status"] != "not_found" || got["uri"]["code"] != -5.0 || !strings.Contains(got["uri"]["held"].(string), "test://other") {
		t.Errorf("notify of a foreign URI = %v", got)
	}
	if got := strings.Join(ev.updated, " "); got != "test://static test://doc/42" {
		t.Errorf("updated = %q", got)
	}
}

func TestSDKResources(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	doc := func(id string) *abi.TemplateMatch {
		return &abi.TemplateMatch{URITemplate: "test://doc/{id}", Variables: map[string]string{"id": id}}
	}
	for _, tc := range []struct {
		uri   string
		match *abi.TemplateMatch
		want  string
	}{
		{"test://static", nil, `[{"uri":"test://static","mimeType":"text/plain","text":"static text at test://static for 2025-11-25"}]`},
		{"test://blob", nil, `[{"uri":"test://blob","mimeType":"application/octet-stream","blob":"AAEC/v8="},{"uri":"test://blob#note","mimeType":"text/markdown","text":"# a note"}]`},
		{"test://doc/7", doc("7"), `[{"uri":"test://doc/7","mimeType":"text/markdown","text":"doc 7 of test://doc/{id} (id=7)"}]`}, // the declared mimeType,
	} {
		out, err := m.ReadResource(context.Background(), tc.uri, tc.match, runtime.Call{ClientInfo: testClient})
		if err != nil || out.Err != nil {
			t.Fatalf("read %s: %v %v", tc.uri, err, out.Err)
		}
		if got := toJSON(t, out.Resource.Contents); got != tc.want {
			t.Errorf("read %s:\n got %s\nwant %s", tc.uri, got, tc.want)
		}
	}
	for _, tc := range []struct {
		uri   string
		match *abi.TemplateMatch
		code  int64
		msg   string
	}{
		{"test://doc/missing", doc("missing"), abi.ErrorCodeNotFound, "no such document: missing"},
		{"test://doc/bad", doc("bad"), abi.ErrorCodeInvalidParams, "bad document id"},
		{"test://doc/host", doc("host"), abi.ErrorCodeInternal, "denied: "},
		{"test://doc/x", &abi.TemplateMatch{URITemplate: "test://doc/{id}"}, abi.ErrorCodeInternal, "no id"},
		{"test://nowhere", nil, abi.ErrorCodeNotFound, `this module does not serve the resource "test://nowhere"`},
	} {
		out, err := m.ReadResource(context.Background(), tc.uri, tc.match, runtime.Call{})
		if err != nil || out.GuestError == nil || out.GuestError.Code != tc.code || !strings.HasPrefix(out.GuestError.Message, tc.msg) {
			t.Errorf("read %s: %v %+v, want error %d %q", tc.uri, err, out.GuestError, tc.code, tc.msg)
		}
	}
}

func TestSDKPrompts(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	for _, tc := range []struct {
		name string
		args map[string]string
		want string
	}{
		{"greet", map[string]string{"who": "Ada"}, `{"description":"A greeting for Ada","messages":[` +
			`{"content":{"type":"text","text":"Say hello to Ada."},"role":"user"},` +
			`{"content":{"type":"text","text":"Hello!"},"role":"assistant"},` +
			`{"content":{"type":"image","mimeType":"image/png","data":"iVBORw=="},"role":"user"},` +
			`{"content":{"type":"resource","resource":{"uri":"test://static","mimeType":"text/plain","text":"embedded"}},"role":"assistant"}]}`},
		{"greet", map[string]string{"who": "Ada", "style": "loud"}, `SAY HELLO TO ADA!`},
		{"plain", map[string]string{"a": "1", "b": "x\"y"}, `{"messages":[{"content":{"type":"text","text":"arguments: a=1,b=x\"y; client 2025-11-25"},"role":"user"}]}`},
		{"plain", nil, `{"messages":[{"content":{"type":"text","text":"arguments: ; client 2025-11-25"},"role":"user"}]}`},
	} {
		out, err := m.GetPrompt(context.Background(), tc.name, tc.args, runtime.Call{ClientInfo: testClient})
		if err != nil || out.Err != nil {
			t.Fatalf("prompt %s %v: %v %v", tc.name, tc.args, err, out.Err)
		}
		if got := toJSON(t, out.Prompt); got != tc.want && !strings.Contains(got, tc.want) {
			t.Errorf("prompt %s %v:\n got %s\nwant %s", tc.name, tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args map[string]string
		code int64
		msg  string
	}{
		{map[string]string{}, abi.ErrorCodeInvalidParams, `missing argument "who"`},
		{map[string]string{"who": "Ada", "style": "odd"}, abi.ErrorCodeInvalidParams, `unknown style "odd"`},
	} {
		out, err := m.GetPrompt(context.Background(), "greet", tc.args, runtime.Call{})
		if err != nil || out.GuestError == nil || out.GuestError.Code != tc.code || out.GuestError.Message != tc.msg {
			t.Errorf("prompt greet %v: %v %+v, want error %d %q", tc.args, err, out.GuestError, tc.code, tc.msg)
		}
	}
}

func TestSDKCompletions(t *testing.T) {
	m := load(t, newRuntime(t), "testdata/hostcheck/hostcheck.wasm")
	prompt := abi.CompleteRef{Type: "ref/prompt", Name: "greet"}
	doc := abi.CompleteRef{Type: "ref/resource", URI: "test://doc/{id}"}
	upTo := func(from, to int) []string {
		var s []string
		for i := from; i <= to; i++ {
			s = append(s, strconv.Itoa(i))
		}
		return s
	}
	for _, tc := range []struct {
		p       abi.CompleteParams
		values  []string
		total   int
		hasMore bool
	}{
		{abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "who", Value: "A"}}, []string{"Ada", "Alan", "alonzo"}, 3, false},
		{abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "who", Value: "gr"}}, []string{"Grace"}, 1, false},
		{abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "who", Value: "z"}}, []string{}, 0, false},
		{abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "style"}, Context: &abi.CompleteContext{Arguments: map[string]string{"who": "Ada"}}},
			[]string{"plain for Ada", "loud for Ada"}, 0, false},
		{abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "style"}}, []string{"plain for nobody", "loud for nobody"}, 0, false},
		{abi.CompleteParams{Ref: doc, Argument: abi.CompleteArgument{Name: "id", Value: "14"}}, []string{"14", "140", "141", "142", "143", "144", "145", "146", "147", "148", "149"}, 11, false},
		{abi.CompleteParams{Ref: doc, Argument: abi.CompleteArgument{Name: "id"}}, upTo(1, 100), 150, true},
	} {
		out, err := m.Complete(context.Background(), tc.p, runtime.Call{})
		if err != nil || out.Err != nil {
			t.Fatalf("complete %+v: %v %v", tc.p, err, out.Err)
		}
		c := out.Completion.Completion
		if !slices.Equal(c.Values, tc.values) || c.Total != tc.total || c.HasMore != tc.hasMore {
			t.Errorf("complete %+v = %q total %d hasMore %v, want %q %d %v", tc.p, c.Values, c.Total, c.HasMore, tc.values, tc.total, tc.hasMore)
		}
	}
	out, err := m.Complete(context.Background(), abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "mood"}}, runtime.Call{})
	if err != nil || out.GuestError == nil || out.GuestError.Code != abi.ErrorCodeInvalidParams || !strings.Contains(out.GuestError.Message, "mood") {
		t.Errorf("complete mood: %v %+v", err, out.GuestError)
	}
}
