package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// The notes example end to end: its notes are resources a client can
// subscribe to, which its tools change; it has a prompt and completions.
func TestNotesResources(t *testing.T) {
	ctx := context.Background()
	mod := loadNotes(t)
	grant := runtime.NewGrant(&kv.Grant{Quota: 1 << 20})
	s, _, err := server.New(nil, []*runtime.Module{mod}, &server.Options{
		Configure:       func(server.Tool) server.ToolConfig { return server.ToolConfig{Grant: grant} },
		ConfigureModule: func(*runtime.Module) server.ToolConfig { return server.ToolConfig{Grant: grant} },
	})
	if err != nil {
		t.Fatal(err)
	}
	updated := make(chan string, 10)
	cs := connectTo(t, s, &mcp.ClientOptions{
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) { updated <- req.Params.URI },
	}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})

	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "notes://index"}); err != nil {
		t.Fatal(err)
	}
	if res := call(t, cs, "add_note", map[string]any{"title": "Shopping", "text": "milk"}); res.IsError {
		t.Fatalf("add_note: %s", text(res))
	}
	select {
	case uri := <-updated:
		if uri != "notes://index" {
			t.Errorf("updated %s, want notes://index (the only subscription)", uri)
		}
	case <-time.After(time.Minute):
		t.Fatal("no notifications/resources/updated for notes://index after add_note")
	}

	read := func(uri string) string {
		t.Helper()
		r, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		return r.Contents[0].Text
	}
	if got := read("notes://index"); !strings.Contains(got, "[#1 Shopping](notes://1)") {
		t.Errorf("index = %q", got)
	}
	if got := read("notes://1"); !strings.HasPrefix(got, "# Shopping\n\nmilk") {
		t.Errorf("note = %q", got)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "notes://9"}); err == nil || !strings.Contains(err.Error(), "no note #9") {
		t.Errorf("a missing note: %v", err)
	}

	p, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "summarize_notes"})
	if err != nil || len(p.Messages) != 2 {
		t.Fatalf("summarize_notes = %+v, %v", p, err)
	}
	if er, ok := p.Messages[0].Content.(*mcp.EmbeddedResource); !ok || er.Resource.URI != "notes://1" {
		t.Errorf("first message: %#v", p.Messages[0].Content)
	}
	comp, err := cs.Complete(ctx, &mcp.CompleteParams{
		Ref:      &mcp.CompleteReference{Type: "ref/resource", URI: "notes://{id}"},
		Argument: mcp.CompleteParamsArgument{Name: "id", Value: ""},
	})
	if err != nil || strings.Join(comp.Completion.Values, ",") != "1" {
		t.Errorf("completion = %+v, %v", comp, err)
	}
}

// loadNotes loads the notes example on a runtime of its own with a
// key-value store in a temporary directory.
func loadNotes(t *testing.T) *runtime.Module {
	t.Helper()
	ctx := context.Background()
	store, err := kv.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithHostFunctions(store.HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Load(ctx, "../guests/go/notes/notes.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return mod
}
