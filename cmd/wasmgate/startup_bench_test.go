package main

import (
	"context"
	"io"
	"os/exec"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
)

// BenchmarkServeStartup times `wasmgate serve` over stdio from the start of
// the process to the answer of tools/list, as a client such as Claude Code
// sees it: serving one small module (the floor: process start and the MCP
// handshake), and serving every example and conformance module of guests/
// with an empty compilation cache (cold) and with a filled one (warm).
func BenchmarkServeStartup(b *testing.B) {
	bin := wasmgateBinary(b)
	start := func(b *testing.B, cache string, args ...string) {
		cmd := exec.Command(bin, append([]string{"serve", "--cache-dir", cache}, args...)...)
		cmd.Stderr = io.Discard
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil || len(res.Tools) == 0 {
			b.Fatalf("tools/list: %v", err)
		}
		b.StopTimer()
		cs.Close()
		b.StartTimer()
	}
	b.Run("one-module", func(b *testing.B) {
		cache := b.TempDir()
		for b.Loop() {
			start(b, cache, serveGuests+"/wat/echo/echo.wasm")
		}
	})
	b.Run("guests/cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			cache := b.TempDir()
			b.StartTimer()
			start(b, cache, serveGuests)
		}
	})
	b.Run("guests/warm", func(b *testing.B) {
		cache := b.TempDir()
		fillCache(b, cache, serveGuests)
		for b.Loop() {
			start(b, cache, serveGuests)
		}
	})
}

// fillCache compiles every module under dir into the compilation cache.
func fillCache(b *testing.B, cache, dir string) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(cache))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	paths, _ := modulePaths([]string{dir})
	for _, p := range paths {
		if m, err := rt.Open(ctx, p); err == nil {
			_ = m.Ready(ctx) // a module that does not compile is not served either
		}
	}
}
