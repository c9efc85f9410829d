package server_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// A Go program that already serves its own tools with the go-sdk adds the
// tools of wasmgate modules to the same server.
func Example() {
	ctx := context.Background()

	// The program's own server and tool.
	s := mcp.NewServer(&mcp.Implementation{Name: "my-server", Version: "v1.0.0"}, nil)
	type greetArgs struct {
		Name string `json:"name"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "greet", Description: "Say hello"}, func(_ context.Context, _ *mcp.CallToolRequest, in greetArgs) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello " + in.Name}}}, nil, nil
	})

	// Add the tools of a wasm module, each call sandboxed and bounded.
	rt, err := runtime.New(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	mod, err := rt.Load(ctx, "../guests/c/hash/hash.wasm")
	if err != nil {
		log.Fatal(err)
	}
	reg, err := server.Add(s, []*runtime.Module{mod}, &server.Options{
		Limits: runtime.Limits{Timeout: 5 * time.Second, Memory: 32 << 20},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range reg.Tools() {
		fmt.Printf("added %s from %s\n", t.Name, t.Module.Name())
	}

	// Serve as usual; here a client connects in memory and calls a tool.
	st, ct := mcp.NewInMemoryTransports()
	if _, err := s.Connect(ctx, st, nil); err != nil {
		log.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": "hello"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StructuredContent)
	// Output:
	// added sha256 from hash
	// added base64_encode from hash
	// added base64_decode from hash
	// map[sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824]
}
