package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// TestWithdraw: a withdrawn module's tools, resources, templates and
// prompts leave the server, clients are told each list changed, and the
// other modules are served as before.
func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	notes := loadNotes(t)
	s, reg, err := server.New(nil, []*runtime.Module{notes, testModules["hash"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan string, 10)
	cs := connectTo(t, s, &mcp.ClientOptions{
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { changed <- "tools" },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { changed <- "resources" },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { changed <- "prompts" },
	}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if len(reg.Resources()) == 0 || len(reg.Prompts()) == 0 {
		t.Fatalf("the notes module serves no resources or prompts: %+v %+v", reg.Resources(), reg.Prompts())
	}

	reg.Withdraw(notes)
	got := map[string]bool{}
	for len(got) < 3 {
		select {
		case kind := <-changed:
			got[kind] = true
		case <-time.After(time.Minute):
			t.Fatalf("list_changed notifications after a minute: %v, want tools, resources and prompts", got)
		}
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash := testModules["hash"]
	for _, tool := range tools.Tools {
		if _, ok := hash.Tool(tool.Name); !ok {
			t.Errorf("tool %s of the withdrawn module is still listed", tool.Name)
		}
	}
	if len(tools.Tools) != len(hash.Manifest().Tools) {
		t.Errorf("%d tools listed, want hash's %d", len(tools.Tools), len(hash.Manifest().Tools))
	}
	if res, err := cs.ListResources(ctx, nil); err != nil || len(res.Resources) != 0 {
		t.Errorf("resources after withdrawing: %+v %v", res, err)
	}
	if res, err := cs.ListResourceTemplates(ctx, nil); err != nil || len(res.ResourceTemplates) != 0 {
		t.Errorf("resource templates after withdrawing: %+v %v", res, err)
	}
	if res, err := cs.ListPrompts(ctx, nil); err != nil || len(res.Prompts) != 0 {
		t.Errorf("prompts after withdrawing: %+v %v", res, err)
	}
	if mods := reg.Modules(); len(mods) != 1 || mods[0] != hash || len(reg.Tools()) != len(hash.Manifest().Tools) || len(reg.Resources()) != 0 || len(reg.Prompts()) != 0 {
		t.Errorf("registry after withdrawing: modules %v, tools %v", mods, reg.Tools())
	}
	wantOK(t, call(t, cs, "sha256", map[string]any{"text": "abc"}))
}
