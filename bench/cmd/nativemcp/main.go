// Command nativemcp is the baseline of the HTTP throughput rows of `make
// bench`: a go-sdk MCP server over stateless streamable HTTP, with the
// options and HTTP server limits wasmgate serve uses, serving one native Go
// tool that does the work of an example wasm tool with the same name and
// the same input and output schemas (read from the module's manifest).
//
//	nativemcp -http 127.0.0.1:8788 -module ../guests/go/jsonq/jsonq.wasm -tool query
//
// Tools: sha256 (guests/c/hash) and query (guests/go/jsonq, with a copy of
// the tool's own path code in path.go).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/server"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("nativemcp: ")
	addr := flag.String("http", "127.0.0.1:8788", "serve streamable HTTP at `ADDR`, path /mcp")
	module := flag.String("module", "", "the wasm module whose tool this replaces (its manifest gives the schemas)")
	name := flag.String("tool", "", "the tool: sha256 or query")
	flag.Parse()
	s, err := newServer(*module, *name)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	hs := newHTTPServer(s)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shut)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// newHTTPServer serves s as wasmgate serve --http --stateless does: the
// go-sdk's stateless streamable handler with the same options, under an
// http.Server with the same limits.
func newHTTPServer(s *mcp.Server) *http.Server {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          mcp.DefaultMaxRequestBodyBytes,
		PropagateRequestCancellation: true,
	})
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: server.DefaultReadHeaderTimeout,
		ReadTimeout:       server.DefaultReadTimeout,
		IdleTimeout:       server.DefaultIdleTimeout,
		MaxHeaderBytes:    server.DefaultMaxHeaderBytes,
	}
}

// newServer is a server with the one native tool replacing tool of the
// module at path.
func newServer(path, name string) (*mcp.Server, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := abi.ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var tool *mcp.Tool
	for _, t := range m.Tools {
		if t.Name == name {
			tool = &mcp.Tool{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: t.InputSchema}
			if len(t.OutputSchema) > 0 {
				tool.OutputSchema = t.OutputSchema
			}
		}
	}
	if tool == nil {
		return nil, fmt.Errorf("%s has no tool %q", path, name)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "nativemcp", Version: "0.1.0"}, nil)
	switch name {
	case "sha256":
		mcp.AddTool(s, tool, hashText)
	case "query":
		mcp.AddTool(s, tool, query)
	default:
		return nil, fmt.Errorf("no native tool %q (have sha256, query)", name)
	}
	return s, nil
}

type textArgs struct {
	Text string `json:"text"`
}

type digest struct {
	SHA256 string `json:"sha256"`
}

// hashText answers as guests/c/hash's sha256 does: the hex digest as text
// and as structured content.
func hashText(_ context.Context, _ *mcp.CallToolRequest, in textArgs) (*mcp.CallToolResult, digest, error) {
	sum := sha256.Sum256([]byte(in.Text))
	h := hex.EncodeToString(sum[:])
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: h}}}, digest{h}, nil
}

type queryArgs struct {
	JSON string `json:"json"`
	Path string `json:"path"`
}

type answer struct {
	Values []any `json:"values"`
	Count  int   `json:"count"`
}

// query answers as guests/go/jsonq's query does, with its code.
func query(_ context.Context, _ *mcp.CallToolRequest, a queryArgs) (*mcp.CallToolResult, answer, error) {
	// The SDK answers an error as a result with isError and its text.
	fail := func(format string, args ...any) (*mcp.CallToolResult, answer, error) {
		return nil, answer{}, fmt.Errorf(format, args...)
	}
	steps, err := parsePath(a.Path)
	if err != nil {
		return fail("invalid path %q: %v", a.Path, err)
	}
	doc, err := decode(a.JSON)
	if err != nil {
		return fail("the json argument is not valid JSON: %v", err)
	}
	vals, err := eval(steps, doc)
	if err != nil {
		return fail("%v", err)
	}
	if vals == nil {
		vals = []any{}
	}
	ans := answer{Values: vals, Count: len(vals)}
	text := "no values"
	if ans.Count > 0 {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = indent(v)
		}
		text = strings.Join(parts, "\n")
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, ans, nil
}
