// Command hostcheck is a test module for the Go SDK: one tool per host
// function wrapper, answering with what the wrapper returned, and one that
// returns each kind of result; and a resource, a resource template, a
// prompt and completions, for the methods other than tools/call.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Args select an operation and its inputs.
type Args struct {
	Op    string `json:"op" enum:"log,progress,http,kv,secret,image,error,structured,client,sample,elicit,ask,roots,updated,content" jsonschema:"What to exercise."`
	URL   string `json:"url,omitempty"`
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`
}

// codes names the sentinel an error matches with errors.Is.
func codes(err error) string {
	for name, s := range map[string]error{"invalid": sdk.ErrInvalid, "denied": sdk.ErrDenied, "failed": sdk.ErrFailed,
		"too_large": sdk.ErrTooLarge, "not_found": sdk.ErrNotFound, "cancelled": sdk.ErrCancelled} {
		if errors.Is(err, s) {
			return name
		}
	}
	return "none"
}

func check(ctx context.Context, a Args) (*sdk.Result, error) {
	switch a.Op {
	case "log":
		sdk.Log(sdk.LevelWarning, "a warning")
		sdk.Logf(sdk.LevelDebug, "debug %d", 42)
		return sdk.Text("logged"), nil
	case "progress":
		for i := 1; i <= 3; i++ {
			sdk.Progress(float64(i), 3, fmt.Sprintf("step %d", i))
		}
		return sdk.Textf("token %v", sdk.Meta(ctx)["progressToken"]), nil
	case "http":
		resp, err := sdk.HTTP(sdk.HTTPRequest{Method: "POST", URL: a.URL, Headers: map[string]string{"X-Test": "1"}, Body: []byte(a.Value)})
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("status %d url %s type %s body %s", resp.Status, resp.URL, resp.Headers["Content-Type"], resp.Body), nil
	case "kv":
		var out []string
		step := func(what string, err error) {
			if err != nil {
				out = append(out, what+": "+codes(err))
			} else {
				out = append(out, what+": ok")
			}
		}
		step("set", sdk.KVSet(a.Key, []byte(a.Value)))
		v, err := sdk.KVGet(a.Key)
		step("get "+string(v), err)
		keys, err := sdk.KVKeys("")
		step("keys "+strings.Join(keys, ","), err)
		step("delete", sdk.KVDelete(a.Key))
		_, err = sdk.KVGet(a.Key)
		step("get again", err)
		_, _, err = sdk.KVList(strings.Repeat("k", 2000), "")
		step("list long prefix", err)
		return sdk.Text(strings.Join(out, "; ")), nil
	case "secret":
		v, err := sdk.Secret(a.Name)
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("secret has %d bytes", len(v)), nil
	case "image":
		r := sdk.ImageResult([]byte("\x89PNG fake"), "image/png")
		r.Content = append(r.Content, sdk.Text("caption").Content...)
		return r, nil
	case "structured":
		return sdk.Structured(map[string]int{"n": 7}, "seven")
	case "error":
		return nil, sdk.Errorf("wrapped: %w", sdk.ErrNotFound)
	case "client":
		c := sdk.Client(ctx)
		if c == nil {
			return sdk.Text("no client"), nil
		}
		return sdk.Textf("protocol %s sampling %t elicitation %t roots %t", c.ProtocolVersion,
			c.Has(sdk.CapabilitySampling), c.Has(sdk.CapabilityElicitation), c.Has(sdk.CapabilityRoots)), nil
	case "sample":
		r, err := sdk.Sample(sdk.SampleParams{Messages: []sdk.Message{sdk.UserMessage(sdk.TextContent(a.Value))}, MaxTokens: 50})
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("%s said %s (%s)", r.Model, r.Content.Text, r.StopReason), nil
	case "elicit":
		r, err := sdk.Elicit(sdk.ElicitParams{Message: a.Value, RequestedSchema: &sdk.ElicitSchema{
			Properties: map[string]sdk.ElicitProperty{"name": {Type: "string", Default: "nobody"}},
			Required:   []string{"name"},
		}})
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		var who struct {
			Name string `json:"name"`
		}
		if err := r.Decode(&who); err != nil {
			return nil, err
		}
		return sdk.Textf("%s %q", r.Action, who.Name), nil
	case "ask":
		ans, err := sdk.Ask(map[string]sdk.Question{
			"model": sdk.SampleQuestion(sdk.SampleParams{Messages: []sdk.Message{sdk.UserMessage(sdk.TextContent("hi"))}, MaxTokens: 5}),
			"user":  sdk.ElicitQuestion(sdk.ElicitParams{Message: "Name?"}),
			"roots": sdk.RootsQuestion(),
		})
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		s, err := ans.Sample("model")
		if err != nil {
			return nil, err
		}
		u, err := ans.Elicit("user")
		if err != nil {
			return nil, err
		}
		roots, err := ans.Roots("roots")
		if err != nil {
			return nil, err
		}
		return sdk.Textf("model %s; user %s %v; roots %v", s.Content.Text, u.Action, u.Content["name"], roots), nil
	case "roots":
		roots, err := sdk.Roots()
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("roots %v", roots), nil
	case "updated":
		if err := sdk.ResourceUpdated(a.URL); err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Text("updated " + a.URL), nil
	case "content":
		r := sdk.NewResult(
			sdk.TextContent(""),
			sdk.Audio([]byte("RIFF"), "audio/wav"),
			sdk.ResourceLink("test://hostcheck/static", "static", "text/plain"),
			sdk.EmbeddedResource(sdk.TextResource("test://hostcheck/static", "text/plain", "embedded")),
			sdk.EmbeddedResource(sdk.BlobResource("test://hostcheck/doc/1", "application/octet-stream", []byte{0, 1})),
		)
		r.StructuredContent = map[string]int{"items": 5}
		return r, nil
	}
	return nil, sdk.Errorf("unknown op %q", a.Op)
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "hostcheck",
		Version:     "0.1.0",
		Description: "Test module: exercises every host function wrapper of the Go SDK.",
		Permissions: sdk.Permissions{Network: []string{"*.test"}, KV: true, Secrets: []string{"TOKEN"},
			Sampling: true, Elicitation: true, Roots: true},
	})
	sdk.Tool("check", check, sdk.Description("Run one SDK operation and report what it returned."))
	sdk.Resource("test://hostcheck/static", "static", func(ctx context.Context, r sdk.ReadRequest) ([]sdk.ResourceContents, error) {
		return []sdk.ResourceContents{{Text: "static text"}}, nil
	}, sdk.Description("A fixed text."), sdk.MIMEType("text/plain"))
	sdk.ResourceTemplate("test://hostcheck/doc/{id}", "doc", readDoc, sdk.Description("A document by id."))
	sdk.Prompt("greet", greet, sdk.Description("Greet someone."))
	sdk.Completions(func(ctx context.Context, r sdk.CompleteRequest) (*sdk.Completion, error) {
		if r.Ref.Type == "ref/resource" {
			return sdk.CompletePrefix([]string{"1", "2", "10"}, r.Value), nil
		}
		return sdk.CompletePrefix([]string{"Ada", "Alan", "Grace"}, r.Value), nil
	})
}

// readDoc serves test://hostcheck/doc/{id}: ids 1 to 9, as text; "blob"
// as bytes; others are not found.
func readDoc(ctx context.Context, r sdk.ReadRequest) ([]sdk.ResourceContents, error) {
	id := r.Variables["id"]
	switch {
	case id == "blob":
		return []sdk.ResourceContents{sdk.BlobResource(r.URI, "application/octet-stream", []byte{0xff, 0})}, nil
	case len(id) == 1 && id >= "1" && id <= "9":
		b, _ := json.Marshal(r.Variables)
		return []sdk.ResourceContents{sdk.TextResource("", "application/json", string(b))}, nil
	}
	return nil, sdk.RequestErrorf(sdk.CodeResourceNotFound, "no document %q", id)
}

// GreetArgs are the arguments of the greet prompt.
type GreetArgs struct {
	Who   string `json:"who" jsonschema:"Whom to greet."`
	Style string `json:"style,omitempty" jsonschema:"How: warm or short."`
}

func greet(ctx context.Context, a GreetArgs) (*sdk.PromptResult, error) {
	if a.Style == "bad" {
		return nil, sdk.RequestErrorf(sdk.CodeInvalidParams, "unknown style %q", a.Style)
	}
	return &sdk.PromptResult{Description: "A greeting.", Messages: []sdk.Message{
		sdk.UserMessage(sdk.TextContent(fmt.Sprintf("Greet %s (%s).", a.Who, a.Style))),
		sdk.AssistantMessage(sdk.EmbeddedResource(sdk.TextResource("test://hostcheck/static", "text/plain", "static text"))),
	}}, nil
}

func main() { sdk.Run() }
