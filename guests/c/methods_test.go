// Tests of the C SDK's resources, prompts, completions and questions for
// the client, through the runtime.
package ctools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

// loadSDKTest loads the SDK's test module in a runtime with every
// capability host function, the client's (sample, elicit, ask) included.
func loadSDKTest(t *testing.T) *runtime.Module {
	return guesttest.LoadNew(t, "sdk/testdata/sdktest/sdktest.wasm")
}

func TestSDKContentItems(t *testing.T) {
	m := loadSDKTest(t)
	res := guesttest.Call(t, m, "content", `{}`, nil)
	if res.IsError {
		t.Fatalf("content = %+v", res)
	}
	guesttest.SameJSON(t, "content", res.Content, `[
		{"type":"text","text":"items follow"},
		{"type":"audio","mimeType":"audio/wav","data":"UklGRgD/"},
		{"type":"resource","resource":{"uri":"sdk://static","mimeType":"text/plain","text":"embedded \"text\""}},
		{"type":"resource","resource":{"uri":"sdk://blob","blob":"UklGRgD/"}},
		{"type":"resource_link","uri":"sdk://doc/7","name":"doc 7","mimeType":"application/json"}]`)
	// A writer of another method fails the call, naming it.
	res = guesttest.Call(t, m, "misuse", `{}`, nil)
	if !res.IsError || res.Text != "wg_contents_text is for resources/read results, not for a tools/call request: see wasmgate.h" {
		t.Errorf("misuse = %+v", res)
	}
}

func TestSDKClientInfo(t *testing.T) {
	m := loadSDKTest(t)
	info := guesttest.ClientInfo("elicitation", "roots")
	for _, tc := range []struct {
		info *abi.ClientInfo
		want string
	}{
		{info, "protocol=2025-11-25 sampling=0 elicitation=1 roots=1"},
		{nil, "protocol=- sampling=0 elicitation=0 roots=0"},
	} {
		out, err := m.Call(context.Background(), runtime.Call{Tool: "client", ClientInfo: tc.info})
		if err != nil || out.Err != nil {
			t.Fatalf("client: %v %v", err, out.Err)
		}
		guesttest.SameJSON(t, "client", guesttest.ToolResult(out).Content, `[{"type":"text","text":"`+tc.want+`"}]`)
	}
}

func TestSDKSampleElicitAsk(t *testing.T) {
	m := loadSDKTest(t)
	fc := &guesttest.Client{Answer: guesttest.ByMethod(map[string]string{
		client.MethodSample: `{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m","stopReason":"endTurn"}`,
		client.MethodElicit: `{"action":"accept","content":{"name":"Ada"}}`,
		client.MethodRoots:  `{"roots":[{"uri":"file:///r","name":"r"}]}`,
	})}
	all := runtime.NewGrant(&client.Grant{Sampling: true, Elicitation: true, Roots: true})
	call := func(fn, req string, g *runtime.Grant, c runtime.Client) (status float64, name, held string) {
		t.Helper()
		args, _ := json.Marshal(map[string]string{"fn": fn, "request": req})
		out, err := m.Call(context.Background(), runtime.Call{Tool: "ask_client", Arguments: args, Grant: g, Client: c})
		if err != nil || out.Err != nil {
			t.Fatalf("%s %s: %v %v", fn, req, err, out.Err)
		}
		r := guesttest.Decode[map[string]map[string]any](t, out.Result.StructuredContent)[fn]
		return r["status"].(float64), r["name"].(string), r["held"].(string)
	}

	sample := `{"messages":[{"role":"user","content":{"type":"text","text":"hello?"}}],"maxTokens":5}`
	st, _, held := call("sample", sample, all, fc)
	if st != float64(len(held)) || !strings.Contains(held, `"model":"m"`) {
		t.Errorf("sample = %v %q", st, held)
	}
	elicit := `{"message":"Your name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}}}`
	st, _, held = call("elicit", elicit, all, fc)
	if st != float64(len(held)) || held != `{"action":"accept","content":{"name":"Ada"}}` {
		t.Errorf("elicit = %v %q", st, held)
	}
	ask := `{"who":{"method":"elicitation/create","params":` + elicit + `},"roots":{"method":"roots/list","params":{}}}`
	st, _, held = call("ask", ask, all, fc)
	var answers map[string]json.RawMessage
	if st != float64(len(held)) || json.Unmarshal([]byte(held), &answers) != nil || len(answers) != 2 ||
		string(answers["roots"]) != `{"roots":[{"uri":"file:///r","name":"r"}]}` {
		t.Errorf("ask = %v %q", st, held)
	}
	if asked := fc.Asks(); len(asked) != 3 || asked[0]["sample"].Method != client.MethodSample || asked[1]["elicit"].Method != client.MethodElicit ||
		asked[2]["who"].Method != client.MethodElicit || asked[2]["roots"].Method != client.MethodRoots {
		t.Errorf("the client was asked %+v", asked)
	}

	// Errors: each with its status and the host's message.
	failing := &guesttest.Client{Err: errors.New("the user closed the window")}
	for _, tc := range []struct {
		fn, req string
		g       *runtime.Grant
		c       runtime.Client
		want    string
	}{
		{"sample", sample, nil, fc, "denied"},
		{"elicit", elicit, runtime.NewGrant(&client.Grant{Sampling: true}), fc, "denied"},
		{"ask", `{"r":{"method":"roots/list"}}`, runtime.NewGrant(&client.Grant{Elicitation: true}), fc, "denied"},
		{"sample", `{"maxTokens":5}`, all, fc, "invalid"},
		{"elicit", `not json`, all, fc, "invalid"},
		{"ask", `{"bad key!":{"method":"roots/list"}}`, all, fc, "invalid"},
		{"elicit", elicit, all, failing, "failed"},
		{"sample", sample, all, nil, "failed"},
	} {
		st, name, held := call(tc.fn, tc.req, tc.g, tc.c)
		if name != tc.want || st >= 0 || !strings.HasPrefix(held, tc.fn+": ") {
			t.Errorf("%s %s = %v %s %q, want %s with a message", tc.fn, tc.req, st, name, held, tc.want)
		}
	}
}

func TestSDKResourceUpdated(t *testing.T) {
	m := loadSDKTest(t)
	for _, tc := range []struct{ uri, want string }{
		{"sdk://static", "ok"},
		{"sdk://doc/42", "ok"},
		{"sdk://elsewhere", "not_found"},
		{"", "invalid"},
	} {
		ev := &guesttest.Events{}
		args, _ := json.Marshal(map[string]string{"uri": tc.uri})
		out, err := m.Call(context.Background(), runtime.Call{Tool: "updated", Arguments: args, Events: ev})
		if err != nil || out.Err != nil {
			t.Fatalf("updated %q: %v %v", tc.uri, err, out.Err)
		}
		s := guesttest.Decode[map[string]map[string]any](t, out.Result.StructuredContent)
		if got := s["updated"]["name"]; got != tc.want {
			t.Errorf("updated %q = %v, want %s", tc.uri, s["updated"], tc.want)
		}
		if reported := len(ev.Updated) == 1 && ev.Updated[0] == tc.uri; reported != (tc.want == "ok") {
			t.Errorf("updated %q: reported %q", tc.uri, ev.Updated)
		}
	}
}

func TestSDKReadResource(t *testing.T) {
	m := loadSDKTest(t)
	ctx := context.Background()
	ev := &guesttest.Events{}
	res := guesttest.ReadResource(t, m, "sdk://static", nil, runtime.Call{Events: ev})
	guesttest.SameJSON(t, "read sdk://static", res.Contents, `[
		{"uri":"sdk://static","mimeType":"text/plain","text":"static text"},
		{"uri":"sdk://static#bytes","mimeType":"application/octet-stream","blob":"AAEC/v8="}]`)
	if got := strings.Join(ev.Logs, "|"); got != "sdk://static" {
		t.Errorf("logs = %q", got)
	}

	doc := func(id string, vars map[string]string) *runtime.Outcome {
		t.Helper()
		out, err := m.ReadResource(ctx, "sdk://doc/"+id, &abi.TemplateMatch{URITemplate: "sdk://doc/{id}", Variables: vars}, runtime.Call{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := doc("42", map[string]string{"id": "42"})
	if out.Err != nil {
		t.Fatalf("doc 42: %v", out.Err)
	}
	guesttest.SameJSON(t, "doc 42", out.Resource.Contents, `[{"uri":"sdk://doc/42","mimeType":"application/json",
		"text":"{\"id\":\"42\",\"uri\":\"sdk://doc/42\",\"template\":\"sdk://doc/{id}\",\"method\":\"resources/read\"}"}]`)
	guesttest.WantGuestError(t, "doc missing", doc("missing", map[string]string{"id": "missing"}), abi.ErrorCodeNotFound, "no document missing")
	guesttest.WantGuestError(t, "doc without id", doc("", map[string]string{}), abi.ErrorCodeInvalidParams, `missing required argument "id" (a string)`)
	guesttest.WantGuestError(t, "doc tool", doc("tool", map[string]string{"id": "tool"}), abi.ErrorCodeInternal,
		"wg_text is for tools/call and prompts/get results, not for a resources/read request")

	out, _ = m.ReadResource(ctx, "sdk://nohandler", nil, runtime.Call{})
	guesttest.WantGuestError(t, "no handler", out, abi.ErrorCodeInternal, `unknown resource "sdk://nohandler": the module declares it but registers no handler; call wg_resource("sdk://nohandler", handler) before wg_main`)
	out, _ = m.ReadResource(ctx, "sdk://other/1", &abi.TemplateMatch{URITemplate: "sdk://other/{x}", Variables: map[string]string{"x": "1"}}, runtime.Call{})
	guesttest.WantGuestError(t, "no template handler", out, abi.ErrorCodeInternal, `unknown resource template "sdk://other/{x}": the module declares it but registers no handler; call wg_resource_template("sdk://other/{x}", handler)`)
}

func TestSDKGetPrompt(t *testing.T) {
	m := loadSDKTest(t)
	ctx := context.Background()
	p := guesttest.GetPrompt(t, m, "greet", map[string]string{"who": "Ada \"L\""}, runtime.Call{})
	guesttest.SameJSON(t, "greet", p, `{"description":"A greeting.","messages":[
		{"role":"user","content":{"type":"text","text":"Greet Ada \"L\"."}},
		{"role":"user","content":{"type":"image","mimeType":"image/png","data":"iVBORw=="}},
		{"role":"user","content":{"type":"resource","resource":{"uri":"sdk://static","mimeType":"text/plain","text":"static text"}}},
		{"role":"assistant","content":{"type":"text","text":"Hello, Ada \"L\"!"}}]}`)

	out, _ := m.GetPrompt(ctx, "greet", map[string]string{"who": "x", "mood": "y"}, runtime.Call{})
	guesttest.WantGuestError(t, "greet mood", out, abi.ErrorCodeInvalidParams, `unknown argument "mood": this prompt takes only "who" and "style"`)
	out, _ = m.GetPrompt(ctx, "bad", nil, runtime.Call{})
	guesttest.WantGuestError(t, "bad", out, abi.ErrorCodeInternal, "wg_structured is for tools/call results, not for a prompts/get request")
	out, _ = m.GetPrompt(ctx, "nohandler", nil, runtime.Call{})
	guesttest.WantGuestError(t, "nohandler", out, abi.ErrorCodeInternal, `unknown prompt "nohandler"`)

	// context asks the user through ask, when the client can answer.
	elicitation := guesttest.ClientInfo("elicitation")
	grant := runtime.NewGrant(&client.Grant{Elicitation: true})
	fc := &guesttest.Client{Answer: guesttest.Answering(`{"action":"accept","content":{"context":"tests"}}`)}
	p = guesttest.GetPrompt(t, m, "context", nil, runtime.Call{Grant: grant, Client: fc, ClientInfo: elicitation})
	guesttest.SameJSON(t, "context", p, `{"messages":[{"role":"user","content":{"type":"text","text":"Use this context: tests"}}]}`)
	if asked := fc.Asks(); len(asked) != 1 || asked[0]["ctx"].Method != client.MethodElicit {
		t.Errorf("asked %+v", asked)
	}
	out, _ = m.GetPrompt(ctx, "context", nil, runtime.Call{Grant: grant, Client: fc})
	guesttest.WantGuestError(t, "context without elicitation", out, abi.ErrorCodeInvalidParams, "use a client that supports elicitation")
	// On 2026-07-28 the answer comes with a later request: the call ends waiting for it.
	later := &guesttest.Client{Err: runtime.ErrInputRequired}
	out, _ = m.GetPrompt(ctx, "context", nil, runtime.Call{Grant: grant, Client: later, ClientInfo: elicitation})
	if out.Err == nil || out.Err.Kind != runtime.KindInputRequired {
		t.Errorf("context, answered later: %+v", out.Err)
	}
}

func TestSDKComplete(t *testing.T) {
	m := loadSDKTest(t)
	for _, tc := range []struct {
		p    abi.CompleteParams
		want string
	}{
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, Argument: abi.CompleteArgument{Name: "who", Value: "A"}},
			`{"completion":{"values":["Ada","Alan"],"total":2}}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, Argument: abi.CompleteArgument{Name: "who"}},
			`{"completion":{"values":["Ada","Alan","Barbara","Grace"],"total":4}}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, Argument: abi.CompleteArgument{Name: "who", Value: "Z"}},
			`{"completion":{"values":[]}}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, Argument: abi.CompleteArgument{Name: "style", Value: "f"}},
			`{"completion":{"values":[]}}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/resource", URI: "sdk://doc/{id}"}, Argument: abi.CompleteArgument{Name: "id", Value: "4"},
			Context: &abi.CompleteContext{Arguments: map[string]string{"style": "terse"}}},
			`{"completion":{"values":["sdk://doc/{id}|id|4|terse"],"total":1000,"hasMore":true}}`},
	} {
		guesttest.SameJSON(t, fmt.Sprintf("complete %+v", tc.p), guesttest.Complete(t, m, tc.p), tc.want)
	}
}
