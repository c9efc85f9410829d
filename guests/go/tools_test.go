// Package gotools tests the Go example tools and the Go SDK's host-function
// wrappers through the wasmgate runtime, from their committed modules.
package gotools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/runtime"
)

var (
	rtOnce sync.Once
	rt     *runtime.Runtime
	rtErr  error
	mods   sync.Map
)

// testRuntime is one runtime for the package, with every capability's host
// functions and a kv store in a temporary directory.
func testRuntime(t testing.TB) *runtime.Runtime {
	t.Helper()
	rtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gotools-kv")
		if err != nil {
			rtErr = err
			return
		}
		store, err := kv.Open(dir, nil)
		if err != nil {
			rtErr = err
			return
		}
		var fns []runtime.HostFunc
		fns = append(fns, store.HostFuncs()...)
		fns = append(fns, hosthttp.New(nil).HostFuncs()...)
		fns = append(fns, secret.HostFuncs()...)
		rt, rtErr = runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(fns...))
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rt
}

func module(t testing.TB, path string) *runtime.Module {
	t.Helper()
	if m, ok := mods.Load(path); ok {
		return m.(*runtime.Module)
	}
	m, err := testRuntime(t).Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mods.Store(path, m)
	return m
}

type events struct {
	mu   sync.Mutex
	logs []string
	prog []string
}

func (e *events) Log(l abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, l.String()+": "+msg)
}

func (e *events) Progress(p, total float64, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prog = append(e.prog, fmt.Sprintf("%g/%g %s", p, total, msg))
}

type result struct {
	out    *runtime.Outcome
	text   string
	isErr  bool
	events *events
}

func (r result) structured(t *testing.T) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.out.Result.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("structuredContent %s: %v", b, err)
	}
	return m
}

// call runs tool of the module at path; the call itself must not fail
// other than with the tool's own error.
func call(t *testing.T, path, tool string, args any, g *runtime.Grant) result {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	out, err := module(t, path).Call(context.Background(), runtime.Call{Tool: tool, Arguments: raw, Grant: g, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil && out.Err.Kind != runtime.KindToolError {
		t.Fatalf("%s %s: %v (stderr %s)", tool, raw, out.Err, out.Stderr)
	}
	var b strings.Builder
	for _, c := range out.Result.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return result{out: out, text: b.String(), isErr: out.Result.IsError, events: ev}
}

func wantText(t *testing.T, r result, isErr bool, substr ...string) {
	t.Helper()
	if r.isErr != isErr {
		t.Errorf("isError = %v, want %v: %s", r.isErr, isErr, r.text)
	}
	for _, s := range substr {
		if !strings.Contains(r.text, s) {
			t.Errorf("result %q does not contain %q", r.text, s)
		}
	}
}

const (
	jsonqWasm     = "jsonq/jsonq.wasm"
	notesWasm     = "notes/notes.wasm"
	grepWasm      = "grep/grep.wasm"
	fetchWasm     = "fetch/fetch.wasm"
	hostcheckWasm = "sdk/testdata/hostcheck/hostcheck.wasm"
)

func TestModels(t *testing.T) {
	// The SDK tools are reactors, except grep, built as a command: both
	// models go through the same tests.
	for path, reactor := range map[string]bool{jsonqWasm: true, notesWasm: true, fetchWasm: true, hostcheckWasm: true, grepWasm: false} {
		if got := module(t, path).Reactor(); got != reactor {
			t.Errorf("%s: Reactor() = %v, want %v", path, got, reactor)
		}
	}
}

func TestJSONQ(t *testing.T) {
	doc := `{"items":[{"id":1,"name":"a","tags":["x","y"]},{"id":2,"name":"b"}],"odd key":{"n":1.50}}`
	r := call(t, jsonqWasm, "query", map[string]any{"json": doc, "path": ".items[].id"}, nil)
	wantText(t, r, false, "1\n2")
	if sc := r.structured(t); sc["count"] != 2.0 {
		t.Errorf("structured = %v", sc)
	}
	for _, tc := range []struct {
		path, want string
		isErr      bool
	}{
		{".items[0].name", `"a"`, false},
		{".items[-1].name", `"b"`, false},
		{".items[0].tags[1]", `"y"`, false},
		{`.["odd key"].n`, "1.50", false},
		{".missing", "null", false},
		{".", `"odd key"`, false},
		{".items.name", `cannot take member "name" of an array at .items`, true},
		{".items[", "missing ]", true},
		{".items[x]", "is not an index", true},
	} {
		r := call(t, jsonqWasm, "query", map[string]any{"json": doc, "path": tc.path}, nil)
		wantText(t, r, tc.isErr, tc.want)
	}
	// The SDK's argument checks.
	wantText(t, call(t, jsonqWasm, "query", map[string]any{"json": "[1"}, nil), true, "not valid JSON")
	wantText(t, call(t, jsonqWasm, "query", map[string]any{"path": "."}, nil), true, `missing required argument "json" (a string)`)
	wantText(t, call(t, jsonqWasm, "query", map[string]any{"json": 5}, nil), true, `argument "json" must be a string`)
	wantText(t, call(t, jsonqWasm, "query", map[string]any{"json": "1", "x": 1}, nil), true, `unknown argument "x": this tool takes json, path`)
}

func TestNotes(t *testing.T) {
	g := &runtime.Grant{KV: &runtime.KVGrant{Quota: 1 << 20}}
	r := call(t, notesWasm, "add_note", map[string]any{"title": "Shopping", "text": "milk, eggs"}, g)
	wantText(t, r, false, "#1 Shopping")
	if sc := r.structured(t); sc["id"] != 1.0 || sc["text"] != "milk, eggs" {
		t.Errorf("add_note structured = %v", sc)
	}
	if len(r.events.logs) != 1 || r.events.logs[0] != "info: added note #1" {
		t.Errorf("logs = %q", r.events.logs)
	}
	wantText(t, call(t, notesWasm, "add_note", map[string]any{"title": "Ideas", "text": "a wasm tool"}, g), false, "#2 Ideas")
	r = call(t, notesWasm, "list_notes", map[string]any{}, g)
	wantText(t, r, false, "#1 Shopping\n#2 Ideas")
	if len(r.events.prog) != 2 {
		t.Errorf("progress = %q", r.events.prog)
	}
	wantText(t, call(t, notesWasm, "list_notes", map[string]any{"query": "WASM"}, g), false, "#2 Ideas")
	wantText(t, call(t, notesWasm, "get_note", map[string]any{"id": 2}, g), false, "a wasm tool")
	wantText(t, call(t, notesWasm, "delete_note", map[string]any{"id": 1}, g), false, "deleted note #1")
	wantText(t, call(t, notesWasm, "get_note", map[string]any{"id": 1}, g), true, "there is no note #1")
	wantText(t, call(t, notesWasm, "get_note", map[string]any{"id": 0}, g), true, `argument "id" must be at least 1`)
	wantText(t, call(t, notesWasm, "list_notes", map[string]any{}, g), false, "#2 Ideas")
	// Without the grant the host's denial reaches the model.
	wantText(t, call(t, notesWasm, "list_notes", map[string]any{}, nil), true, "kv_list: denied")
}

func TestGrep(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.go":          "package a\n\nfunc Hello() {}\n// TODO: more\n",
		"sub/b.txt":     "hello world\nHELLO again\n",
		"sub/bin.dat":   "hello\x00binary",
		".hidden/c.txt": "hello hidden\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := &runtime.Grant{Mounts: []runtime.Mount{{HostPath: dir, GuestPath: "/data"}}}
	r := call(t, grepWasm, "grep", map[string]any{"pattern": "hello", "ignore_case": true}, g)
	wantText(t, r, false, "a.go:3: func Hello() {}", "sub/b.txt:1: hello world", "sub/b.txt:2: HELLO again", "(3 matches in 2 files)")
	if strings.Contains(r.text, "hidden") {
		t.Errorf("searched a hidden directory: %s", r.text)
	}
	if sc := r.structured(t); fmt.Sprint(sc["skipped"]) != "[sub/bin.dat]" {
		t.Errorf("skipped = %v", sc["skipped"])
	}
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "hello", "path": "sub", "glob": "*.txt"}, g), false, "sub/b.txt:1:", "(1 matches in 1 files)")
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": ".", "max_matches": 2}, g), false, "stopped after 2 matches")
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "("}, g), true, "invalid pattern")
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "x", "path": "../etc"}, g), true, "outside /data")
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "x", "path": "nope"}, g), true, "cannot read /data/nope")
	// Without the mount there is nothing to search.
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "x"}, nil), true, "cannot read /data")
}

func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><head><title>Doc</title></head><body><h2>Intro</h2><p>See <a href="/x">this</a>.</p><script>alert(1)</script></body></html>`)
		case "/data.json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok": true}`)
		case "/long":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Repeat("z", 500))
		default:
			http.Error(w, "no such page", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	g := &runtime.Grant{Network: &runtime.NetworkGrant{Allow: []string{"127.0.0.1:" + port}, Private: true}}

	r := call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/page"}, g)
	wantText(t, r, false, "(HTTP 200, text/html", "# Doc", "## Intro", "See [this](/x).")
	if strings.Contains(r.text, "alert") {
		t.Errorf("script text kept: %s", r.text)
	}
	if len(r.out.Hosts) != 1 || r.out.Hosts[0] != "127.0.0.1:"+port {
		t.Errorf("hosts = %v", r.out.Hosts)
	}
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/page", "raw": true}, g), false, "<h2>Intro</h2>")
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/data.json"}, g), false, `{"ok": true}`)
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/long", "max_chars": 100}, g), false, "[cut at 100 of 500 characters")
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/gone"}, g), true, "answered HTTP 404: no such page")
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": "ftp://x"}, g), true, "must start with http")
	// No grant: denied by the host, reported to the model.
	wantText(t, call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/page"}, nil), true, "http_request: denied")
}

// TestSDKHostFunctions calls every host-function wrapper of the SDK.
func TestSDKHostFunctions(t *testing.T) {
	r := call(t, hostcheckWasm, "check", map[string]any{"op": "log"}, nil)
	wantText(t, r, false, "logged")
	if got := strings.Join(r.events.logs, "|"); got != "warning: a warning|debug: debug 42" {
		t.Errorf("logs = %q", got)
	}
	raw, _ := json.Marshal(map[string]any{"op": "progress"})
	ev := &events{}
	out, err := module(t, hostcheckWasm).Call(context.Background(), runtime.Call{Tool: "check", Arguments: raw, Events: ev, Meta: map[string]any{"progressToken": "tok"}})
	if err != nil || out.Err != nil {
		t.Fatal(err, out.Err)
	}
	if got := strings.Join(ev.prog, "|"); got != "1/3 step 1|2/3 step 2|3/3 step 3" {
		t.Errorf("progress = %q", got)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 100)
		n, _ := r.Body.Read(b)
		w.Header().Set("Content-Type", "text/x-test")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-Test"), b[:n])
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	g := &runtime.Grant{Network: &runtime.NetworkGrant{Allow: []string{"127.0.0.1:" + port}, Private: true}}
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": srv.URL + "/p", "value": "hi"}, g), false,
		"status 200 url "+srv.URL+"/p type text/x-test body POST 1 hi")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": srv.URL}, nil), false, "error denied: http_request: denied: ")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": "nope"}, g), false, "error invalid: http_request: invalid: ")

	kvg := &runtime.Grant{KV: &runtime.KVGrant{Quota: 1 << 20}}
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "kv", "key": "k1", "value": "v1"}, kvg), false,
		"set: ok; get v1: ok; keys k1: ok; delete: ok; get again: not_found; list long prefix: too_large")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "kv", "key": "k1", "value": "v1"}, nil), false,
		"set: denied; get : denied; keys : denied; delete: denied")

	sg := &runtime.Grant{Secrets: map[string]string{"TOKEN": "s3cr3t-value"}}
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": "TOKEN"}, sg), false, "secret has 12 bytes")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": "OTHER"}, sg), false, "error denied: secret_get: denied")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": ""}, sg), false, "error invalid")

	r = call(t, hostcheckWasm, "check", map[string]any{"op": "image"}, nil)
	if img, ok := r.out.Result.Content[0].(*mcp.ImageContent); !ok || img.MIMEType != "image/png" || string(img.Data) != "\x89PNG fake" {
		t.Errorf("image result = %#v", r.out.Result.Content)
	}
	wantText(t, r, false, "caption")
	r = call(t, hostcheckWasm, "check", map[string]any{"op": "structured"}, nil)
	wantText(t, r, false, "seven")
	if r.structured(t)["n"] != 7.0 {
		t.Errorf("structured = %v", r.out.Result.StructuredContent)
	}
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "error"}, nil), true, "wrapped: not_found")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "bogus"}, nil), true, `argument "op" must be one of`)
}
