//go:build !wasip1

package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestContentJSON(t *testing.T) {
	for _, tc := range []struct {
		c    Content
		want string
	}{
		{TextContent(""), `{"type":"text","text":""}`},
		{TextContent("a <b> & c"), `{"type":"text","text":"a <b> & c"}`},
		{Image([]byte{1, 2}, "image/png"), `{"type":"image","data":"AQI=","mimeType":"image/png"}`},
		{Audio(nil, ""), `{"type":"audio","data":"","mimeType":""}`},
		{ResourceLink("test://x", "x", ""), `{"type":"resource_link","uri":"test://x","name":"x"}`},
		{ResourceLink("test://x", "x", "text/plain"), `{"type":"resource_link","mimeType":"text/plain","uri":"test://x","name":"x"}`},
		{EmbeddedResource(TextResource("test://t", "text/plain", "")), `{"type":"resource","resource":{"uri":"test://t","mimeType":"text/plain","text":""}}`},
		{EmbeddedResource(BlobResource("test://b", "", nil)), `{"type":"resource","resource":{"uri":"test://b","blob":""}}`},
		{EmbeddedResource(BlobResource("test://b", "application/octet-stream", []byte{0xff})), `{"type":"resource","resource":{"uri":"test://b","mimeType":"application/octet-stream","blob":"/w=="}}`},
	} {
		got, err := marshal(tc.c)
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v:\n got %s %v\nwant %s", tc.c, got, err, tc.want)
		}
	}
	if _, err := marshal(Content{Type: "resource"}); err == nil {
		t.Error("a resource item without Resource encodes")
	}
	// Decoding is the plain struct decoding, blob included.
	var c Content
	if err := json.Unmarshal([]byte(`{"type":"resource","resource":{"uri":"u","blob":"/w=="}}`), &c); err != nil || c.Resource == nil || string(c.Resource.Blob) != "\xff" {
		t.Errorf("decode: %+v %v", c, err)
	}
	r := NewResult(TextContent("a"), Audio([]byte("x"), "audio/wav"))
	if b, _ := marshal(r); string(b) != `{"content":[{"type":"text","text":"a"},{"type":"audio","data":"eA==","mimeType":"audio/wav"}],"isError":false}` {
		t.Errorf("NewResult: %s", b)
	}
	if b, _ := marshal(NewResult()); string(b) != `{"content":[],"isError":false}` {
		t.Errorf("empty NewResult: %s", b)
	}
}

type writeArgs struct {
	Topic string  `json:"topic" jsonschema:"What to write about."`
	Tone  *string `json:"tone"`
	Style string  `json:"style,omitempty"`
}

func TestMethods(t *testing.T) {
	defer reset()()
	Module(ModuleInfo{Name: "m", Permissions: Permissions{Sampling: true, Roots: true}})
	Resource("test://static", "static", func(ctx context.Context, r ReadRequest) ([]ResourceContents, error) {
		return []ResourceContents{{MIMEType: "text/plain", Text: "static " + r.URI + " " + r.Template}}, nil
	}, Description("A fixed text."), MIMEType("text/plain"))
	ResourceTemplate("test://doc/{id}", "doc", func(ctx context.Context, r ReadRequest) ([]ResourceContents, error) {
		if r.Variables["id"] == "404" {
			return nil, RequestErrorf(CodeResourceNotFound, "no document %s", r.Variables["id"])
		}
		if r.Variables["id"] == "bad" {
			return nil, errors.New("broken")
		}
		return []ResourceContents{BlobResource(r.URI, "application/octet-stream", []byte(r.Variables["id"]))}, nil
	}, Title("Documents"))
	Prompt("write", func(ctx context.Context, a writeArgs) (*PromptResult, error) {
		tone := "plain"
		if a.Tone != nil {
			tone = *a.Tone
		}
		return &PromptResult{Description: "Writing.", Messages: []Message{
			UserMessage(TextContent("Write about " + a.Topic + " in a " + tone + " tone.")),
			AssistantMessage(Image([]byte{1}, "image/png")),
		}}, nil
	}, Description("Write a text."))
	Prompt("empty", func(ctx context.Context, a map[string]string) (*PromptResult, error) { return nil, nil })
	Completions(func(ctx context.Context, r CompleteRequest) (*Completion, error) {
		if r.Argument == "fail" {
			return nil, RequestErrorf(CodeInvalidParams, "cannot complete %s", r.Argument)
		}
		if r.Ref.Type == "ref/resource" {
			return nil, nil
		}
		c := CompletePrefix([]string{"go", "gopher", "rust"}, r.Value)
		c.Values = append(c.Values, r.Ref.Name+":"+r.Arguments["topic"])
		return c, nil
	})

	for _, tc := range []struct{ env, want string }{
		{`{"method":"resources/read","params":{"uri":"test://static"}}`,
			`{"contents":[{"mimeType":"text/plain","text":"static test://static "}]}`},
		{`{"method":"resources/read","params":{"uri":"test://doc/7"},"template":{"uriTemplate":"test://doc/{id}","variables":{"id":"7"}}}`,
			`{"contents":[{"uri":"test://doc/7","mimeType":"application/octet-stream","blob":"Nw=="}]}`},
		{`{"method":"resources/read","params":{"uri":"test://doc/404"},"template":{"uriTemplate":"test://doc/{id}","variables":{"id":"404"}}}`,
			`{"error":{"code":-32002,"message":"no document 404"}}`},
		{`{"method":"resources/read","params":{"uri":"test://doc/bad"},"template":{"uriTemplate":"test://doc/{id}","variables":{"id":"bad"}}}`,
			`{"error":{"code":-32603,"message":"broken"}}`},
		{`{"method":"resources/read","params":{"uri":"test://other"}}`,
			`{"error":{"code":-32002,"message":"resource not found: test://other (this module registers no resource or template for it)"}}`},
		{`{"method":"resources/read","params":{"uri":"test://doc/1"},"template":{"uriTemplate":"test://nope/{id}","variables":{"id":"1"}}}`,
			`{"error":{"code":-32002,"message":"resource not found: test://doc/1 (this module registers no resource or template for it)"}}`},
		{`{"method":"prompts/get","params":{"name":"write","arguments":{"topic":"wasm","tone":"dry"}}}`,
			`{"description":"Writing.","messages":[{"role":"user","content":{"type":"text","text":"Write about wasm in a dry tone."}},{"role":"assistant","content":{"type":"image","data":"AQ==","mimeType":"image/png"}}]}`},
		{`{"method":"prompts/get","params":{"name":"write","arguments":{"topic":"x"}}}`,
			`{"description":"Writing.","messages":[{"role":"user","content":{"type":"text","text":"Write about x in a plain tone."}},{"role":"assistant","content":{"type":"image","data":"AQ==","mimeType":"image/png"}}]}`},
		{`{"method":"prompts/get","params":{"name":"write","arguments":{"topic":1}}}`,
			`{"error":{"code":-32602,"message":"the arguments of prompt write must be an object of strings: json: cannot unmarshal number into Go struct field writeArgs.topic of type string"}}`},
		{`{"method":"prompts/get","params":{"name":"empty"}}`, `{"messages":[]}`},
		{`{"method":"prompts/get","params":{"name":"nope","arguments":{}}}`, `{"error":{"code":-32602,"message":"unknown prompt \"nope\""}}`},
		{`{"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"write"},"argument":{"name":"tone","value":"go"},"context":{"arguments":{"topic":"t"}}}}`,
			`{"completion":{"values":["go","gopher","write:t"],"total":2}}`},
		{`{"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"test://doc/{id}"},"argument":{"name":"id","value":""}}}`,
			`{"completion":{"values":[]}}`},
		{`{"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"write"},"argument":{"name":"fail","value":""}}}`,
			`{"error":{"code":-32602,"message":"cannot complete fail"}}`},
		{`{"method":"logging/setLevel","params":{}}`,
			`{"error":{"code":-32603,"message":"unsupported method \"logging/setLevel\": this module serves tools/call, resources/read, prompts/get and completion/complete"}}`},
		{`{"method":"prompts/get","params":[]}`,
			`{"error":{"code":-32602,"message":"the params of prompts/get are not valid: json: cannot unmarshal array into Go value of type sdk.params"}}`},
	} {
		var out strings.Builder
		if err := Serve(context.Background(), strings.NewReader(tc.env), &out); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(out.String()); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.env, got, tc.want)
		}
	}

	b, err := Manifest()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"abi":1,"name":"m",` +
		`"resources":[{"uri":"test://static","name":"static","description":"A fixed text.","mimeType":"text/plain"}],` +
		`"resourceTemplates":[{"uriTemplate":"test://doc/{id}","name":"doc","title":"Documents"}],` +
		`"prompts":[{"name":"write","description":"Write a text.","arguments":[{"name":"topic","description":"What to write about.","required":true},{"name":"tone"},{"name":"style"}]},{"name":"empty"}],` +
		`"completions":true,"permissions":{"sampling":true,"roots":true}}`
	if got := compact(b); got != want {
		t.Errorf("manifest\n got %s\nwant %s", got, want)
	}
}

func TestRegistrationPanics(t *testing.T) {
	defer reset()()
	mustPanic := func(name, want string, f func()) {
		t.Helper()
		defer func() {
			if p := recover(); p == nil || !strings.Contains(p.(string), want) {
				t.Errorf("%s: panic %v, want %q", name, p, want)
			}
		}()
		f()
	}
	read := func(context.Context, ReadRequest) ([]ResourceContents, error) { return nil, nil }
	Resource("test://a", "a", read)
	mustPanic("resource twice", "resource test://a registered twice", func() { Resource("test://a", "a", read) })
	ResourceTemplate("test://a", "a", read) // a template may look like a resource
	mustPanic("mime on a tool", "tool t: MIMEType does not apply to a tool", func() {
		Tool("t", func(context.Context, struct{}) (string, error) { return "", nil }, MIMEType("text/plain"))
	})
	mustPanic("annotations on a resource", "resource test://b: Annotations, InputSchema does not apply to a resource", func() {
		Resource("test://b", "b", read, ReadOnly(), InputSchema(json.RawMessage(`{"type":"object"}`)))
	})
	mustPanic("bad input schema", `InputSchema must be a JSON object schema with "type": "object"`, func() {
		Tool("t", func(context.Context, struct{}) (string, error) { return "", nil }, InputSchema(json.RawMessage(`{"type":"string"}`)))
	})
	mustPanic("prompt of ints", "field N is int: prompt arguments are strings", func() {
		Prompt("p", func(context.Context, struct{ N int }) (*PromptResult, error) { return nil, nil })
	})
	mustPanic("prompt of a slice", "must be a struct of strings or a map[string]string", func() {
		Prompt("p", func(context.Context, []string) (*PromptResult, error) { return nil, nil })
	})
	Prompt("p", func(context.Context, struct{}) (*PromptResult, error) { return nil, nil })
	mustPanic("prompt twice", "prompt p registered twice", func() {
		Prompt("p", func(context.Context, struct{}) (*PromptResult, error) { return nil, nil })
	})
}

type schemaArgs struct {
	Name        string         `json:"name"`
	Address     map[string]any `json:"address,omitempty"`
	ContactWith string         `json:"contactMethod,omitempty"`
}

func TestInputSchema(t *testing.T) {
	defer reset()()
	Module(ModuleInfo{Name: "s"})
	schema := `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]}},` +
		`"required":["name"],"if":{"required":["contactMethod"]},"then":{"required":["name"]},"additionalProperties":false}`
	Tool("s", func(ctx context.Context, a schemaArgs) (string, error) { return "hi " + a.Name, nil },
		InputSchema(json.RawMessage(schema)), OutputSchema(json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`)))
	b, err := Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Tools []struct {
			InputSchema  json.RawMessage `json:"inputSchema"`
			OutputSchema json.RawMessage `json:"outputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got := compact(m.Tools[0].InputSchema); got != schema {
		t.Errorf("inputSchema not verbatim\n got %s\nwant %s", got, schema)
	}
	if got := compact(m.Tools[0].OutputSchema); got != `{"type":"object","properties":{"n":{"type":"integer"}}}` {
		t.Errorf("outputSchema %s", got)
	}
	// The SDK's own checks read the hand-written schema.
	if res := serve(t, callEnv("s", `{"name":"x"}`)); textOf(res) != "hi x" {
		t.Errorf("call: %v", res)
	}
	for args, want := range map[string]string{
		`{}`:                                 `missing required argument "name" (a string)`,
		`{"name":"x","zip":1}`:               `unknown argument "zip": this tool takes address, contactMethod, name`,
		`{"name":"x","contactMethod":"fax"}`: `argument "contactMethod" must be one of "phone", "email", got "fax"`,
	} {
		if res := serve(t, callEnv("s", args)); res["isError"] != true || !strings.Contains(textOf(res), want) {
			t.Errorf("%s: %v, want %q", args, res, want)
		}
	}
}

func TestClientInfo(t *testing.T) {
	defer reset()()
	var got *ClientInfo
	Tool("c", func(ctx context.Context, _ struct{}) (string, error) {
		got = Client(ctx)
		return "", nil
	})
	serve(t, `{"method":"tools/call","params":{"name":"c"},"client":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{},"roots":{"listChanged":true},"elicitation":null}}}`)
	if got == nil || got.ProtocolVersion != "2025-11-25" || !got.Has(CapabilitySampling) || !got.Has(CapabilityRoots) || got.Has(CapabilityElicitation) || got.Has("tasks") {
		t.Errorf("client = %+v", got)
	}
	serve(t, callEnv("c", `{}`))
	if got != nil || got.Has(CapabilitySampling) {
		t.Errorf("no client: %+v", got)
	}
}

func TestQuestions(t *testing.T) {
	var seen []string
	fakeHost(t, 80, `{"role":"assistant","content":{"type":"text","text":"Paris"},"model":"m","stopReason":"endTurn"}`, &seen)
	res, err := Sample(SampleParams{Messages: []Message{UserMessage(TextContent("Capital of France?"))}, MaxTokens: 10})
	if err != nil || res.Content.Text != "Paris" || res.Model != "m" || res.Role != "assistant" || res.StopReason != "endTurn" {
		t.Errorf("Sample: %+v %v", res, err)
	}
	fakeHost(t, 40, `{"action":"accept","content":{"name":"Ada","age":36}}`, &seen)
	el, err := Elicit(ElicitParams{Message: "Who?", RequestedSchema: &ElicitSchema{
		Properties: map[string]ElicitProperty{
			"name":  {Type: "string", Default: "Bob"},
			"ok":    {Type: "boolean", Default: false},
			"color": {Type: "string", OneOf: []EnumOption{{"r", "Red"}}},
			"tags":  {Type: "array", Items: &ElicitItems{Type: "string", Enum: []string{"a", "b"}}},
		},
		Required: []string{"name"},
	}})
	var who struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	if err != nil || !el.Accepted() || el.Decode(&who) != nil || who.Name != "Ada" || who.Age != 36 {
		t.Errorf("Elicit: %+v %v %+v", el, err, who)
	}
	fakeHost(t, 40, `{"action":"decline"}`, &seen)
	if el, err := Elicit(ElicitParams{Message: "Sure?"}); err != nil || el.Accepted() || el.Action != "decline" || el.Content != nil {
		t.Errorf("declined Elicit: %+v %v", el, err)
	}
	fakeHost(t, 90, `{"roots":{"roots":[{"uri":"file:///r","name":"R"}]},"q":{"action":"cancel"},"s":{"role":"assistant","content":{"type":"text","text":"hi"},"model":"m"}}`, &seen)
	a, err := Ask(map[string]Question{
		"roots": RootsQuestion(),
		"q":     ElicitQuestion(ElicitParams{Message: "Name?"}),
		"s":     SampleQuestion(SampleParams{Messages: []Message{UserMessage(TextContent("hi"))}, MaxTokens: 5}),
		"raw":   {Method: MethodSample, Params: json.RawMessage(`{"messages":[],"maxTokens":1}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	roots, err := a.Roots("roots")
	if err != nil || !reflect.DeepEqual(roots, []Root{{URI: "file:///r", Name: "R"}}) {
		t.Errorf("Roots: %v %v", roots, err)
	}
	if q, err := a.Elicit("q"); err != nil || q.Action != "cancel" {
		t.Errorf("Elicit answer: %+v %v", q, err)
	}
	if s, err := a.Sample("s"); err != nil || s.Content.Text != "hi" {
		t.Errorf("Sample answer: %+v %v", s, err)
	}
	if _, err := a.Sample("raw"); err == nil || err.Error() != `ask: the answers have no "raw"` {
		t.Errorf("missing answer: %v", err)
	}
	fakeHost(t, 50, `{"roots":{"roots":[{"uri":"file:///a"}]}}`, &seen)
	if roots, err := Roots(); err != nil || len(roots) != 1 || roots[0].URI != "file:///a" {
		t.Errorf("Roots(): %v %v", roots, err)
	}
	fakeHost(t, 0, ``, &seen)
	if err := ResourceUpdated("test://x"); err != nil {
		t.Errorf("ResourceUpdated: %v", err)
	}
	want := []string{
		`sample {"messages":[{"role":"user","content":{"type":"text","text":"Capital of France?"}}],"maxTokens":10}`,
		`elicit {"message":"Who?","requestedSchema":{"type":"object","properties":{"color":{"type":"string","oneOf":[{"const":"r","title":"Red"}]},"name":{"type":"string","default":"Bob"},"ok":{"type":"boolean","default":false},"tags":{"type":"array","items":{"type":"string","enum":["a","b"]}}},"required":["name"]}}`,
		`elicit {"message":"Sure?"}`,
		`ask {"q":{"method":"elicitation/create","params":{"message":"Name?"}},"raw":{"method":"sampling/createMessage","params":{"messages":[],"maxTokens":1}},"roots":{"method":"roots/list","params":{}},"s":{"method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":5}}}`,
		`ask {"roots":{"method":"roots/list","params":{}}}`,
		`updated test://x`,
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("requests\n got %q\nwant %q", seen, want)
	}

	fakeHost(t, -2, "sample: sampling/createMessage is not granted", &seen)
	if _, err := Sample(SampleParams{}); !errors.Is(err, ErrDenied) || err.Error() != "sample: denied: sample: sampling/createMessage is not granted" {
		t.Errorf("denied Sample: %v", err)
	}
	fakeHost(t, -3, "the client does not support elicitation/create", &seen)
	if _, err := Elicit(ElicitParams{}); !errors.Is(err, ErrFailed) {
		t.Errorf("failed Elicit: %v", err)
	}
	fakeHost(t, -1, "bad key", &seen)
	if _, err := Ask(map[string]Question{"a b": RootsQuestion()}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid Ask: %v", err)
	}
	fakeHost(t, -5, "not one of module m's resources", &seen)
	if err := ResourceUpdated("x://y"); !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "resource_updated: not_found") {
		t.Errorf("ResourceUpdated: %v", err)
	}
	fakeHost(t, 4, `[1]`, &seen)
	if _, err := Sample(SampleParams{}); err == nil || !strings.Contains(err.Error(), "not a sampling result") {
		t.Errorf("bad answer: %v", err)
	}
}
