package wasmgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// memConfig keeps compiled code in memory, out of the user's cache.
func memConfig() *runtime.Config { return runtime.NewConfig().WithCacheDir("") }

// entries is an audit sink that keeps what it is given.
type entries struct {
	mu  sync.Mutex
	all []audit.Entry
}

func (e *entries) Record(x audit.Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, x)
}

func (e *entries) tools() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, x := range e.all {
		out = append(out, x.Tool)
	}
	return out
}

// client connects a client to g's server; changed receives "tools" for
// each tools/list_changed.
func client(t *testing.T, g *wasmgate.Gateway) (cs *mcp.ClientSession, changed chan string) {
	t.Helper()
	ctx := context.Background()
	changed = make(chan string, 100)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := g.Server().Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err = mcp.NewClient(&mcp.Implementation{Name: "test"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- "tools" },
	}).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Close() })
	return cs, changed
}

// waitTools waits for tools/list_changed until the client lists want.
func waitTools(t *testing.T, cs *mcp.ClientSession, changed chan string, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for {
		select {
		case <-changed:
		case <-time.After(time.Minute):
			t.Fatalf("no tools/list_changed after a minute bringing %q; the client lists %q", want, got)
		}
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, tool := range res.Tools {
			got = append(got, tool.Name)
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
	}
}

func callText(t *testing.T, cs *mcp.ClientSession, name string, args any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	if res.IsError {
		t.Fatalf("call %s: tool error %q", name, parts)
	}
	return strings.Join(parts, "\n")
}

// TestGatewayChanges: modules added, replaced and removed through the
// gateway reach a connected client, with their grants and the audit sink;
// a change that cannot be made changes nothing.
func TestGatewayChanges(t *testing.T) {
	ctx := context.Background()
	sink := &entries{}
	var loadErrs []error
	g, err := wasmgate.Open(ctx, wasmgate.Options{
		Sources:     []wasmgate.Source{wasmgate.File("guests/wat/echo/echo.wasm"), wasmgate.Files("missing.wasm")},
		Config:      memConfig(),
		Audit:       sink,
		OnLoadError: func(err error) { loadErrs = append(loadErrs, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if len(loadErrs) != 1 || !strings.Contains(loadErrs[0].Error(), "missing.wasm") {
		t.Errorf("load errors %v, want one about missing.wasm", loadErrs)
	}
	if err := g.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	cs, changed := client(t, g)
	if got := callText(t, cs, "echo", nil); got != "ok" {
		t.Errorf("echo = %q", got)
	}

	if err := g.Add(ctx, wasmgate.Dir("guests/c/hash")); err != nil {
		t.Fatal(err)
	}
	waitTools(t, cs, changed, "echo", "sha256", "base64_encode", "base64_decode")
	if got := callText(t, cs, "base64_encode", map[string]any{"text": "hi"}); got != "aGk=" {
		t.Errorf("base64_encode = %q", got)
	}

	// A new version of echo, from bytes, replaces the file's.
	wasm, err := os.ReadFile("guests/wat/echo/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	old := g.Modules()[0]
	if err := g.Replace(ctx, wasmgate.Bytes("mem:echo-v2", wasm)); err != nil {
		t.Fatal(err)
	}
	if mods := g.Modules(); len(mods) != 2 || mods[0] == old || mods[0].Path() != "mem:echo-v2" {
		t.Errorf("modules after replacing echo: %v", mods)
	}
	if got := callText(t, cs, "echo", nil); got != "ok" {
		t.Errorf("echo after replace = %q", got)
	}

	if err := g.Remove("hash"); err != nil {
		t.Fatal(err)
	}
	waitTools(t, cs, changed, "echo")

	// Changes that cannot be made change nothing.
	if err := g.Remove("hash"); err == nil {
		t.Error("Remove of a module not served: no error")
	}
	if err := g.Add(ctx, wasmgate.File("guests/wat/echo/echo.wasm")); err == nil || !strings.Contains(err.Error(), "same name") {
		t.Errorf("Add of a second echo: %v", err)
	}
	if err := g.Add(ctx, wasmgate.Bytes("mem:garbage", []byte("not wasm"))); err == nil || !strings.Contains(err.Error(), "mem:garbage") {
		t.Errorf("Add of garbage: %v", err)
	}
	if err := g.Replace(ctx, wasmgate.Dir("guests/c/hash")); err == nil || !strings.Contains(err.Error(), "no module of that name is served") {
		t.Errorf("Replace of a module not served: %v", err)
	}
	if err := g.Add(ctx, wasmgate.Dir(t.TempDir())); err == nil || !strings.Contains(err.Error(), "no .wasm files") {
		t.Errorf("Add of a directory without modules: %v", err)
	}
	if mods := g.Modules(); len(mods) != 1 || mods[0].Name() != "echo" {
		t.Errorf("modules after refused changes: %v", mods)
	}
	if got := sink.tools(); !slices.Equal(got, []string{"echo", "base64_encode", "echo"}) {
		t.Errorf("audit entries for tools %q", got)
	}
}

// TestGatewayPolicy: the policy's grants reach the calls, a policy entry
// for a module not loaded is an error unless modules may be added later,
// and the errors name what is missing without naming command-line flags.
func TestGatewayPolicy(t *testing.T) {
	ctx := context.Background()
	pol, err := policy.Parse([]byte("modules:\n  add:\n    kv: {quota: 1MiB}\n  later: {}\n"), ".")
	if err != nil {
		t.Fatal(err)
	}
	opts := wasmgate.Options{
		Sources:  []wasmgate.Source{wasmgate.File("guests/wat/add/add.wasm")},
		Policy:   pol,
		StateDir: t.TempDir(),
		Config:   memConfig(),
	}
	if _, err := wasmgate.Open(ctx, opts); err == nil || !strings.Contains(err.Error(), `no module named "later"`) || strings.Contains(err.Error(), "--") {
		t.Errorf("Open with a policy for a module not loaded: %v", err)
	}
	opts.PolicyNamesLater = true
	g, err := wasmgate.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cs, _ := client(t, g)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": 1, "b": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if total := res.StructuredContent.(map[string]any)["total"]; total != 3.0 {
		t.Errorf("add's total = %v, want 3 (kv granted)", res.StructuredContent)
	}

	// Key-value storage with no directory for it.
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "")
	opts.StateDir = ""
	if _, err := wasmgate.Open(ctx, opts); !errors.Is(err, wasmgate.ErrNoStateDir) || strings.Contains(err.Error(), "--") {
		t.Errorf("Open without a state directory: %v", err)
	}
}

// TestGatewayWithdrawsModuleThatFailsToCompile: Open serves a module's
// manifest at once and withdraws the module when it fails to compile.
func TestGatewayWithdrawsModuleThatFailsToCompile(t *testing.T) {
	ctx := context.Background()
	broken := wasmgate.Source(brokenSource{brokenModule})
	g, err := wasmgate.Open(ctx, wasmgate.Options{Sources: []wasmgate.Source{wasmgate.File("guests/c/hash/hash.wasm"), broken}, Config: memConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := g.Ready(ctx); err == nil {
		t.Fatal("Ready: no error for a module that does not compile")
	}
	deadline := time.Now().Add(time.Minute)
	for len(g.Modules()) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if mods := g.Modules(); len(mods) != 1 || mods[0].Name() != "hash" {
		t.Errorf("modules after the broken one failed: %v", mods)
	}
}

// brokenModule is valid up to its code, which leaves a value on the stack
// of a function that returns none: it opens and then fails to compile.
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

// brokenSource is a module that fails to compile, with its manifest.
type brokenSource struct{ wasm []byte }

func (brokenSource) String() string { return "mem:broken" }

func (b brokenSource) Modules(context.Context) ([]wasmgate.Found, error) {
	return []wasmgate.Found{{Origin: "mem:broken", Wasm: b.wasm, Manifest: []byte(`{"abi":1,"name":"broken","tools":[{"name":"b","inputSchema":{"type":"object"}}]}`)}}, nil
}

// TestGatewayCall: a program calls a tool itself, as a client would: the
// arguments checked against the input schema, the call recorded.
func TestGatewayCall(t *testing.T) {
	ctx := context.Background()
	sink := &entries{}
	g, err := wasmgate.Open(ctx, wasmgate.Options{Sources: []wasmgate.Source{wasmgate.File("guests/c/hash/hash.wasm")}, Config: memConfig(), Audit: sink})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	out, err := g.Call(ctx, wasmgate.ToolCall{Module: "hash", Tool: "sha256", Arguments: json.RawMessage(`{"text":"abc"}`), Session: "me"})
	if err != nil || out.Err != nil {
		t.Fatalf("call: %v %v", err, out)
	}
	if got := string(out.Reply); !strings.Contains(got, "ba7816bf") {
		t.Errorf("reply %q", got)
	}
	if got := sink.tools(); len(got) != 1 || got[0] != "sha256" {
		t.Errorf("audit records %q", got)
	}
	var ae *wasmgate.ArgumentsError
	if _, err := g.Call(ctx, wasmgate.ToolCall{Module: "hash", Tool: "sha256", Arguments: json.RawMessage(`{"text":1}`)}); !errors.As(err, &ae) || !strings.Contains(err.Error(), `tool hash/sha256: invalid arguments: "text"`) {
		t.Errorf("bad arguments: %v", err)
	}
	if _, err := g.Call(ctx, wasmgate.ToolCall{Module: "hash", Tool: "md5"}); !errors.Is(err, runtime.ErrUnknownTool) {
		t.Errorf("unknown tool: %v", err)
	}
	if _, err := g.Call(ctx, wasmgate.ToolCall{Module: "nope", Tool: "x"}); err == nil || err.Error() != "module nope is not served" {
		t.Errorf("unknown module: %v", err)
	}
	if got := sink.tools(); len(got) != 1 {
		t.Errorf("calls not attempted were recorded: %q", got)
	}
}

// TestGatewayPolicyEngine: a policy entry's engine runs its module on that
// engine; the others run on the runtime's.
func TestGatewayPolicyEngine(t *testing.T) {
	ctx := context.Background()
	pol, err := policy.Parse([]byte("modules:\n  add:\n    engine: wazero-interpreter\n"), ".")
	if err != nil {
		t.Fatal(err)
	}
	g, err := wasmgate.Open(ctx, wasmgate.Options{
		Sources: []wasmgate.Source{wasmgate.Files("guests/wat/add/add.wasm", "guests/wat/echo/echo.wasm")},
		Policy:  pol,
		Config:  memConfig(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	engines := map[string]string{}
	for _, m := range g.Modules() {
		engines[m.Name()] = m.Engine()
	}
	if engines["add"] != "wazero-interpreter" || engines["echo"] != g.Runtime().Engine() {
		t.Fatalf("engines: %v, the runtime's %s", engines, g.Runtime().Engine())
	}
	cs, _ := client(t, g)
	if got := callText(t, cs, "echo", map[string]any{}); got != "ok" {
		t.Errorf("echo: %q", got)
	}
}
