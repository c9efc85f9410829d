// Package guesttest runs example tools in tests the way wasmgate does: a
// runtime with every capability host function, and calls whose result, log
// and progress are returned in a form tests can compare. It also holds what
// the guest SDKs' tests share: a fake client (client.go), JSON comparisons
// (json.go) and the checks of the SDK test modules that behave alike in
// every language (sdkmethods.go).
package guesttest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/host/client"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// Events records what a call reported: it implements runtime.Events and
// runtime.ResourceEvents. Each report is kept in the view tests compare.
type Events struct {
	mu sync.Mutex
	// Logs holds each log message; Leveled the same messages, each as
	// "level: message".
	Logs, Leveled []string
	// Reported holds each progress report as the JSON array
	// [progress, total, message].
	Reported []string
	// Updated holds the URI of each resource reported updated.
	Updated []string
	// All holds every report in the order they came: "log level: message",
	// "progress [progress,total,message]" and "resource_updated URI".
	All []string
}

// Log implements runtime.Events.
func (e *Events) Log(level abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	leveled := level.String() + ": " + msg
	e.Logs = append(e.Logs, msg)
	e.Leveled = append(e.Leveled, leveled)
	e.All = append(e.All, "log "+leveled)
}

// Progress implements runtime.Events.
func (e *Events) Progress(p, total float64, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, _ := json.Marshal([]any{p, total, msg})
	e.Reported = append(e.Reported, string(b))
	e.All = append(e.All, "progress "+string(b))
}

// ResourceUpdated implements runtime.ResourceEvents.
func (e *Events) ResourceUpdated(uri string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Updated = append(e.Updated, uri)
	e.All = append(e.All, "resource_updated "+uri)
}

// OpenRuntime returns a runtime with every capability host function: kv
// (its store in dir), secret, http and the client's (sample, elicit, ask);
// closeAll closes the runtime and what it holds. Tests that share one
// runtime open it with this; NewRuntime is the one for a single test.
func OpenRuntime(dir string) (r *runtime.Runtime, closeAll func(), err error) {
	store, err := kv.Open(dir, nil)
	if err != nil {
		return nil, nil, err
	}
	hc := hosthttp.New(nil)
	funcs := append(store.HostFuncs(), secret.HostFuncs()...)
	funcs = append(funcs, hc.HostFuncs()...)
	funcs = append(funcs, client.HostFuncs()...)
	r, err = runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(funcs...))
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return r, func() {
		r.Close(context.Background())
		hc.CloseIdleConnections()
		store.Close()
	}, nil
}

// NewRuntime returns a runtime with every capability host function, the
// client's (sample, elicit, ask) included, and a kv store in a temporary
// directory, closed when the test ends.
func NewRuntime(t testing.TB) *runtime.Runtime {
	t.Helper()
	r, closeAll, err := OpenRuntime(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAll)
	return r
}

// Load loads a module or fails the test.
func Load(t testing.TB, r *runtime.Runtime, path string) *runtime.Module {
	t.Helper()
	m, err := r.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// LoadNew loads the module at path in a runtime of its own (NewRuntime).
func LoadNew(t testing.TB, path string) *runtime.Module {
	t.Helper()
	return Load(t, NewRuntime(t), path)
}

// Result is what a call returned, as a client receives it (Out holds the
// runtime's outcome).
type Result struct {
	Text       string // all text content, joined
	Structured map[string]any
	IsError    bool
	Content    []mcp.Content
	Events     *Events
	Out        *runtime.Outcome
}

// Call calls tool with JSON arguments under grant g (nil: nothing granted).
// A failure of the runtime (a trap, a timeout) fails the test; a tool's own
// error result is returned with IsError set.
func Call(t testing.TB, m *runtime.Module, tool, args string, g *runtime.Grant) Result {
	t.Helper()
	return CallWith(t, m, runtime.Call{Tool: tool, Arguments: json.RawMessage(args), Grant: g})
}

// CallWith makes call c as Call does; its events are recorded in c.Events
// if that is an *Events, else in a new one.
func CallWith(t testing.TB, m *runtime.Module, c runtime.Call) Result {
	t.Helper()
	ev, ok := c.Events.(*Events)
	if !ok {
		ev = &Events{}
		c.Events = ev
	}
	out, err := m.Call(context.Background(), c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Tool, c.Arguments, err)
	}
	if out.Err != nil && out.Err.Kind != runtime.KindToolError {
		t.Fatalf("%s %s: %v (stderr %q)", c.Tool, c.Arguments, out.Err, out.Stderr)
	}
	// The result as a client receives it.
	mr := server.CallToolResult(out)
	res := Result{IsError: mr.IsError, Content: mr.Content, Events: ev, Out: out, Text: text(mr)}
	if mr.StructuredContent != nil {
		b, err := json.Marshal(mr.StructuredContent)
		if err == nil {
			err = json.Unmarshal(b, &res.Structured)
		}
		if err != nil {
			t.Fatalf("%s %s: structuredContent %s: %v", c.Tool, c.Arguments, b, err)
		}
	}
	return res
}

// ToolResult is the result of out as a client receives it.
func ToolResult(out *runtime.Outcome) *mcp.CallToolResult { return server.CallToolResult(out) }

// Text returns the text content of out's result, joined.
func Text(out *runtime.Outcome) string { return text(server.CallToolResult(out)) }

func text(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// ReadResource reads uri (match: the template it matched, or nil) in call
// c, failing the test unless the read succeeds.
func ReadResource(t testing.TB, m *runtime.Module, uri string, match *abi.TemplateMatch, c runtime.Call) *mcp.ReadResourceResult {
	t.Helper()
	out, err := m.ReadResource(context.Background(), uri, match, c)
	if err != nil || out.Err != nil {
		t.Fatalf("read %s: %v %v", uri, err, out.Err)
	}
	return server.ReadResourceResult(out.Resource)
}

// GetPrompt gets prompt name with args in call c, failing the test unless
// it succeeds.
func GetPrompt(t testing.TB, m *runtime.Module, name string, args map[string]string, c runtime.Call) *mcp.GetPromptResult {
	t.Helper()
	out, err := m.GetPrompt(context.Background(), name, args, c)
	if err != nil || out.Err != nil {
		t.Fatalf("prompt %s %v: %v %v", name, args, err, out.Err)
	}
	return server.GetPromptResult(out.Prompt)
}

// Complete completes p, failing the test unless it succeeds.
func Complete(t testing.TB, m *runtime.Module, p abi.CompleteParams) *mcp.CompleteResult {
	t.Helper()
	out, err := m.Complete(context.Background(), p, runtime.Call{})
	if err != nil || out.Err != nil {
		t.Fatalf("complete %+v: %v %v", p, err, out.Err)
	}
	return server.CompleteResult(out.Completion)
}

// WantGuestError checks that out is a guest error with code and a message
// containing msg.
func WantGuestError(t testing.TB, what string, out *runtime.Outcome, code int64, msg string) {
	t.Helper()
	if out.GuestError == nil || out.GuestError.Code != code || !strings.Contains(out.GuestError.Message, msg) {
		t.Errorf("%s: guest error %+v (err %v), want code %d containing %q", what, out.GuestError, out.Err, code, msg)
	}
}
