package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// brokenModule passes every check made before compiling (it is well
// formed, imports nothing, exports _start and memory) but fails to
// compile: _start, of type () -> (), leaves an i32 on the stack.
var brokenModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
	0x03, 0x02, 0x01, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x01,
	0x07, 0x13, 0x02,
	0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b,
}

// TestServeWithdrawsModuleThatFailsToCompile: serve lists every module's
// tools from its manifest before compiling; one that then fails to compile
// is withdrawn with the reason logged, and the others keep working. (That
// clients are told the list changed is server.TestWithdraw's.)
func TestServeWithdrawsModuleThatFailsToCompile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.wasm"), brokenModule, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `{"abi":1,"name":"broken","tools":[{"name":"broken_tool","inputSchema":{"type":"object"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "broken.manifest.json"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := make(chan struct{}, 10)
	cs, stderr := stdioClient(t, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	}, filepath.Join(dir, "broken.wasm"), serveGuests+"/c/hash/hash.wasm")

	// The broken tool is listed, or already withdrawn: either way, a call
	// to it is an error and never runs.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "broken_tool"})
	if err == nil && !res.IsError {
		t.Fatalf("the broken tool answered: %s", resultText(res))
	}
	// Listed at first or not (compiling may fail before the client asks),
	// it is withdrawn, and a client that saw it is told the list changed.
	listed := false
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		tools, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(tools.Tools, func(tool *mcp.Tool) bool { return tool.Name == "broken_tool" }) {
			break
		}
		listed = true
		if time.Now().After(deadline) {
			t.Fatalf("broken_tool still listed after a minute:\n%s", stderr)
		}
	}
	if listed {
		select {
		case <-changed:
		case <-time.After(time.Minute):
			t.Fatal("no tools/list_changed within a minute of the withdrawal")
		}
	}
	if !strings.Contains(stderr.String(), "module withdrawn") || !strings.Contains(stderr.String(), "compile") {
		t.Errorf("the withdrawal is not logged with its reason:\n%s", stderr)
	}
	if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": "abc"}), "sha256"); got != hexSHA256("abc") {
		t.Errorf("sha256 = %v", got)
	}
}
