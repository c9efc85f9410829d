package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestNodeClient runs test/node/client.mjs: the official MCP TypeScript SDK
// against the built binary over stdio, streamable HTTP and SSE. It needs
// node and `npm ci` in test/node (make test-node does both); without them it
// is skipped, unless WASMGATE_REQUIRE_NODE=1 makes that a failure.
func TestNodeClient(t *testing.T) {
	dir := filepath.Join("..", "..", "test", "node")
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("WASMGATE_REQUIRE_NODE") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (set WASMGATE_REQUIRE_NODE=1 to make this a failure)", args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		missing("the MCP TypeScript SDK is not installed: run npm ci in test/node (or make test-node)")
	}
	bin, err := filepath.Abs(wasmgateBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WASMGATE_BIN="+bin, "XDG_CACHE_HOME="+cacheDir)
	out, err := cmd.CombinedOutput()
	t.Logf("node client.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("node client.mjs: %v", err)
	}
}
