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
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/host/client"
	hostfiles "github.com/wasmgate/wasmgate/host/files"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/internal/guesttest"
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
		rt, _, rtErr = guesttest.OpenRuntime(dir)
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

// call runs tool of the module at path; the call itself must not fail
// other than with the tool's own error.
func call(t *testing.T, path, tool string, args any, g *runtime.Grant) guesttest.Result {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	return guesttest.CallWith(t, module(t, path), runtime.Call{Tool: tool, Arguments: raw, Grant: g})
}

func wantText(t *testing.T, r guesttest.Result, isErr bool, substr ...string) {
	t.Helper()
	if r.IsError != isErr {
		t.Errorf("isError = %v, want %v: %s", r.IsError, isErr, r.Text)
	}
	for _, s := range substr {
		if !strings.Contains(r.Text, s) {
			t.Errorf("result %q does not contain %q", r.Text, s)
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
	if sc := r.Structured; sc["count"] != 2.0 {
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
	g := runtime.NewGrant(&kv.Grant{Quota: 1 << 20})
	r := call(t, notesWasm, "add_note", map[string]any{"title": "Shopping", "text": "milk, eggs"}, g)
	wantText(t, r, false, "#1 Shopping")
	if sc := r.Structured; sc["id"] != 1.0 || sc["text"] != "milk, eggs" {
		t.Errorf("add_note structured = %v", sc)
	}
	if len(r.Events.Leveled) != 1 || r.Events.Leveled[0] != "info: added note #1" {
		t.Errorf("logs = %q", r.Events.Leveled)
	}
	wantText(t, call(t, notesWasm, "add_note", map[string]any{"title": "Ideas", "text": "a wasm tool"}, g), false, "#2 Ideas")
	r = call(t, notesWasm, "list_notes", map[string]any{}, g)
	wantText(t, r, false, "#1 Shopping\n#2 Ideas")
	if len(r.Events.Reported) != 2 {
		t.Errorf("progress = %q", r.Events.Reported)
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
	g := runtime.NewGrant(&hostfiles.Grant{Mounts: []engine.Mount{{HostPath: dir, GuestPath: "/data"}}})
	r := call(t, grepWasm, "grep", map[string]any{"pattern": "hello", "ignore_case": true}, g)
	wantText(t, r, false, "a.go:3: func Hello() {}", "sub/b.txt:1: hello world", "sub/b.txt:2: HELLO again", "(3 matches in 2 files)")
	if strings.Contains(r.Text, "hidden") {
		t.Errorf("searched a hidden directory: %s", r.Text)
	}
	if sc := r.Structured; fmt.Sprint(sc["skipped"]) != "[sub/bin.dat]" {
		t.Errorf("skipped = %v", sc["skipped"])
	}
	wantText(t, call(t, grepWasm, "grep", map[string]any{"pattern": "hello", "path": "sub", "glob": "*.txt"}, g), false, "sub/b.txt:1:", "(1 match in 1 file)")
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
	g := runtime.NewGrant(&hosthttp.Grant{Allow: []string{"127.0.0.1:" + port}, Private: true})

	r := call(t, fetchWasm, "fetch", map[string]any{"url": srv.URL + "/page"}, g)
	wantText(t, r, false, "(HTTP 200, text/html", "# Doc", "## Intro", "See [this](/x).")
	if strings.Contains(r.Text, "alert") {
		t.Errorf("script text kept: %s", r.Text)
	}
	if len(r.Out.Hosts) != 1 || r.Out.Hosts[0] != "127.0.0.1:"+port {
		t.Errorf("hosts = %v", r.Out.Hosts)
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
	if got := strings.Join(r.Events.Leveled, "|"); got != "warning: a warning|debug: debug 42" {
		t.Errorf("logs = %q", got)
	}
	raw, _ := json.Marshal(map[string]any{"op": "progress"})
	ev := &guesttest.Events{}
	out, err := module(t, hostcheckWasm).Call(context.Background(), runtime.Call{Tool: "check", Arguments: raw, Events: ev, Meta: map[string]any{"progressToken": "tok"}})
	if err != nil || out.Err != nil {
		t.Fatal(err, out.Err)
	}
	if got := strings.Join(ev.Reported, "|"); got != `[1,3,"step 1"]|[2,3,"step 2"]|[3,3,"step 3"]` {
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
	g := runtime.NewGrant(&hosthttp.Grant{Allow: []string{"127.0.0.1:" + port}, Private: true})
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": srv.URL + "/p", "value": "hi"}, g), false,
		"status 200 url "+srv.URL+"/p type text/x-test body POST 1 hi")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": srv.URL}, nil), false, "error denied: http_request: denied: ")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "http", "url": "nope"}, g), false, "error invalid: http_request: invalid: ")

	kvg := runtime.NewGrant(&kv.Grant{Quota: 1 << 20})
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "kv", "key": "k1", "value": "v1"}, kvg), false,
		"set: ok; get v1: ok; keys k1: ok; delete: ok; get again: not_found; list long prefix: too_large")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "kv", "key": "k1", "value": "v1"}, nil), false,
		"set: denied; get : denied; keys : denied; delete: denied")

	sg := runtime.NewGrant(&secret.Grant{Values: map[string]string{"TOKEN": "s3cr3t-value"}})
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": "TOKEN"}, sg), false, "secret has 12 bytes")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": "OTHER"}, sg), false, "error denied: secret_get: denied")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "secret", "name": ""}, sg), false, "error invalid")

	r = call(t, hostcheckWasm, "check", map[string]any{"op": "image"}, nil)
	if img, ok := r.Content[0].(*mcp.ImageContent); !ok || img.MIMEType != "image/png" || string(img.Data) != "\x89PNG fake" {
		t.Errorf("image result = %#v", r.Content)
	}
	wantText(t, r, false, "caption")
	r = call(t, hostcheckWasm, "check", map[string]any{"op": "structured"}, nil)
	wantText(t, r, false, "seven")
	if r.Structured["n"] != 7.0 {
		t.Errorf("structured = %v", r.Out.Result.StructuredContent)
	}
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "error"}, nil), true, "wrapped: not_found")
	wantText(t, call(t, hostcheckWasm, "check", map[string]any{"op": "bogus"}, nil), true, `argument "op" must be one of`)
}

// answers are the client's answers to hostcheck's questions.
var answers = guesttest.ByMethod(map[string]string{
	"sampling/createMessage": `{"role":"assistant","content":{"type":"text","text":"Paris"},"model":"fake-model","stopReason":"endTurn"}`,
	"elicitation/create":     `{"action":"accept","content":{"name":"Ada"}}`,
	"roots/list":             `{"roots":[{"uri":"file:///work","name":"work"}]}`,
})

// askGrant grants every question a guest may ask.
var askGrant = runtime.NewGrant(&client.Grant{Sampling: true, Elicitation: true, Roots: true})

// callClient runs hostcheck's check with op and value, with client as the
// call's client and info as what the guest is told of it.
func callClient(t *testing.T, op, value string, g *runtime.Grant, client runtime.Client, info *abi.ClientInfo) (*runtime.Outcome, *guesttest.Events) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"op": op, "value": value, "url": value})
	ev := &guesttest.Events{}
	out, err := module(t, hostcheckWasm).Call(context.Background(), runtime.Call{Tool: "check", Arguments: raw, Grant: g, Events: ev, Client: client, ClientInfo: info})
	if err != nil {
		t.Fatal(err)
	}
	return out, ev
}

// TestSDKClient calls the SDK's client wrappers (Client, Sample, Elicit,
// Ask, Roots) and ResourceUpdated through the runtime and host/client.
func TestSDKClient(t *testing.T) {
	info := guesttest.ClientInfo("sampling", "roots")
	for _, tc := range []struct {
		op, value string
		info      *abi.ClientInfo
		want      string
		questions []string
	}{
		{"client", "", info, "protocol 2025-11-25 sampling true elicitation false roots true", nil},
		{"client", "", nil, "no client", nil},
		{"sample", "Capital of France?", nil, "fake-model said Paris (endTurn)",
			[]string{`sample sampling/createMessage {"messages":[{"role":"user","content":{"type":"text","text":"Capital of France?"}}],"maxTokens":50}`}},
		{"elicit", "Who are you?", nil, `accept "Ada"`,
			[]string{`elicit elicitation/create {"message":"Who are you?","requestedSchema":{"type":"object","properties":{"name":{"type":"string","default":"nobody"}},"required":["name"]}}`}},
		{"ask", "", nil, "model Paris; user accept Ada; roots [{file:///work work}]", []string{
			`model sampling/createMessage {"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":5}`,
			`roots roots/list {}`,
			`user elicitation/create {"message":"Name?"}`,
		}},
		{"roots", "", nil, "roots [{file:///work work}]", []string{`roots roots/list {}`}},
	} {
		fc := &guesttest.Client{Answer: answers}
		out, _ := callClient(t, tc.op, tc.value, askGrant, fc, tc.info)
		if out.Err != nil || guesttest.Text(out) != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.op, guesttest.Text(out), out.Err, tc.want)
		}
		if qs := fc.Questions(); !slices.Equal(qs, tc.questions) {
			t.Errorf("%s: questions\n got %q\nwant %q", tc.op, qs, tc.questions)
		}
	}

	// Without the grant the host denies, naming the permission; without a
	// client the host reports it cannot ask.
	for op, want := range map[string]string{
		"sample": "error denied: sample: denied: sample: sampling/createMessage is not granted to module hostcheck",
		"elicit": "error denied: elicit: denied: elicit: elicitation/create is not granted",
		"ask":    "error denied: ask: denied: ask: ",
		"roots":  "error denied: ask: denied: ask: roots/list is not granted",
	} {
		out, _ := callClient(t, op, "x", nil, &guesttest.Client{Answer: answers}, nil)
		if !strings.HasPrefix(guesttest.Text(out), want) {
			t.Errorf("%s without a grant: %q, want %q", op, guesttest.Text(out), want)
		}
	}
	if out, _ := callClient(t, "sample", "x", askGrant, nil, nil); !strings.HasPrefix(guesttest.Text(out), "error failed: sample: failed: ") {
		t.Errorf("sample without a client: %q", guesttest.Text(out))
	}
	// An answer that comes with a later request (MCP 2026-07-28) stops the
	// guest: the call ends input-required.
	fc := &guesttest.Client{Answer: answers, Err: fmt.Errorf("the answers come later: %w", runtime.ErrInputRequired)}
	if out, _ := callClient(t, "ask", "", askGrant, fc, nil); out.Err == nil || out.Err.Kind != runtime.KindInputRequired || len(fc.Questions()) != 3 {
		t.Errorf("input required: %v %q", out.Err, fc.Questions())
	}

	// resource_updated: the module's own resources and templates only.
	out, ev := callClient(t, "updated", "test://hostcheck/doc/7", nil, nil, nil)
	if guesttest.Text(out) != "updated test://hostcheck/doc/7" || !slices.Equal(ev.Updated, []string{"test://hostcheck/doc/7"}) {
		t.Errorf("updated: %q %q", guesttest.Text(out), ev.Updated)
	}
	out, ev = callClient(t, "updated", "test://elsewhere", nil, nil, nil)
	if !strings.HasPrefix(guesttest.Text(out), "error not_found: resource_updated: not_found") || len(ev.Updated) != 0 {
		t.Errorf("updated elsewhere: %q %q", guesttest.Text(out), ev.Updated)
	}

	// Every kind of content item passes the runtime's checks.
	out, _ = callClient(t, "content", "", nil, nil, nil)
	if out.Err != nil || len(guesttest.ToolResult(out).Content) != 5 {
		t.Fatalf("content: %v %#v", out.Err, guesttest.ToolResult(out).Content)
	}
	audio, _ := guesttest.ToolResult(out).Content[1].(*mcp.AudioContent)
	link, _ := guesttest.ToolResult(out).Content[2].(*mcp.ResourceLink)
	text, _ := guesttest.ToolResult(out).Content[3].(*mcp.EmbeddedResource)
	blob, _ := guesttest.ToolResult(out).Content[4].(*mcp.EmbeddedResource)
	if audio == nil || string(audio.Data) != "RIFF" || audio.MIMEType != "audio/wav" ||
		link == nil || link.URI != "test://hostcheck/static" || link.Name != "static" ||
		text == nil || text.Resource.Text != "embedded" ||
		blob == nil || string(blob.Resource.Blob) != "\x00\x01" {
		t.Errorf("content: %#v", guesttest.ToolResult(out).Content)
	}
	if sc, _ := json.Marshal(out.Result.StructuredContent); string(sc) != `{"items":5}` {
		t.Errorf("structuredContent: %s", sc)
	}
}

// TestSDKMethods serves resources/read, prompts/get and
// completion/complete from the SDK's test module.
func TestSDKMethods(t *testing.T) {
	m := module(t, hostcheckWasm)
	ctx := context.Background()
	man := m.Manifest()
	if len(man.Resources) != 1 || len(man.ResourceTemplates) != 1 || len(man.Prompts) != 1 || !man.Completions ||
		!man.Permissions.Sampling || !man.Permissions.Elicitation || !man.Permissions.Roots {
		t.Errorf("manifest: %+v", man)
	}
	if args := man.Prompts[0].Arguments; len(args) != 2 || args[0].Name != "who" || !args[0].Required || args[1].Required {
		t.Errorf("prompt arguments: %+v", args)
	}

	read := func(uri string, match *abi.TemplateMatch) *runtime.Outcome {
		t.Helper()
		out, err := m.ReadResource(ctx, uri, match, runtime.Call{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := read("test://hostcheck/static", nil)
	if out.Err != nil || len(out.Resource.Contents) != 1 {
		t.Fatalf("static: %v", out.Err)
	}
	if c := out.Resource.Contents[0]; c.URI != "test://hostcheck/static" || c.MIMEType != "text/plain" || c.Text != "static text" {
		t.Errorf("static: %+v", c)
	}
	doc := "test://hostcheck/doc/{id}"
	out = read("test://hostcheck/doc/7", &abi.TemplateMatch{URITemplate: doc, Variables: map[string]string{"id": "7"}})
	if out.Err != nil || out.Resource.Contents[0].Text != `{"id":"7"}` || out.Resource.Contents[0].URI != "test://hostcheck/doc/7" || out.Resource.Contents[0].MIMEType != "application/json" {
		t.Errorf("doc 7: %v %+v", out.Err, out.Resource)
	}
	out = read("test://hostcheck/doc/blob", &abi.TemplateMatch{URITemplate: doc, Variables: map[string]string{"id": "blob"}})
	if out.Err != nil || string(out.Resource.Contents[0].Blob) != "\xff\x00" {
		t.Errorf("doc blob: %v %+v", out.Err, out.Resource)
	}
	out = read("test://hostcheck/doc/42", &abi.TemplateMatch{URITemplate: doc, Variables: map[string]string{"id": "42"}})
	if out.GuestError == nil || out.GuestError.Code != abi.ErrorCodeNotFound || out.GuestError.Message != `no document "42"` {
		t.Errorf("doc 42: %+v", out.GuestError)
	}

	out, err := m.GetPrompt(ctx, "greet", map[string]string{"who": "Ada", "style": "warm"}, runtime.Call{})
	if err != nil || out.Err != nil {
		t.Fatal(err, out.Err)
	}
	if p := out.Prompt; p.Description != "A greeting." || len(p.Messages) != 2 || p.Messages[0].Role != "user" ||
		p.Messages[0].Content.Text != "Greet Ada (warm)." || p.Messages[1].Content.Resource.Text != "static text" {
		t.Errorf("greet: %+v", p)
	}
	out, err = m.GetPrompt(ctx, "greet", map[string]string{"who": "Ada", "style": "bad"}, runtime.Call{})
	if err != nil || out.GuestError == nil || out.GuestError.Code != abi.ErrorCodeInvalidParams || out.GuestError.Message != `unknown style "bad"` {
		t.Errorf("greet bad: %v %+v", err, out.GuestError)
	}

	complete := func(ref abi.CompleteRef, arg, value string) []string {
		t.Helper()
		return guesttest.Complete(t, m, abi.CompleteParams{Ref: ref, Argument: abi.CompleteArgument{Name: arg, Value: value}}).Completion.Values
	}
	if got := complete(abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, "who", "A"); !slices.Equal(got, []string{"Ada", "Alan"}) {
		t.Errorf("complete who: %q", got)
	}
	if got := complete(abi.CompleteRef{Type: "ref/resource", URI: doc}, "id", "1"); !slices.Equal(got, []string{"1", "10"}) {
		t.Errorf("complete id: %q", got)
	}
	if got := complete(abi.CompleteRef{Type: "ref/prompt", Name: "greet"}, "who", "Z"); got == nil || len(got) != 0 {
		t.Errorf("complete none: %#v", got)
	}
}
