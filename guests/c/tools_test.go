// Tests of the C example tools and the C SDK, through the runtime.
package ctools

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

func TestHash(t *testing.T) {
	m := guesttest.LoadNew(t, "hash/hash.wasm")
	for _, tc := range []struct{ tool, args, key, want string }{
		{"sha256", `{"text":"hello"}`, "sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"sha256", `{"text":""}`, "sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"base64_encode", `{"text":"wasm \u2713"}`, "base64", "d2FzbSDinJM="},
		{"base64_decode", `{"text":"d2Fz\nbSDinJM"}`, "text", "wasm ✓"},
	} {
		res := guesttest.Call(t, m, tc.tool, tc.args, nil)
		if res.IsError || res.Text != tc.want || res.Structured[tc.key] != tc.want {
			t.Errorf("%s %s = %+v, want %q", tc.tool, tc.args, res, tc.want)
		}
		if len(res.Events.Logs) != 1 || res.Events.Logs[0] != tc.tool {
			t.Errorf("%s logged %q", tc.tool, res.Events.Logs)
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
		res := guesttest.Call(t, m, tc.tool, tc.args, nil)
		if !res.IsError || !strings.Contains(res.Text, tc.want) {
			t.Errorf("%s %s = %+v, want an error containing %q", tc.tool, tc.args, res, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	m := guesttest.LoadNew(t, "markdown/markdown.wasm")
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
		res := guesttest.Call(t, m, "markdown_to_html", string(args), nil)
		if res.IsError || res.Text != tc.want || res.Structured["html"] != tc.want {
			t.Errorf("markdown %q:\n got %q\nwant %q", tc.md, res.Text, tc.want)
		}
	}
	// Inputs that would take quadratic time in a naive renderer finish quickly.
	for _, p := range []string{"*a ", "[a](", "[a](x \"", "`a ``", "```````````````a", "> - ", "**_", "[", "<a"} {
		args, _ := json.Marshal(map[string]string{"markdown": strings.Repeat(p, 100000/len(p))})
		if res := guesttest.Call(t, m, "markdown_to_html", string(args), nil); res.IsError {
			t.Errorf("%q repeated: %s", p, res.Text)
		}
	}
	if res := guesttest.Call(t, m, "markdown_to_html", `{}`, nil); !res.IsError || !strings.Contains(res.Text, `missing required argument "markdown"`) {
		t.Errorf("no markdown: %+v", res)
	}
}

// TestSDKArguments checks the JSON reader: escapes, UTF-8, numbers, nested fields.
func TestSDKArguments(t *testing.T) {
	m := loadSDKTest(t)
	res := guesttest.Call(t, m, "args", `{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x✓","i":-42e1,"b":true,"d":0.1,
		"user":{"address":{"city":"Z\u00fcrich"}},"list":[1,{"k":[2]},"x"],"n":null}`, nil)
	want := map[string]any{
		"s": "a\"\\/\b\f\n\r\té😀\uFFFDx✓", "i": -420.0, "b": true, "d": 0.1, "city": "Zürich",
		"list_len": 3.0, "second": map[string]any{"k": []any{2.0}},
		"kinds": map[string]any{"s": "string", "i": "number", "b": "boolean", "d": "number", "user": "object", "list": "array", "n": "null"},
	}
	want["len"] = float64(len(want["s"].(string)))
	got, _ := json.Marshal(res.Structured)
	exp, _ := json.Marshal(want)
	if res.IsError || string(got) != string(exp) || res.Text != want["s"] {
		t.Errorf("args:\n got %s (%q)\nwant %s", got, res.Text, exp)
	}
	for _, tc := range []struct{ args, want string }{
		{`{"i":1}`, `missing required argument "s" (a string)`},
		{`{"s":"x"}`, `missing required argument "i" (an integer)`},
		{`{"s":"x","i":1.5}`, `argument "i" must be an integer`},
		{`{"s":"x","i":1,"b":"yes"}`, `argument "b" must be a boolean`},
		{`{"s":"x","i":1,"d":"1"}`, `argument "d" must be a number`},
		{`{"s":["x"],"i":1}`, `argument "s" must be a string`},
	} {
		res := guesttest.Call(t, m, "args", tc.args, nil)
		if !res.IsError || !strings.Contains(res.Text, tc.want) {
			t.Errorf("args %s = %+v, want an error containing %q", tc.args, res, tc.want)
		}
	}
	res = guesttest.Call(t, m, "fail", `{}`, nil)
	if !res.IsError || res.Text != `failed on purpose: 42 "quoted"` || len(res.Content) != 1 {
		t.Errorf("fail = %+v", res)
	}
	res = guesttest.Call(t, m, "image", `{}`, nil)
	if img, ok := res.Content[len(res.Content)-1].(*mcp.ImageContent); !ok || img.MIMEType != "image/png" || string(img.Data) != "\x89PNG\x00\x01\x02" {
		t.Errorf("image = %+v", res.Content)
	}
}

func TestSDKLogAndProgress(t *testing.T) {
	m := loadSDKTest(t)
	res := guesttest.Call(t, m, "events", `{"message":"h\u00e9llo"}`, nil)
	if res.IsError || res.Text != "logged" {
		t.Fatalf("events = %+v", res)
	}
	if got := strings.Join(res.Events.Logs, "|"); got != "events|info: héllo|warning: héllo" {
		t.Errorf("logs = %q", got)
	}
	if got := strings.Join(res.Events.Reported, "|"); got != `[1,2,"half way"]|[2,0,""]` {
		t.Errorf("progress = %q", got)
	}
}

func TestSDKKV(t *testing.T) {
	m := loadSDKTest(t)
	res := guesttest.Call(t, m, "kv", `{"key":"k\u00e9","value":"v1"}`, runtime.NewGrant(&kv.Grant{Quota: 1 << 20}))
	want := `{"delete":{"held":"","name":"ok","status":0},` +
		`"empty_key":{"held":"","name":"invalid","status":-1},` +
		`"get":{"held":"v1","name":"ok","status":2},` +
		`"get_again":{"held":"no value stored under this key","name":"not_found","status":-5},` +
		`"list":{"held":"{\"keys\":[\"ké\"],\"more\":false}","name":"ok","status":29},` +
		`"set":{"held":"","name":"ok","status":0}}`
	// The held messages of errors are the host's; compare their status only.
	g := guesttest.Decode[map[string]map[string]any](t, res.Structured)
	w := guesttest.Decode[map[string]map[string]any](t, json.RawMessage(want))
	for op, e := range w {
		if g[op]["status"] != e["status"] || g[op]["name"] != e["name"] || (e["status"].(float64) >= 0 && g[op]["held"] != e["held"]) {
			t.Errorf("kv %s = %v, want %v", op, g[op], e)
		}
	}
	// Without the grant every function is denied, with a message.
	res = guesttest.Call(t, m, "kv", `{"key":"k","value":"v"}`, nil)
	g = guesttest.Decode[map[string]map[string]any](t, res.Structured)
	for _, op := range []string{"set", "get", "list", "delete"} {
		if g[op]["name"] != "denied" || g[op]["held"] == "" {
			t.Errorf("kv %s without a grant = %v", op, g[op])
		}
	}
}

func TestSDKSecret(t *testing.T) {
	m := loadSDKTest(t)
	g := runtime.NewGrant(&secret.Grant{Values: map[string]string{"TOKEN": "s3cr3t-value"}})
	if res := guesttest.Call(t, m, "secret", `{"name":"TOKEN"}`, g); res.IsError || res.Text != "secret TOKEN has 12 bytes" {
		t.Errorf("granted secret = %+v", res)
	}
	if res := guesttest.Call(t, m, "secret", `{"name":"OTHER"}`, g); !res.IsError || !strings.Contains(res.Text, "secret_get: denied: ") {
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
	m := loadSDKTest(t)
	g := runtime.NewGrant(&hosthttp.Grant{Allow: []string{host}, Private: true})
	res := guesttest.Call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, g)
	if res.IsError || res.Text != "HTTP 418" || res.Structured["body"] != "hello \"/p\" ✓" {
		t.Errorf("http = %+v", res)
	}
	// Without a grant: denied, with the host's message.
	if res := guesttest.Call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, nil); !res.IsError || !strings.Contains(res.Text, "http_request: denied: ") {
		t.Errorf("http without a grant = %+v", res)
	}
}

// TestSDKStringsRoundTrip sends random strings (control characters,
// quotes, backslashes, every UTF-8 length, astral characters written as
// surrogate pairs) and checks that the SDK decodes and re-encodes each
// exactly.
func TestSDKStringsRoundTrip(t *testing.T) {
	m := loadSDKTest(t)
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
		res := guesttest.Call(t, m, "args", `{"s":"`+enc.String()+`","i":1}`, nil)
		if res.IsError || res.Structured["s"] != s || res.Text != s {
			t.Fatalf("%q (sent as %s): got %q / %q", s, enc.String(), res.Structured["s"], res.Text)
		}
	}
}
