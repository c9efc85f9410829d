package server_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// The conformance modules ask for sampling, elicitation and roots; these
// options grant them.
var askGrant = runtime.NewGrant(&client.Grant{Sampling: true, Elicitation: true, Roots: true})

func surfaceOptions() *server.Options {
	return &server.Options{
		Configure:       func(server.Tool) server.ToolConfig { return server.ToolConfig{Grant: askGrant} },
		ConfigureModule: func(*runtime.Module) server.ToolConfig { return server.ToolConfig{Grant: askGrant} },
	}
}

// answering is a client that answers every question, and records them.
type answering struct {
	mu      sync.Mutex
	samples []*mcp.CreateMessageParams
	elicits []*mcp.ElicitParams
}

func (a *answering) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			a.mu.Lock()
			a.samples = append(a.samples, req.Params)
			a.mu.Unlock()
			return &mcp.CreateMessageResult{Role: "assistant", Model: "test-model", Content: &mcp.TextContent{Text: "Paris, of course."}}, nil
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			a.mu.Lock()
			a.elicits = append(a.elicits, req.Params)
			a.mu.Unlock()
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{
				"username": "ada", "email": "ada@example.com", "name": "Ada", "color": "blue", "ok": true, "context": "a test",
			}}, nil
		},
		Capabilities: &mcp.ClientCapabilities{RootsV2: &mcp.RootCapabilities{}},
	}
}

// surface connects a client of protocol version to the conformance
// modules.
func surface(t *testing.T, version string, opts *mcp.ClientOptions, mods ...string) *mcp.ClientSession {
	t.Helper()
	if len(mods) == 0 {
		mods = []string{"conftools", "confresources"}
	}
	s, _, err := server.New(nil, modules(t, mods...), surfaceOptions())
	if err != nil {
		t.Fatal(err)
	}
	return connectTo(t, s, opts, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

func answered(t *testing.T, version string) (*mcp.ClientSession, *answering) {
	t.Helper()
	a := &answering{}
	return surface(t, version, a.options()), a
}

func TestSurfaceContentTypes(t *testing.T) {
	cs, _ := answered(t, "2025-11-25")

	if got := text(call(t, cs, "test_simple_text", nil)); got != "This is a simple text response for testing." {
		t.Errorf("test_simple_text = %q", got)
	}
	img, ok := call(t, cs, "test_image_content", nil).Content[0].(*mcp.ImageContent)
	if !ok || img.MIMEType != "image/png" {
		t.Fatalf("test_image_content: %#v", img)
	}
	if p, err := png.Decode(bytes.NewReader(img.Data)); err != nil || p.Bounds().Dx() != 1 {
		t.Errorf("the image is not a 1x1 PNG: %v", err)
	}
	audio, ok := call(t, cs, "test_audio_content", nil).Content[0].(*mcp.AudioContent)
	if !ok || audio.MIMEType != "audio/wav" || !bytes.HasPrefix(audio.Data, []byte("RIFF")) {
		t.Errorf("test_audio_content: %#v", audio)
	}
	er, ok := call(t, cs, "test_embedded_resource", nil).Content[0].(*mcp.EmbeddedResource)
	if !ok || er.Resource.URI != "test://embedded-resource" || er.Resource.Text != "This is an embedded resource content." {
		t.Errorf("test_embedded_resource: %#v", er)
	}
	mixed := call(t, cs, "test_multiple_content_types", nil).Content
	if len(mixed) != 3 {
		t.Fatalf("test_multiple_content_types: %d items", len(mixed))
	}
	if _, ok := mixed[1].(*mcp.ImageContent); !ok {
		t.Errorf("second item %T, want an image", mixed[1])
	}
	if r, ok := mixed[2].(*mcp.EmbeddedResource); !ok || r.Resource.MIMEType != "application/json" || !strings.Contains(r.Resource.Text, `"value":123`) {
		t.Errorf("third item: %#v", mixed[2])
	}
	res := call(t, cs, "test_error_handling", nil)
	if !res.IsError || text(res) != "This tool intentionally returns an error for testing" {
		t.Errorf("test_error_handling = %+v", res)
	}
}

func TestSurfaceResources(t *testing.T) {
	cs, _ := answered(t, "2025-11-25")
	ctx := context.Background()

	list, err := cs.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, r := range list.Resources {
		uris = append(uris, r.URI)
		if r.Description == "" || r.Meta["wasmgate/module"] != "conformance-resources" {
			t.Errorf("resource %s: %+v", r.URI, r)
		}
	}
	if want := "test://static-binary test://static-text test://watched-resource"; strings.Join(uris, " ") != want {
		t.Errorf("resources = %q, want %q", uris, want)
	}
	tpls, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tpls.ResourceTemplates) != 1 || tpls.ResourceTemplates[0].URITemplate != "test://template/{id}/data" {
		t.Fatalf("templates = %+v, %v", tpls, err)
	}

	read := func(uri string) *mcp.ResourceContents {
		t.Helper()
		r, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		if len(r.Contents) != 1 {
			t.Fatalf("read %s: %d items", uri, len(r.Contents))
		}
		return r.Contents[0]
	}
	if c := read("test://static-text"); c.Text != "This is the content of the static text resource." || c.MIMEType != "text/plain" {
		t.Errorf("static text: %+v", c)
	}
	if c := read("test://static-binary"); c.MIMEType != "image/png" || !bytes.HasPrefix(c.Blob, []byte("\x89PNG")) {
		t.Errorf("static binary: %+v", c)
	}
	if c := read("test://template/123/data"); c.URI != "test://template/123/data" || c.Text != `{"id":"123","templateTest":true,"data":"Data for ID: 123"}` {
		t.Errorf("template: %+v", c)
	}

	// A URI nobody serves never reaches a guest; one a template matches
	// but the module refuses is the module's not-found error.
	for _, uri := range []string{"test://nope", "test://template/a%20b/data"} {
		_, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		var je *jsonrpc.Error
		if !errors.As(err, &je) || (je.Code != mcp.CodeResourceNotFound && je.Code != -32002) {
			t.Errorf("read %s: %v, want resource not found", uri, err)
		}
	}

	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://watched-resource"}); err != nil {
		t.Errorf("subscribe: %v", err)
	}
	if err := cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: "test://watched-resource"}); err != nil {
		t.Errorf("unsubscribe: %v", err)
	}
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://unknown"}); err == nil {
		t.Error("subscribing to a resource nobody serves succeeded")
	}
}

func TestSurfacePromptsAndCompletions(t *testing.T) {
	cs, _ := answered(t, "2025-11-25")
	ctx := context.Background()

	list, err := cs.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Prompts) != 5 {
		t.Errorf("%d prompts, want 5", len(list.Prompts))
	}
	get := func(name string, args map[string]string) *mcp.GetPromptResult {
		t.Helper()
		r, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		return r
	}
	if r := get("test_simple_prompt", nil); r.Messages[0].Role != "user" || r.Messages[0].Content.(*mcp.TextContent).Text != "This is a simple prompt for testing." {
		t.Errorf("simple prompt: %+v", r.Messages[0])
	}
	if r := get("test_prompt_with_arguments", map[string]string{"arg1": "hello", "arg2": "world"}); r.Messages[0].Content.(*mcp.TextContent).Text != "Prompt with arguments: arg1='hello', arg2='world'" {
		t.Errorf("prompt with arguments: %+v", r.Messages[0].Content)
	}
	r := get("test_prompt_with_embedded_resource", map[string]string{"resourceUri": "test://example"})
	if er, ok := r.Messages[0].Content.(*mcp.EmbeddedResource); !ok || er.Resource.URI != "test://example" {
		t.Errorf("embedded resource prompt: %#v", r.Messages[0].Content)
	}
	if _, ok := get("test_prompt_with_image", nil).Messages[0].Content.(*mcp.ImageContent); !ok {
		t.Error("image prompt has no image")
	}
	// A required argument that is missing is refused before any guest runs.
	if _, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "x"}}); err == nil || !strings.Contains(err.Error(), "arg2") {
		t.Errorf("missing argument: %v", err)
	}

	comp, err := cs.Complete(ctx, &mcp.CompleteParams{
		Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"},
		Argument: mcp.CompleteParamsArgument{Name: "arg1", Value: "par"},
	})
	if err != nil || strings.Join(comp.Completion.Values, ",") != "paris,park,party" {
		t.Errorf("prompt completion = %+v, %v", comp, err)
	}
	comp, err = cs.Complete(ctx, &mcp.CompleteParams{
		Ref:      &mcp.CompleteReference{Type: "ref/resource", URI: "test://template/{id}/data"},
		Argument: mcp.CompleteParamsArgument{Name: "id", Value: "12"},
	})
	if err != nil || strings.Join(comp.Completion.Values, ",") != "12,123" {
		t.Errorf("template completion = %+v, %v", comp, err)
	}
	if _, err := cs.Complete(ctx, &mcp.CompleteParams{
		Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "test_prompt_with_arguments"},
		Argument: mcp.CompleteParamsArgument{Name: "nope", Value: ""},
	}); err == nil {
		t.Error("completing an argument the prompt does not have succeeded")
	}
}

// Before 2026-07-28 questions are requests to the client while the guest
// waits.
func TestSurfaceQuestionsAsRequests(t *testing.T) {
	cs, a := answered(t, "2025-11-25")
	if got := text(call(t, cs, "test_sampling", map[string]any{"prompt": "Capital of France?"})); got != "LLM response: Paris, of course." {
		t.Errorf("test_sampling = %q", got)
	}
	if len(a.samples) != 1 || a.samples[0].MaxTokens != 100 || a.samples[0].Messages[0].Content.(*mcp.TextContent).Text != "Capital of France?" {
		t.Errorf("sampling request = %+v", a.samples)
	}
	got := text(call(t, cs, "test_elicitation", map[string]any{"message": "Who are you?"}))
	if !strings.Contains(got, "accept") || !strings.Contains(got, "ada@example.com") {
		t.Errorf("test_elicitation = %q", got)
	}
	if len(a.elicits) != 1 || a.elicits[0].Message != "Who are you?" {
		t.Errorf("elicitation request = %+v", a.elicits)
	}
	// A multi-round tool asks twice within one call.
	got = text(call(t, cs, "test_input_required_result_multi_round", nil))
	if !strings.Contains(got, "Ada") || !strings.Contains(got, "blue") {
		t.Errorf("multi-round = %q", got)
	}
}

// From 2026-07-28 questions come back as input-required results; the
// go-sdk client answers them and repeats the request, and the guest runs
// again with the answers.
func TestSurfaceQuestionsAsInputRequired(t *testing.T) {
	cs, a := answered(t, "2026-07-28")
	got := text(call(t, cs, "test_input_required_result_multi_round", nil))
	if !strings.Contains(got, "Ada") || !strings.Contains(got, "blue") {
		t.Errorf("multi-round = %q", got)
	}
	if len(a.elicits) != 2 {
		t.Errorf("the client was asked %d times, want 2 (each question once)", len(a.elicits))
	}
	got = text(call(t, cs, "test_input_required_result_multiple_inputs", nil))
	if !strings.Contains(got, "Ada") || !strings.Contains(got, "Paris") {
		t.Errorf("multiple inputs = %q", got)
	}
	r, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "test_input_required_result_prompt"})
	if err != nil || !strings.Contains(r.Messages[0].Content.(*mcp.TextContent).Text, "a test") {
		t.Errorf("prompt that asks: %+v, %v", r, err)
	}
}

func TestSurfaceTamperedRequestState(t *testing.T) {
	opts := (&answering{}).options()
	opts.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	cs := surface(t, "2026-07-28", opts, "conftools")
	ctx := context.Background() // the server's limits bound every call
	first, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_input_required_result_tampered_state"})
	if err != nil || !first.NeedsInput() || first.RequestState == "" || len(first.InputRequests) != 1 {
		t.Fatalf("first round = %+v, %v; want an input-required result with a state", first, err)
	}
	var key string
	for k := range first.InputRequests {
		key = k
	}
	answers := mcp.InputResponseMap{key: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"ok": true}}}
	for name, st := range map[string]string{
		"tampered":        first.RequestState + "-TAMPERED",
		"bit flipped":     flipLast(first.RequestState),
		"other arguments": "",
	} {
		p := &mcp.CallToolParams{Name: "test_input_required_result_tampered_state", InputResponses: answers, RequestState: st}
		if name == "other arguments" {
			p.Arguments = map[string]any{"extra": 1}
			p.RequestState = first.RequestState
		}
		// The state is refused with a protocol error; arguments the tool
		// does not take are refused before that, as a tool error.
		if res, err := cs.CallTool(ctx, p); err == nil && !res.IsError {
			t.Errorf("%s state: accepted: %+v", name, res)
		}
	}
	// A state is bound to its request: the same tool with other arguments
	// does not take it.
	ask, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_elicitation", Arguments: map[string]any{"message": "A?"}})
	if err != nil || !ask.NeedsInput() {
		t.Fatalf("test_elicitation = %+v, %v", ask, err)
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_elicitation", Arguments: map[string]any{"message": "B?"},
		RequestState: ask.RequestState, InputResponses: mcp.InputResponseMap{"elicit": &mcp.ElicitResult{Action: "decline"}}})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("a state reused with other arguments: %v, want invalid params", err)
	}
	done, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_input_required_result_tampered_state", InputResponses: answers, RequestState: first.RequestState})
	if err != nil || done.NeedsInput() || done.IsError {
		t.Fatalf("the untouched state = %+v, %v", done, err)
	}
}

func flipLast(s string) string {
	b := []byte(s)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

// Without the grant the guest is denied, whatever the client supports.
func TestSurfaceQuestionsNeedTheGrant(t *testing.T) {
	a := &answering{}
	cs := connectTo(t, mustNew(t, nil, "conftools"), a.options(), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	res := call(t, cs, "test_sampling", map[string]any{"prompt": "hi"})
	if !res.IsError || !strings.Contains(text(res), "not granted") {
		t.Errorf("test_sampling without a grant = %q", text(res))
	}
	if len(a.samples) != 0 {
		t.Error("the client was asked without a grant")
	}
}

func mustNew(t *testing.T, opts *server.Options, mods ...string) *mcp.Server {
	t.Helper()
	s, _, err := server.New(nil, modules(t, mods...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
