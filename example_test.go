package wasmgate_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// A Go program that serves tools of its own adds the sandboxed tools of a
// directory of modules to its go-sdk server, with the capabilities its
// policy grants: here the add module may keep a running total in its
// key-value storage.
func Example() {
	ctx := context.Background()
	state, err := os.MkdirTemp("", "wasmgate-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(state)
	pol, err := policy.Parse([]byte("modules:\n  add:\n    kv: {quota: 1MiB}\n"), ".")
	if err != nil {
		log.Fatal(err)
	}

	// The program's own server, with a tool of its own.
	srv := mcp.NewServer(&mcp.Implementation{Name: "my-server", Version: "v1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "hello", Description: "Says hello."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, struct{}, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello"}}}, struct{}{}, nil
		})

	g, err := wasmgate.Open(ctx, wasmgate.Options{
		Sources:  []wasmgate.Source{wasmgate.Dir("guests/wat")},
		Policy:   pol,
		StateDir: state,
		Server:   srv,
		Config:   runtime.NewConfig().WithCacheDir(""), // compiled code in memory only
	})
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	for _, m := range g.Modules() {
		fmt.Printf("module %s: key-value storage granted: %t\n", m.Name(), g.Grants(m).Module.Get("kv") != nil)
	}

	// A client, in memory here; srv.Run(ctx, &mcp.StdioTransport{}) or
	// g.HTTPServer serve real ones.
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tools.Tools {
		fmt.Println("tool", t.Name)
	}
	for range 2 {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 2, "b": 3}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("add:", res.StructuredContent)
	}
	// Output:
	// module add: key-value storage granted: true
	// module echo: key-value storage granted: false
	// tool add
	// tool echo
	// tool hello
	// add: map[sum:5 total:5]
	// add: map[sum:5 total:10]
}
