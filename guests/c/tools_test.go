// Tests of the C example tools and the C SDK, through the runtime.
package ctools

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

// events records a call's log and progress reports.
type events struct {
	mu       sync.Mutex
	logs     []string
	progress []string
}

func (e *events) Log(level abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, msg)
}

func (e *events) Progress(p, total float64, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, _ := json.Marshal([]any{p, total, msg})
	e.progress = append(e.progress, string(b))
}

// newRuntime returns a runtime with every capability host function.
func newRuntime(t *testing.T) *runtime.Runtime {
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

func load(t *testing.T, r *runtime.Runtime, path string) *runtime.Module {
	t.Helper()
	m, err := r.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type result struct {
	text       string
	structured map[string]any
	isError    bool
	content    []mcp.Content
	events     *events
}

func call(t *testing.T, m *runtime.Module, tool, args string, g *runtime.Grant) result {
	t.Helper()
	ev := &events{}
	out, err := m.Call(context.Background(), runtime.Call{Tool: tool, Arguments: json.RawMessage(args), Grant: g, Events: ev})
	if err != nil {
		t.Fatalf("%s %s: %v", tool, args, err)
	}
	res := result{isError: out.Result.IsError, content: out.Result.Content, events: ev}
	if out.Err != nil && out.Err.Kind != runtime.KindToolError {
		t.Fatalf("%s %s: %v", tool, args, out.Err)
	}
	for _, c := range out.Result.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			res.text += tc.Text
		}
	}
	if out.Result.StructuredContent != nil {
		b, _ := json.Marshal(out.Result.StructuredContent)
		json.Unmarshal(b, &res.structured)
	}
	return res
}

func TestHash(t *testing.T) {
	m := load(t, newRuntime(t), "hash/hash.wasm")
	for _, tc := range []struct{ tool, args, key, want string }{
		{"sha256", `{"text":"hello"}`, "sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"sha256", `{"text":""}`, "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"base64_encode", `{"text":"wasm \u2713"}`, "base64", "d2FzbSDinJM="},
		{"base64_decode", `{"text":"d2Fz\nbSDinJM"}`, "text", "wasm ✓"},
	} {
		res := call(t, m, tc.tool, tc.args, nil)
		if res.isError || res.text != tc.want || res.structured[tc.key] != tc.want {
			t.Errorf("%s %s = %+v, want %q", tc.tool, tc.args, res, tc.want)
		}
		if len(res.events.logs) != 1 || res.events.logs[0] != tc.tool {
			t.Errorf("%s logged %q", tc.tool, res.events.logs)
		}
	}
	for _, tc := range []struct{ tool, args, want string }{
		{"base64_decode", `{"text":"a$=="}`, `unexpected character "$" at offset 1`},
		{"base64_decode", `{"text":"abc=d"}`, "data after padding"},
		{"base64_decode", `{"text":"/w=="}`, "not valid UTF-8"},
		{"sha256", `{}`, `missing required argument "text" (a string)`},
		{"sha256", `{"text":1}`, `argument "text" must be a string`},
		{"sha256", `{"text":"","x":1}`, `unknown argument "x": this tool takes only "text"`},
	} {
		res := call(t, m, tc.tool, tc.args, nil)
		if !res.isError || !strings.Contains(res.text, tc.want) {
			t.Errorf("%s %s = %+v, want an error containing %q", tc.tool, tc.args, res, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	m := load(t, newRuntime(t), "markdown/markdown.wasm")
	for _, tc := range []struct{ md, want string }{
		{"# Title *em* #", "<h1>Title <em>em</em></h1>\n"},
		{"Setext\n===", "<h1>Setext</h1>\n"},
		{"a **b** *c* ***d*** `x<y` _e_ snake_case", "<p>a <strong>b</strong> <em>c</em> <em><strong>d</strong></em> <code>x&lt;y</code> <em>e</em> snake_case</p>\n"},
		{"line  \nnext\\\nlast", "<p>line<br />\nnext<br />\nlast</p>\n"},
		{"[a *b*](http://x.org/?a=1&b=2 \"T\") ![alt *x*](i.png)", `<p><a href="http://x.org/?a=1&amp;b=2" title="T">a <em>b</em></a> <img src="i.png" alt="alt x" /></p>` + "\n"},
		{"<https://a.b/c> <me@x.org>", `<p><a href="https://a.b/c">https://a.b/c</a> <a href="mailto:me@x.org">me@x.org</a></p>` + "\n"},
		{"<script>alert(1)</script> & \"q\"", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</p>\n"},
		{"[x](javascript:alert(1)) [y](JavaScript:z)", `<p><a href="#">x</a> <a href="#">y</a></p>` + "\n"},
		{"\\*not\\* \\# x", "<p>*not* # x</p>\n"},
		{"- a\n- b\n  - c\n- d", "<ul>\n<li>a</li>\n<li>b\n<ul>\n<li>c</li>\n</ul>\n</li>\n<li>d</li>\n</ul>\n"},
		{"3. x\n\n4. y", "<ol start=\"3\">\n<li>\n<p>x</p>\n</li>\n<li>\n<p>y</p>\n</li>\n</ol>\n"},
		{"> quote\ncontinued\n\n> > nested", "<blockquote>\n<p>quote\ncontinued</p>\n</blockquote>\n<blockquote>\n<blockquote>\n<p>nested</p>\n</blockquote>\n</blockquote>\n"},
		{"```js\nif (a < b) {}\n\n```\nafter", "<pre><code class=\"language-js\">if (a &lt; b) {}\n\n</code></pre>\n<p>after</p>\n"},
		{"    code\n\tmore\n\npara", "<pre><code>code\nmore\n</code></pre>\n<p>para</p>\n"},
		{"a\n***\nb\n\n---", "<p>a</p>\n<hr />\n<p>b</p>\n<hr />\n"},
		{"caf\u00e9 \U0001F600", "<p>caf\u00e9 \U0001F600</p>\n"},
		{"", ""},
	} {
		args, _ := json.Marshal(map[string]string{"markdown": tc.md})
		res := call(t, m, "markdown_to_html", string(args), nil)
		if res.isError || res.text != tc.want || res.structured["html"] != tc.want {
			t.Errorf("markdown %q:\n got %q\nwant %q", tc.md, res.text, tc.want)
		}
	}
	// Inputs that would take quadratic time in a naive renderer finish quickly.
	for _, p := range []string{"*a ", "[a](", "[a](x \"", "`a ``", "```````````````a", "> - ", "**_", "[", "<a"} {
		args, _ := json.Marshal(map[string]string{"markdown": strings.Repeat(p, 100000/len(p))})
		if res := call(t, m, "markdown_to_html", string(args), nil); res.isError {
			t.Errorf("%q repeated: %s", p, res.text)
		}
	}
	if res := call(t, m, "markdown_to_html", `{}`, nil); !res.isError || !strings.Contains(res.text, `missing required argument "markdown"`) {
		t.Errorf("no markdown: %+v", res)
	}
}

// TestSDKArguments checks the JSON reader: escapes, UTF-8, numbers, nested fields.
func TestSDKArguments(t *testing.T) {
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	res := call(t, m, "args", `{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x✓","i":-42e1,"b":true,"d":0.1,
		"user":{"address":{"city":"Z\u00fcrich"}},"list":[1,{"k":[2]},"x"],"n":null}`, nil)
	want := map[string]any{
		"s": "a\"\\/\b\f\n\r\té😀\uFFFDx✓", "i": -420.0, "b": true, "d": 0.1, "city": "Zürich",
		"list_len": 3.0, "second": map[string]any{"k": []any{2.0}},
		"kinds": map[string]any{"s": "string", "i": "number", "b": "boolean", "d": "number", "user": "object", "list": "array", "n": "null"},
	}
	want["len"] = float64(len(want["s"].(string)))
	got, _ := json.Marshal(res.structured)
	exp, _ := json.Marshal(want)
	if res.isError || string(got) != string(exp) || res.text != want["s"] {
		t.Errorf("args:\n got %s (%q)\nwant %s", got, res.text, exp)
	}
	for _, tc := range []struct{ args, want string }{
		{`{"i":1}`, `missing required argument "s" (a string)`},
		{`{"s":"x"}`, `missing required argument "i" (an integer)`},
		{`{"s":"x","i":1.5}`, `argument "i" must be an integer`},
		{`{"s":"x","i":1,"b":"yes"}`, `argument "b" must be a boolean`},
		{`{"s":"x","i":1,"d":"1"}`, `argument "d" must be a number`},
		{`{"s":["x"],"i":1}`, `argument "s" must be a string`},
	} {
		res := call(t, m, "args", tc.args, nil)
		if !res.isError || !strings.Contains(res.text, tc.want) {
			t.Errorf("args %s = %+v, want an error containing %q", tc.args, res, tc.want)
		}
	}
	res = call(t, m, "fail", `{}`, nil)
	if !res.isError || res.text != `failed on purpose: 42 "quoted"` || len(res.content) != 1 {
		t.Errorf("fail = %+v", res)
	}
	res = call(t, m, "image", `{}`, nil)
	if img, ok := res.content[len(res.content)-1].(*mcp.ImageContent); !ok || img.MIMEType != "image/png" || string(img.Data) != "\x89PNG\x00\x01\x02" {
		t.Errorf("image = %+v", res.content)
	}
}

func TestSDKLogAndProgress(t *testing.T) {
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	res := call(t, m, "events", `{"message":"h\u00e9llo"}`, nil)
	if res.isError || res.text != "logged" {
		t.Fatalf("events = %+v", res)
	}
	if got := strings.Join(res.events.logs, "|"); got != "events|info: héllo|warning: héllo" {
		t.Errorf("logs = %q", got)
	}
	if got := strings.Join(res.events.progress, "|"); got != `[1,2,"half way"]|[2,0,""]` {
		t.Errorf("progress = %q", got)
	}
}

func TestSDKKV(t *testing.T) {
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	res := call(t, m, "kv", `{"key":"k\u00e9","value":"v1"}`, &runtime.Grant{KV: &runtime.KVGrant{Quota: 1 << 20}})
	got, _ := json.Marshal(res.structured)
	want := `{"delete":{"held":"","name":"ok","status":0},` +
		`"empty_key":{"held":"","name":"invalid","status":-1},` +
		`"get":{"held":"v1","name":"ok","status":2},` +
		`"get_again":{"held":"no value stored under this key","name":"not_found","status":-5},` +
		`"list":{"held":"{\"keys\":[\"ké\"],\"more\":false}","name":"ok","status":29},` +
		`"set":{"held":"","name":"ok","status":0}}`
	// The held messages of errors are the host's; compare their status only.
	var g map[string]map[string]any
	json.Unmarshal(got, &g)
	var w map[string]map[string]any
	json.Unmarshal([]byte(want), &w)
	for op, e := range w {
		if g[op]["status"] != e["status"] || g[op]["name"] != e["name"] || (e["status"].(float64) >= 0 && g[op]["held"] != e["held"]) {
			t.Errorf("kv %s = %v, want %v", op, g[op], e)
		}
	}
	// Without the grant every function is denied, with a message.
	res = call(t, m, "kv", `{"key":"k","value":"v"}`, nil)
	json.Unmarshal(mustJSON(res.structured), &g)
	for _, op := range []string{"set", "get", "list", "delete"} {
		if g[op]["name"] != "denied" || g[op]["held"] == "" {
			t.Errorf("kv %s without a grant = %v", op, g[op])
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestSDKSecret(t *testing.T) {
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	g := &runtime.Grant{Secrets: map[string]string{"TOKEN": "s3cr3t-value"}}
	if res := call(t, m, "secret", `{"name":"TOKEN"}`, g); res.isError || res.text != "secret TOKEN has 12 bytes" {
		t.Errorf("granted secret = %+v", res)
	}
	if res := call(t, m, "secret", `{"name":"OTHER"}`, g); !res.isError || !strings.Contains(res.text, "secret_get: denied: ") {
		t.Errorf("ungranted secret = %+v", res)
	}
}

func TestSDKHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("hello \"" + r.URL.Path + "\" ✓"))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	g := &runtime.Grant{Network: &runtime.NetworkGrant{Allow: []string{host}, Private: true}}
	res := call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, g)
	if res.isError || res.text != "HTTP 418" || res.structured["body"] != "hello \"/p\" ✓" {
		t.Errorf("http = %+v", res)
	}
	// Without a grant: denied, with the host's message.
	if res := call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, nil); !res.isError || !strings.Contains(res.text, "http_request: denied: ") {
		t.Errorf("http without a grant = %+v", res)
	}
}

// TestSDKStringsRoundTrip sends random strings (control characters,
// quotes, backslashes, every UTF-8 length, astral characters written as
// surrogate pairs) and checks that the SDK decodes and re-encodes each
// exactly.
func TestSDKStringsRoundTrip(t *testing.T) {
	m := load(t, newRuntime(t), "sdk/testdata/sdktest/sdktest.wasm")
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []rune{0, 1, 0x1f, '"', '\\', '/', 'a', ' ', 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff}
	for i := 0; i < 100; i++ {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		s := b.String()
		// Encode astral characters as \ud83d\ude00 pairs, as some clients do.
		var enc strings.Builder
		for _, r := range s {
			switch {
			case r >= 0x10000:
				r -= 0x10000
				fmt.Fprintf(&enc, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				e, _ := json.Marshal(string(r))
				enc.Write(e[1 : len(e)-1])
			}
		}
		res := call(t, m, "args", `{"s":"`+enc.String()+`","i":1}`, nil)
		if res.isError || res.structured["s"] != s || res.text != s {
			t.Fatalf("%q (sent as %s): got %q / %q", s, enc.String(), res.structured["s"], res.text)
		}
	}
}
