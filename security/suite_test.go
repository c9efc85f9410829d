package security

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/capability/builtin" // the capabilities the policies grant
	"github.com/wasmgate/wasmgate/engine"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/host/client"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// attack is one hostile call and what containment looks like.
type attack struct {
	name string
	tool string
	args map[string]any
	// want is a substring of the result's text; the result must be an
	// error result unless okResult is set (some attacks are refused inside
	// a successful call: the probe reports the failed syscall).
	want     string
	okResult bool
	// or is another acceptable substring, for attacks that more than one
	// limit contains, whichever comes first on a slow or busy machine; the
	// result is then judged by it alone.
	or string
}

// suite is a server the way serve builds it: modules loaded, grants from a
// policy file through the narrower-of-two rule, capabilities registered.
type suite struct {
	cs      *mcp.ClientSession
	outside string // a file outside every mount, which must stay unread and unchanged
	secret  string
	url     string // a test HTTP server on loopback
	port    string
	asked   atomic.Int32 // questions that reached the client
}

// The policy: fetch may reach the test server's address by name and by
// IP, but not private addresses; fetchprivate may reach private addresses,
// but only the one server. Attacks that must end in a refusal of their own
// (an oversized request or response) get a minute, so that a slow machine
// or the race detector cannot turn them into timeouts; those that can only
// end at the time limit get half a second. conformance-tools, a Go module,
// gets a minute too: its questions without a grant must be refused, and
// the Go runtime starting under the interpreter and the race detector can
// take longer than half a second.
const policyYAML = `
defaults:
  limits: {timeout: 500ms, memory: 16MiB, output: 256KiB}
modules:
  probe:
    files: [{host: ./data, guest: /data, mode: ro}]
  kv:
    kv: {quota: 4KiB}
    limits: {timeout: 1m}
  fetch:
    network: {allow: ["localhost:PORT", "127.0.0.1:PORT", "169.254.169.254", "*.test"]}
    limits: {timeout: 1m}
  fetchprivate:
    network: {allow: ["127.0.0.1:PORT"], private: true}
    limits: {timeout: 1m}
  leakescaped:
    secrets: {TOKEN: file:LEAKFILE}
  conformance-tools:
    limits: {timeout: 1m}
`

// repack writes the fetch test module under another name asking for the
// given hosts, as a module author could.
func repack(t *testing.T, dir, name string, network []string) string {
	t.Helper()
	wasm, err := os.ReadFile("../guests/testdata/http/fetch.wasm")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["name"] = name
	m["permissions"] = map[string]any{"network": network}
	tools := m["tools"].([]any)
	tools[0].(map[string]any)["name"] = name
	b, _ := json.Marshal(m)
	packed, err := abi.EmbedManifest(wasm, b)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(path, packed, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// eachEngine runs f as a subtest, named by the engine, for every
// registered engine (engine/wazero registers the compiler and the
// interpreter; built with the wasmtime tag, engines_wasmtime_test.go adds
// wasmtime).
func eachEngine(t *testing.T, f func(t *testing.T, eng string)) {
	t.Helper()
	for _, name := range engine.Registered() {
		t.Run(name, func(t *testing.T) { f(t, name) })
	}
}

// newSuite builds the suite's server on the named engine.
func newSuite(t *testing.T, eng string) *suite {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := &suite{outside: filepath.Join(dir, "outside", "secret.txt"), secret: "outside-secret-7c1f"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o755))
	must(os.MkdirAll(filepath.Dir(s.outside), 0o755))
	must(os.WriteFile(s.outside, []byte(s.secret), 0o644))
	must(os.WriteFile(filepath.Join(dir, "data", "a.txt"), []byte("inside"), 0o644))
	must(os.Symlink("../outside/secret.txt", filepath.Join(dir, "data", "rel-link")))
	must(os.Symlink(s.outside, filepath.Join(dir, "data", "abs-link")))
	must(os.Symlink("../outside", filepath.Join(dir, "data", "dir-link")))
	// A server on loopback: reachable only with private addresses granted.
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello from the network") })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+s.port+"/ok", http.StatusFound) // localhost:PORT is not granted to fetchprivate
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 5<<20)) })
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	_, s.port, _ = strings.Cut(strings.TrimPrefix(ts.URL, "http://"), ":")
	s.url = ts.URL

	leakFile := filepath.Join(dir, "leak-secret")
	must(os.WriteFile(leakFile, []byte(leakedSecret), 0o600))
	polFile := filepath.Join(dir, "policy.yaml")
	must(os.WriteFile(polFile, []byte(strings.NewReplacer("PORT", s.port, "LEAKFILE", leakFile).Replace(policyYAML)), 0o644))
	pol, err := policy.Load(polFile)
	must(err)

	store, err := kv.Open(filepath.Join(dir, "state"), nil)
	must(err)
	t.Cleanup(func() { store.Close() })
	cfg := runtime.NewConfig().WithCacheDir("").WithEngine(engine.Lookup(eng)).
		WithHostFunctions(store.HostFuncs()...).
		WithHostFunctions(secret.HostFuncs()...).
		WithHostFunctions(hosthttp.New(nil).HostFuncs()...).
		WithHostFunctions(client.HostFuncs()...)
	rt, err := runtime.New(ctx, cfg)
	must(err)
	t.Cleanup(func() { rt.Close(ctx) })

	// conformance-tools asks for sampling, elicitation and roots; the
	// policy grants none of them.
	paths := []string{"../guests/c/hash/hash.wasm", "../guests/testdata/probe/probe.wasm", "../guests/testdata/kv/kv.wasm", "../guests/testdata/secret/secret.wasm", "../guests/conformance/tools/tools.wasm"}
	for _, h := range []string{"loop", "sleep", "memgrow", "hugemem", "flood", "stderrflood", "recurse", "trap", "exit3", "misuse", "badoutput",
		"bulkfill", "bulkcopy", "tablefill", "randflood", "stderrvec", "tablegrow", "tablehuge", "tablemin", "leakescaped"} {
		paths = append(paths, hostileDir+h+".wasm")
	}
	paths = append(paths,
		repack(t, dir, "fetch", []string{"localhost:" + s.port, "127.0.0.1:" + s.port, "169.254.169.254", "*.test"}),
		repack(t, dir, "fetchprivate", []string{"127.0.0.1:" + s.port, "localhost:" + s.port}))
	var mods []*runtime.Module
	manifests := map[string]*abi.Manifest{}
	for _, p := range paths {
		m, err := rt.Load(ctx, p)
		must(err)
		mods = append(mods, m)
		manifests[m.Name()] = m.Manifest()
	}
	must(pol.Check(manifests, false))
	grants := map[string]*policy.ModuleGrants{}
	for _, m := range mods {
		g, err := pol.Grants(m.Manifest(), &policy.Options{ResolveSecret: secret.Resolve})
		must(err)
		grants[m.Name()] = g
	}
	srv, _, err := server.New(nil, mods, &server.Options{
		Configure: func(tool server.Tool) server.ToolConfig {
			g := grants[tool.Module.Name()]
			return server.ToolConfig{Grant: g.Tools[tool.Manifest.Name], Limits: g.Limits}
		},
		ConfigureModule: func(m *runtime.Module) server.ToolConfig {
			g := grants[m.Name()]
			return server.ToolConfig{Grant: g.Module, Limits: g.Limits}
		},
	})
	must(err)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	must(err)
	t.Cleanup(func() { ss.Close() })
	// A client that would answer every question, and counts them: a guest
	// without the grant must never reach it.
	copts := &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			s.asked.Add(1)
			return &mcp.CreateMessageResult{Role: "assistant", Content: &mcp.TextContent{Text: "yes"}}, nil
		},
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			s.asked.Add(1)
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "u", "email": "e"}}, nil
		},
		Capabilities: &mcp.ClientCapabilities{RootsV2: &mcp.RootCapabilities{}},
	}
	s.cs, err = mcp.NewClient(&mcp.Implementation{Name: "security"}, copts).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	must(err)
	t.Cleanup(func() { s.cs.Close() })
	return s
}

func (s *suite) call(t *testing.T, tool string, args map[string]any) (string, bool) {
	t.Helper()
	return callText(t, s.cs, tool, args)
}

// callText calls a tool and returns its text and isError; a protocol error
// fails the test, since a guest failure must be a tool result. Every call
// is bounded by the server's limits, so no deadline is added here.
func callText(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v: a guest failure must be a tool result", tool, err)
	}
	return resultText(res), res.IsError
}

// TestContainment runs every attack through the MCP front end with the
// operator's grants, and after each one checks that a normal call still
// succeeds and that the file outside the mount was neither read nor changed.
func TestContainment(t *testing.T) {
	eachEngine(t, testContainment)
}

func testContainment(t *testing.T, eng string) {
	s := newSuite(t, eng)
	fetch := func(name, tool, url, want string) attack {
		return attack{name: name, tool: tool, args: map[string]any{"op": "request", "request": `{"url":"` + url + `"}`}, want: want, okResult: true}
	}
	ro := func(name string, args map[string]any) attack {
		return attack{name: name, tool: "probe", args: args, want: `"ok":false`, okResult: true}
	}
	attacks := []attack{
		// Compute, memory and output.
		{name: "infinite loop", tool: "loop", want: "time limit"},
		{name: "loop inside a blocking host call", tool: "sleep", want: "time limit"},
		{name: "memory bomb", tool: "memgrow", want: "ran out of memory", or: "time limit"},
		{name: "huge initial memory", tool: "hugemem", want: "before it runs"},
		{name: "stdout flood", tool: "flood", want: "output limit", or: "time limit"},
		{name: "stderr flood", tool: "stderrflood", want: "time limit"},
		{name: "deep recursion", tool: "recurse", want: "stack overflow", or: "time limit"},
		// Work the loop count does not see: each of these guests never
		// finishes, so its time limit is the only outcome.
		{name: "memory.fill unrolled in a called function", tool: "bulkfill", want: "time limit"},
		{name: "memory.copy in a recursion without loops", tool: "bulkcopy", want: "time limit"},
		{name: "table.fill over a large table", tool: "tablefill", want: "time limit"},
		{name: "random_get over all of memory", tool: "randflood", want: "time limit"},
		{name: "fd_write of a million iovecs", tool: "stderrvec", want: "time limit"},
		// Tables count against the memory limit.
		{name: "table.grow step by step", tool: "tablegrow", want: "ran out of memory"},
		{name: "table.grow by 2^32-16", tool: "tablehuge", want: "ran out of memory"},
		{name: "huge declared table", tool: "tablemin", want: "before it runs"},
		{name: "trap", tool: "trap", want: "unreachable"},
		{name: "non-zero exit", tool: "exit3", want: "exited with code 3"},
		{name: "malformed result", tool: "badoutput", want: "not a valid CallToolResult"},
		{name: "host function pointer outside memory", tool: "misuse", want: "outside guest memory"},
		{name: "kv key pointer outside memory", tool: "kv", args: map[string]any{"op": "badkeyptr"}, want: "outside guest memory"},
		{name: "kv length past the limit", tool: "kv", args: map[string]any{"op": "hugekey"}, want: "error -4", okResult: true},
		// Files: escapes from a read-only mount.
		ro("dot-dot out of the mount", map[string]any{"op": "read", "path": "/data/../outside/secret.txt"}),
		ro("dot-dot from the root", map[string]any{"op": "read", "path": "/../outside/secret.txt"}),
		ro("absolute host path", map[string]any{"op": "read", "path": "/etc/passwd"}),
		ro("relative symlink out", map[string]any{"op": "read", "path": "/data/rel-link"}),
		ro("absolute symlink out", map[string]any{"op": "read", "path": "/data/abs-link"}),
		ro("directory symlink out", map[string]any{"op": "read", "path": "/data/dir-link/secret.txt"}),
		ro("hard link to a file outside", map[string]any{"op": "link", "path": "/data/rel-link", "path2": "/data/hard"}),
		ro("symlink creation pointing out", map[string]any{"op": "symlink", "path": "../outside/secret.txt", "path2": "/data/new-link"}),
		ro("write on a read-only mount", map[string]any{"op": "write", "path": "/data/a.txt", "data": "pwned"}),
		ro("create on a read-only mount", map[string]any{"op": "create_excl", "path": "/data/new.txt"}),
		ro("truncate on a read-only mount", map[string]any{"op": "truncate", "path": "/data/a.txt"}),
		ro("rename on a read-only mount", map[string]any{"op": "rename", "path": "/data/a.txt", "path2": "/data/b.txt"}),
		ro("unlink on a read-only mount", map[string]any{"op": "unlink", "path": "/data/a.txt"}),
		ro("mkdir on a read-only mount", map[string]any{"op": "mkdir", "path": "/data/d"}),
		ro("write outside the mount", map[string]any{"op": "write", "path": "/outside/secret.txt", "data": "pwned"}),
		ro("read /proc", map[string]any{"op": "read", "path": "/proc/self/environ"}),
		// Environment and secrets.
		{name: "read the host environment", tool: "probe", args: map[string]any{"op": "getenv", "name": "HOME"}, want: `"set":false`, okResult: true},
		{name: "secret without a grant", tool: "secret", args: map[string]any{"name": "TOKEN", "mode": "print"}, want: "not granted", okResult: true},
		// Network.
		fetch("network to a host not granted", "fetch", "http://example.com/", "error -2"),
		fetch("SSRF to 127.0.0.1", "fetch", s.url+"/ok", "error -2"),
		fetch("SSRF to a name resolving to loopback", "fetch", "http://localhost:"+s.port+"/ok", "error -2"),
		fetch("SSRF to [::1]", "fetch", "http://[::1]:"+s.port+"/ok", "error -"),
		fetch("SSRF to 0x7f000001", "fetch", "http://0x7f000001:"+s.port+"/ok", "error -1"),
		fetch("SSRF to cloud metadata", "fetch", "http://169.254.169.254/latest/meta-data/", "error -2"),
		fetch("redirect to a host not granted", "fetchprivate", s.url+"/redirect", "error -2"),
		fetch("oversized response", "fetchprivate", s.url+"/huge", "error -4"),
		{name: "oversized request", tool: "fetchprivate", args: map[string]any{"op": "request", "request": `{"url":"` + s.url + `/ok","body":"` + strings.Repeat("x", 2<<20) + `"}`}, want: "error -4", okResult: true},
		// Storage.
		{name: "kv quota overflow", tool: "kv", args: map[string]any{"op": "fill", "key": "k", "value": strings.Repeat("v", 512), "count": 100}, want: "quota", okResult: true},
		{name: "ask the client's model without a grant", tool: "test_sampling", args: map[string]any{"prompt": "say yes"}, want: "not granted"},
		{name: "ask the user without a grant", tool: "test_elicitation", args: map[string]any{"message": "your password?"}, want: "not granted"},
		{name: "read the client's roots without a grant", tool: "test_input_required_result_list_roots", want: "not granted"},
	}
	goroutines, rss := goruntime.NumGoroutine(), rssKiB(t)
	// The granted path works: a private grant reaches the test server.
	if text, _ := s.call(t, "fetchprivate", map[string]any{"op": "request", "request": `{"url":"` + s.url + `/ok"}`}); !strings.Contains(text, "hello from the network") {
		t.Fatalf("granted request: %q", clip(text))
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			text, isErr := s.call(t, a.tool, a.args)
			stoppedOtherwise := a.or != "" && strings.Contains(text, a.or)
			if !strings.Contains(text, a.want) && !stoppedOtherwise {
				t.Errorf("result %q does not say %q", clip(text), a.want)
			}
			if isErr == a.okResult && !stoppedOtherwise {
				t.Errorf("isError = %v, want %v: %q", isErr, !a.okResult, clip(text))
			}
			if strings.Contains(text, s.secret) {
				t.Fatalf("the file outside the mount was read: %q", clip(text))
			}
			if b, err := os.ReadFile(s.outside); err != nil || string(b) != s.secret {
				t.Fatalf("the file outside the mount changed: %q %v", b, err)
			}
			// A normal call right after.
			if text, isErr := s.call(t, "sha256", map[string]any{"text": "abc"}); isErr || !strings.HasPrefix(text, "ba7816bf") {
				t.Fatalf("good call after the attack: %q isError=%v", clip(text), isErr)
			}
			if text, isErr := s.call(t, "probe", map[string]any{"op": "read", "path": "/data/a.txt"}); isErr || !strings.Contains(text, `"data":"inside"`) {
				t.Fatalf("granted read after the attack: %q isError=%v", clip(text), isErr)
			}
			checkBounded(t, goroutines, rss)
		})
	}
	if len(attacks) < 25 {
		t.Errorf("only %d attacks", len(attacks))
	}
	if n := s.asked.Load(); n != 0 {
		t.Errorf("the client was asked %d questions by guests without a grant", n)
	}
}

// TestLyingManifest: a module whose manifest claims a safe tool
// (readOnlyHint, no open world) while asking for more, or that uses what it
// never asked for, gets neither: hints follow grants and undeclared use is
// denied.
func TestLyingManifest(t *testing.T) {
	name, _ := engine.Default()
	s := newSuite(t, name)
	// kv's manifest asks for kv; the policy grants it, so kv cannot be
	// served as read-only whatever its manifest says.
	res, err := s.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		a := tool.Annotations
		switch tool.Name {
		case "kv":
			if a == nil || a.ReadOnlyHint {
				t.Errorf("kv is granted storage but served as read-only: %+v", a)
			}
		}
		if strings.HasPrefix(tool.Name, "fetch") {
			continue // granted the network: the open world is true
		}
		if a == nil || a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s has no network grant but is not served with openWorldHint false: %+v", tool.Name, a)
		}
	}
	// probe never asked for secrets; asking at run time is denied.
	if text, _ := s.call(t, "secret", map[string]any{"name": "PROBE", "mode": "print"}); !strings.Contains(text, "not granted") {
		t.Errorf("secret not in the manifest: %q", clip(text))
	}
}

// checkBounded fails the test unless the server's goroutines come back to
// near goroutines and its resident memory stays within 256 MiB of rssKiB
// (four times that under the race detector):
// every attack's calls have ended, and none kept memory beyond its limits
// (16 MiB in the suite's policy).
func checkBounded(t *testing.T, goroutines int, rss int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); goruntime.NumGoroutine() > goroutines+10; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before the attacks, %d after this one\n%s", goroutines, goruntime.NumGoroutine(), buf[:goruntime.Stack(buf, true)])
		}
	}
	bound := int64(256 << 10)
	if raceDetector {
		// The interpreter's stacks and the guests' memory are Go heap, and
		// each heap byte has its shadow: measured 400 MiB of growth over
		// the interpreter's attacks with the race detector, under 150 without.
		bound *= 4
	}
	if now := rssKiB(t); now-rss > bound {
		t.Fatalf("resident memory grew from %d MiB to %d MiB, more than %d MiB", rss>>10, now>>10, bound>>10)
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
