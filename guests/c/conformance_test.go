// Tests of the conformance-resources module (guests/conformance/resources,
// written with the C SDK) through the runtime: what the MCP conformance
// suite checks of each resource, prompt and completion.
package ctools

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

func loadConformance(t *testing.T) *runtime.Module {
	return guesttest.LoadNew(t, "../conformance/resources/resources.wasm")
}

func TestConformanceResources(t *testing.T) {
	m := loadConformance(t)
	ctx := context.Background()
	for _, tc := range []struct{ uri, want string }{
		{"test://static-text", `[{"uri":"test://static-text","mimeType":"text/plain","text":"This is the content of the static text resource."}]`},
		{"test://watched-resource", `[{"uri":"test://watched-resource","mimeType":"text/plain","text":"This is the content of the watched resource."}]`},
	} {
		if got := guesttest.JSON(t, guesttest.ReadResource(t, m, tc.uri, nil, runtime.Call{}).Contents); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.uri, got, tc.want)
		}
	}

	c := guesttest.ReadResource(t, m, "test://static-binary", nil, runtime.Call{}).Contents[0]
	if c.URI != "test://static-binary" || c.MIMEType != "image/png" || !strings.HasPrefix(string(c.Blob), "\x89PNG\r\n\x1a\n") {
		t.Errorf("static-binary = %+v", c)
	}

	read := func(id string) *runtime.Outcome {
		t.Helper()
		uri := "test://template/" + id + "/data"
		out, err := m.ReadResource(ctx, uri, &abi.TemplateMatch{URITemplate: "test://template/{id}/data", Variables: map[string]string{"id": id}}, runtime.Call{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := read("123")
	want := `[{"uri":"test://template/123/data","mimeType":"application/json","text":"{\"id\":\"123\",\"templateTest\":true,\"data\":\"Data for ID: 123\"}"}]`
	if out.Err != nil || guesttest.JSON(t, out.Resource.Contents) != want {
		t.Errorf("template 123 = %v %s", out.Err, guesttest.JSON(t, out.Resource))
	}
	for _, id := range []string{"", "a.b", "a b", strings.Repeat("x", 65)} {
		guesttest.WantGuestError(t, fmt.Sprintf("template %q", id), read(id), abi.ErrorCodeNotFound, "no data for id")
	}
}

func TestConformancePrompts(t *testing.T) {
	m := loadConformance(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		args map[string]string
		want string
	}{
		{"test_simple_prompt", nil, `[{"content":{"type":"text","text":"This is a simple prompt for testing."},"role":"user"}]`},
		{"test_prompt_with_arguments", map[string]string{"arg1": "testValue1", "arg2": "testValue2"},
			`[{"content":{"type":"text","text":"Prompt with arguments: arg1='testValue1', arg2='testValue2'"},"role":"user"}]`},
		{"test_prompt_with_embedded_resource", map[string]string{"resourceUri": "test://example-resource"},
			`[{"content":{"type":"resource","resource":{"uri":"test://example-resource","mimeType":"text/plain","text":"Embedded resource content for testing."}},"role":"user"},` +
				`{"content":{"type":"text","text":"Please process the embedded resource above."},"role":"user"}]`},
	} {
		if got := guesttest.JSON(t, guesttest.GetPrompt(t, m, tc.name, tc.args, runtime.Call{}).Messages); got != tc.want {
			t.Errorf("%s = %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := guesttest.JSON(t, guesttest.GetPrompt(t, m, "test_prompt_with_image", nil, runtime.Call{}).Messages); !strings.Contains(got, `"type":"image","mimeType":"image/png","data":"iVBORw0KGgo`) ||
		!strings.Contains(got, "Please analyze the image above.") {
		t.Errorf("image = %s", got)
	}

	// test_input_required_result_prompt asks the user through ask.
	grant := runtime.NewGrant(&client.Grant{Elicitation: true})
	fc := &guesttest.Client{Answer: guesttest.Answering(`{"action":"accept","content":{"context":"test context"}}`)}
	p := guesttest.GetPrompt(t, m, "test_input_required_result_prompt", nil, runtime.Call{Grant: grant, Client: fc})
	if got := guesttest.JSON(t, p.Messages); !strings.Contains(got, "Use this context: test context") {
		t.Errorf("input required = %s", got)
	}
	asked := fc.Asks()
	q := asked[0]["user_context"]
	if len(asked) != 1 || q.Method != client.MethodElicit || !strings.Contains(string(q.Params), `"message":"What context should the prompt use?"`) {
		t.Errorf("asked %+v", asked)
	}
	fc = &guesttest.Client{Answer: guesttest.Answering(`{"action":"decline"}`)}
	out, _ := m.GetPrompt(ctx, "test_input_required_result_prompt", nil, runtime.Call{Grant: grant, Client: fc})
	if out.Err != nil || !strings.Contains(guesttest.JSON(t, out.Prompt.Messages), "The user gave no context (decline)") {
		t.Errorf("declined = %v %s", out.Err, guesttest.JSON(t, out.Prompt))
	}
	// Without the grant the ask is denied and the prompt says so.
	out, _ = m.GetPrompt(ctx, "test_input_required_result_prompt", nil, runtime.Call{Client: fc})
	if out.GuestError == nil || !strings.Contains(out.GuestError.Message, "asking the user for context failed (denied)") {
		t.Errorf("without a grant = %+v", out.GuestError)
	}
}

func TestConformanceCompletions(t *testing.T) {
	m := loadConformance(t)
	for _, tc := range []struct {
		p    abi.CompleteParams
		want string
	}{
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, Argument: abi.CompleteArgument{Name: "arg1", Value: "test"}},
			`{"values":["test","test-value","testing"],"total":3}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, Argument: abi.CompleteArgument{Name: "arg1", Value: "par"}},
			`{"values":["paris","park","party"],"total":3}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/prompt", Name: "test_prompt_with_arguments"}, Argument: abi.CompleteArgument{Name: "arg2", Value: "x"}},
			`{"values":[]}`},
		{abi.CompleteParams{Ref: abi.CompleteRef{Type: "ref/resource", URI: "test://template/{id}/data"}, Argument: abi.CompleteArgument{Name: "id", Value: "1"}},
			`{"values":["1","12","123"],"total":3}`},
	} {
		guesttest.SameJSON(t, fmt.Sprintf("complete %+v", tc.p), guesttest.Complete(t, m, tc.p).Completion, tc.want)
	}
}
