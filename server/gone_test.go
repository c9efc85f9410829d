package server

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
)

// TestRequestReachingARemovedModule: a request that the go-sdk handed to a
// module's handler just before the module was removed (it was on its way)
// runs on what serves the same name now, or is answered with an error that
// says the module is no longer served. The handlers are called directly,
// as the go-sdk would have called them.
func TestRequestReachingARemovedModule(t *testing.T) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile("../guests/wat/echo/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	compile := func(manifest string) *runtime.Module {
		m, err := rt.Compile(ctx, "echo.wasm", wasm, []byte(manifest), "test")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const man = `{"abi":1,"name":"echo","tools":[{"name":"echo","inputSchema":{"type":"object"}}],
		"resources":[{"uri":"echo://r","name":"r"}],"prompts":[{"name":"p"}]}`
	old := compile(man)
	s := mcp.NewServer(&mcp.Implementation{Name: "test"}, nil)
	reg, err := Add(s, []*runtime.Module{old}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := reg.current()
	oldTool, oldRes, oldPrompt := st.toolNamed["echo"], st.resources["echo://r"], st.prompts["p"]
	req := &mcp.CallToolRequest{Params: &mcp.CallToolParamsRaw{Name: "echo"}}

	// Replaced: the old handler serves the call with the new module.
	if _, err := reg.Replace(old, compile(man)); err != nil {
		t.Fatal(err)
	}
	res, err := oldTool.handle(ctx, req)
	if err != nil || res.IsError || res.Content[0].(*mcp.TextContent).Text != "ok" {
		t.Errorf("a call reaching the replaced module: %+v %v, want the new module's ok", res, err)
	}

	// Removed: the answer says so.
	reg.Remove(reg.Modules()[0])
	res, err = oldTool.handle(ctx, req)
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "module echo is no longer served") {
		t.Errorf("a call reaching the removed module: %+v %v", res, err)
	}
	_, err = oldRes.read(ctx, &mcp.ReadResourceRequest{Params: &mcp.ReadResourceParams{URI: "echo://r"}})
	if err == nil || !strings.Contains(err.Error(), "no longer served") {
		t.Errorf("a read reaching the removed module: %v", err)
	}
	_, err = oldPrompt.get(ctx, &mcp.GetPromptRequest{Params: &mcp.GetPromptParams{Name: "p"}})
	if err == nil || !strings.Contains(err.Error(), "no longer served") {
		t.Errorf("a prompt reaching the removed module: %v", err)
	}
}
