// Package guesttest runs example tools in tests the way wasmgate does: a
// runtime with every capability host function, and calls whose result, log
// and progress are returned in a form tests can compare.
package guesttest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/runtime"
)

// Events records a call's log messages and progress reports (each as the
// JSON array [progress, total, message]).
type Events struct {
	mu       sync.Mutex
	Logs     []string
	Reported []string
}

// Log implements runtime.Events.
func (e *Events) Log(level abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Logs = append(e.Logs, msg)
}

// Progress implements runtime.Events.
func (e *Events) Progress(p, total float64, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, _ := json.Marshal([]any{p, total, msg})
	e.Reported = append(e.Reported, string(b))
}

// NewRuntime returns a runtime with every capability host function (a kv
// store in a temporary directory), closed when the test ends.
func NewRuntime(t *testing.T) *runtime.Runtime {
	t.Helper()
	store, err := kv.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	client := hosthttp.New(nil)
	t.Cleanup(client.CloseIdleConnections)
	funcs := append(store.HostFuncs(), secret.HostFuncs()...)
	funcs = append(funcs, client.HostFuncs()...)
	r, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(funcs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// Load loads a module or fails the test.
func Load(t *testing.T, r *runtime.Runtime, path string) *runtime.Module {
	t.Helper()
	m, err := r.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Result is what a call returned.
type Result struct {
	Text       string // all text content, joined
	Structured map[string]any
	IsError    bool
	Content    []mcp.Content
	Events     *Events
}

// Call calls tool with JSON arguments under grant g (nil: nothing granted).
// A failure of the runtime (a trap, a timeout) fails the test; a tool's own
// error result is returned with IsError set.
func Call(t *testing.T, m *runtime.Module, tool, args string, g *runtime.Grant) Result {
	t.Helper()
	ev := &Events{}
	out, err := m.Call(context.Background(), runtime.Call{Tool: tool, Arguments: json.RawMessage(args), Grant: g, Events: ev})
	if err != nil {
		t.Fatalf("%s %s: %v", tool, args, err)
	}
	res := Result{IsError: out.Result.IsError, Content: out.Result.Content, Events: ev}
	if out.Err != nil && out.Err.Kind != runtime.KindToolError {
		t.Fatalf("%s %s: %v", tool, args, out.Err)
	}
	for _, c := range out.Result.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			res.Text += tc.Text
		}
	}
	if out.Result.StructuredContent != nil {
		b, _ := json.Marshal(out.Result.StructuredContent)
		json.Unmarshal(b, &res.Structured)
	}
	return res
}
