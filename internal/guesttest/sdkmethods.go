package guesttest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/runtime"
)

// The checks below are of an SDK test module that serves the same tools
// (content, client, ask, notify), resources (test://static, test://blob,
// test://doc/{id}), prompts (greet, plain) and completions the same way in
// every language that builds one: the Rust SDK's sdktest and the
// AssemblyScript SDK's hostcheck. Each language's tests call them with its
// module; what a language does differently belongs in its own tests.

// SDKClientInfo is the client the SDK checks describe to the module.
func SDKClientInfo() *abi.ClientInfo { return ClientInfo("sampling", "elicitation", "roots") }

// SDKAnswer answers the SDK test module's questions as an MCP client
// would: the model says 4, the user gives the name Ada and declines any
// other elicitation, and the client has one root.
func SDKAnswer(key string, q runtime.Question) (json.RawMessage, error) {
	switch {
	case q.Method == client.MethodSample:
		return json.RawMessage(`{"role":"assistant","content":{"type":"text","text":"4"},"model":"fake-1","stopReason":"endTurn"}`), nil
	case q.Method == client.MethodRoots:
		return json.RawMessage(`{"roots":[{"uri":"file:///home/ada","name":"home"}]}`), nil
	case strings.Contains(string(q.Params), "Your name?"):
		return json.RawMessage(`{"action":"accept","content":{"name":"Ada"}}`), nil
	}
	return json.RawMessage(`{"action":"decline"}`), nil
}

// callOK makes call c, failing the test unless it succeeds.
func callOK(t *testing.T, m *runtime.Module, c runtime.Call) Result {
	t.Helper()
	res := CallWith(t, m, c)
	if res.Out.Err != nil {
		t.Fatalf("%s %s: %v", c.Tool, c.Arguments, res.Out.Err)
	}
	return res
}

// CheckSDKContent checks the tool content's items: audio, resource links
// and embedded resources.
func CheckSDKContent(t *testing.T, m *runtime.Module) {
	res := callOK(t, m, runtime.Call{Tool: "content", Arguments: json.RawMessage(`{}`)})
	want := `[{"type":"audio","mimeType":"audio/wav","data":"UklGRv8="},` +
		`{"type":"resource_link","uri":"test://doc/1","name":"doc 1"},` +
		`{"type":"resource_link","mimeType":"text/plain","uri":"test://static","name":"static","description":"A fixed text."},` +
		`{"type":"resource","resource":{"uri":"test://doc/2","mimeType":"text/markdown","text":"# two"}},` +
		`{"type":"resource","resource":{"uri":"test://blob","blob":"AAEC"}}]`
	if got := JSON(t, res.Content); res.IsError || got != want {
		t.Errorf("content:\n got %s\nwant %s", got, want)
	}
}

// CheckSDKClientInfo checks what the module is told of the client: the
// client's description, or none.
func CheckSDKClientInfo(t *testing.T, m *runtime.Module) {
	call := func(info *abi.ClientInfo) string {
		return JSON(t, callOK(t, m, runtime.Call{Tool: "client", ClientInfo: info}).Out.Result.StructuredContent)
	}
	want := `{"capabilities":{"elicitation":{},"roots":{"listChanged":true},"sampling":{}},"protocolVersion":"2025-11-25","supports":["sampling","elicitation","roots"]}`
	if got := call(SDKClientInfo()); got != want {
		t.Errorf("with a client:\n got %s\nwant %s", got, want)
	}
	if got, want := call(nil), `{"capabilities":null,"protocolVersion":"","supports":[]}`; got != want {
		t.Errorf("without a client: got %s, want %s", got, want)
	}
}

// CheckSDKAsk checks sample, sample_text, elicit and ask: what reaches the
// client, what comes back, and each way they fail.
func CheckSDKAsk(t *testing.T, m *runtime.Module) {
	all := runtime.NewGrant(&client.Grant{Sampling: true, Elicitation: true, Roots: true})
	run := func(g *runtime.Grant, c runtime.Client) map[string]map[string]any {
		t.Helper()
		res := callOK(t, m, runtime.Call{Tool: "ask", Grant: g, Client: c, ClientInfo: SDKClientInfo()})
		return Decode[map[string]map[string]any](t, res.Out.Result.StructuredContent)
	}

	fc := &Client{Answer: SDKAnswer}
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
	questions := fc.Questions()
	asked := strings.Join(questions, "\n")
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
	if len(questions) != 5 {
		t.Errorf("%d questions reached the client, want 5:\n%s", len(questions), asked)
	}

	// Without the grants every question is denied before the client is asked.
	fc = &Client{Answer: SDKAnswer}
	got = run(nil, fc)
	for _, k := range []string{"sample_text", "sample", "elicit", "ask", "bad_sample"} {
		if got[k]["status"] != "denied" || !strings.Contains(got[k]["held"].(string), "not granted") {
			t.Errorf("%s without a grant = %v", k, got[k])
		}
	}
	if qs := fc.Questions(); len(qs) != 0 {
		t.Errorf("questions reached the client without a grant: %q", qs)
	}
	// A client that fails, and no client at all.
	for name, c := range map[string]runtime.Client{"failing client": &Client{Answer: SDKAnswer, Err: errors.New("user went away")}, "no client": nil} {
		got = run(all, c)
		for _, k := range []string{"sample_text", "sample", "elicit", "ask"} {
			if got[k]["status"] != "failed" || got[k]["code"] != -3.0 || got[k]["held"] == "" {
				t.Errorf("%s: %s = %v, want failed", name, k, got[k])
			}
		}
	}
	// On a protocol where answers come with a later request, the guest is
	// stopped at its first question.
	out, err := m.Call(context.Background(), runtime.Call{Tool: "ask", Grant: all, Client: &Client{Answer: SDKAnswer, Err: runtime.ErrInputRequired}})
	if err != nil || out.Err == nil || out.Err.Kind != runtime.KindInputRequired {
		t.Errorf("input required: %v %+v", err, out.Err)
	}
}

// CheckSDKResourceUpdated checks notify: the module reports its own
// resources updated, and refuses an empty or foreign URI.
func CheckSDKResourceUpdated(t *testing.T, m *runtime.Module) {
	ev := &Events{}
	notify := func(uri string) map[string]map[string]any {
		res := callOK(t, m, runtime.Call{Tool: "notify", Arguments: json.RawMessage(`{"uri":` + JSON(t, uri) + `}`), Events: ev})
		return Decode[map[string]map[string]any](t, res.Out.Result.StructuredContent)
	}
	for _, uri := range []string{"test://static", "test://doc/42"} {
		if got := notify(uri); got["uri"]["status"] != "ok" || got["empty"]["status"] != "invalid" {
			t.Errorf("notify %s = %v", uri, got)
		}
	}
	if got := notify("test://other"); got["uri"]["status"] != "not_found" || got["uri"]["code"] != -5.0 || !strings.Contains(got["uri"]["held"].(string), "test://other") {
		t.Errorf("notify of a foreign URI = %v", got)
	}
	if got := strings.Join(ev.Updated, " "); got != "test://static test://doc/42" {
		t.Errorf("updated = %q", got)
	}
}

// CheckSDKResources checks resources/read of the static, blob and
// templated resources, and its errors.
func CheckSDKResources(t *testing.T, m *runtime.Module) {
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
		res := ReadResource(t, m, tc.uri, tc.match, runtime.Call{ClientInfo: SDKClientInfo()})
		if got := JSON(t, res.Contents); got != tc.want {
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

// CheckSDKPrompts checks prompts/get of greet and plain, and its errors.
func CheckSDKPrompts(t *testing.T, m *runtime.Module) {
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
		p := GetPrompt(t, m, tc.name, tc.args, runtime.Call{ClientInfo: SDKClientInfo()})
		if got := JSON(t, p); got != tc.want && !strings.Contains(got, tc.want) {
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

// CheckSDKCompletions checks completion/complete of the greet prompt's
// arguments and the doc template's id, and of an unknown argument.
func CheckSDKCompletions(t *testing.T, m *runtime.Module) {
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
		c := Complete(t, m, tc.p).Completion
		if !slices.Equal(c.Values, tc.values) || c.Total != tc.total || c.HasMore != tc.hasMore {
			t.Errorf("complete %+v = %q total %d hasMore %v, want %q %d %v", tc.p, c.Values, c.Total, c.HasMore, tc.values, tc.total, tc.hasMore)
		}
	}
	out, err := m.Complete(context.Background(), abi.CompleteParams{Ref: prompt, Argument: abi.CompleteArgument{Name: "mood"}}, runtime.Call{})
	if err != nil || out.GuestError == nil || out.GuestError.Code != abi.ErrorCodeInvalidParams || !strings.Contains(out.GuestError.Message, "mood") {
		t.Errorf("complete mood: %v %+v", err, out.GuestError)
	}
}
