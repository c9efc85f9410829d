// Tests of the Rust example tools and the Rust SDK, through the runtime.
package rusttools

import (
	"encoding/json"
	"fmt"
	"io"
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

func TestWordFreq(t *testing.T) {
	m := guesttest.LoadNew(t, "wordfreq/wordfreq.wasm")
	res := guesttest.Call(t, m, "word_frequencies", `{"text":"The cat and the hat. THE END, don't e-mail caf\u00e9 Caf\u00e9 - 'quoted'","top":3}`, nil)
	got, _ := json.Marshal(res.Structured)
	want := `{"distinct_words":9,"total_words":12,"words":[{"count":3,"word":"the"},{"count":2,"word":"café"},{"count":1,"word":"and"}]}`
	if res.IsError || string(got) != want {
		t.Errorf("word_frequencies = %s (%q), want %s", got, res.Text, want)
	}
	if !strings.HasPrefix(res.Text, "12 words, 9 distinct\n3 the\n2 café\n1 and") {
		t.Errorf("text = %q", res.Text)
	}
	res = guesttest.Call(t, m, "word_frequencies", `{"text":"The the of and cats cats dogs","stopwords":true,"case_sensitive":true,"min_length":4}`, nil)
	got, _ = json.Marshal(res.Structured["words"])
	if want := `[{"count":2,"word":"cats"},{"count":1,"word":"dogs"}]`; string(got) != want {
		t.Errorf("with options = %s, want %s", got, want)
	}
	for _, tc := range []struct{ args, want string }{
		{`{}`, `missing required argument "text" (a string)`},
		{`{"text":"x","top":0}`, `"top" must be between 1 and 1000`},
		{`{"text":"x","top":"5"}`, `argument "top" must be an integer`},
		{`{"text":"x","other":1}`, `unknown argument "other"`},
	} {
		if res := guesttest.Call(t, m, "word_frequencies", tc.args, nil); !res.IsError || !strings.Contains(res.Text, tc.want) {
			t.Errorf("%s = %+v, want an error containing %q", tc.args, res, tc.want)
		}
	}
	if res := guesttest.Call(t, m, "word_frequencies", `{"text":"`+strings.Repeat("lorem ipsum dolor ", 50000)+`"}`, nil); res.IsError || res.Structured["total_words"] != 150000.0 {
		t.Errorf("large text: %v", res.Structured)
	}
}

func TestCounter(t *testing.T) {
	m := guesttest.LoadNew(t, "counter/counter.wasm")
	g := runtime.NewGrant(&kv.Grant{Quota: 1 << 20})
	steps := []struct{ tool, args, want string }{
		{"counter_get", `{"name":"visits"}`, "visits = 0"},
		{"counter_increment", `{"name":"visits"}`, "visits = 1"},
		{"counter_increment", `{"name":"visits","by":41}`, "visits = 42"},
		{"counter_increment", `{"name":"vis/other","by":-3}`, "vis/other = -3"},
		{"counter_increment", `{"name":"z"}`, "z = 1"},
		{"counter_get", `{"name":"visits"}`, "visits = 42"},
		{"counter_list", `{"prefix":"vis"}`, "vis/other = -3\nvisits = 42"},
		{"counter_list", `{}`, "vis/other = -3\nvisits = 42\nz = 1"},
		{"counter_reset", `{"name":"visits"}`, "visits = 0"},
		{"counter_get", `{"name":"visits"}`, "visits = 0"},
		{"counter_list", `{"prefix":"nothing"}`, "no counters"},
	}
	for _, s := range steps {
		res := guesttest.Call(t, m, s.tool, s.args, g)
		if res.IsError || res.Text != s.want {
			t.Errorf("%s %s = %q (error %v), want %q", s.tool, s.args, res.Text, res.IsError, s.want)
		}
	}
	res := guesttest.Call(t, m, "counter_increment", `{"name":"n","by":9007199254740991}`, g)
	if res.IsError || res.Structured["value"] != 9007199254740991.0 {
		t.Errorf("large increment = %+v", res)
	}
	if res := guesttest.Call(t, m, "counter_increment", `{"name":"n"}`, g); !res.IsError || !strings.Contains(res.Text, "range of exact integers") {
		t.Errorf("overflow = %+v", res)
	}
	if res := guesttest.Call(t, m, "counter_get", `{"name":"x"}`, nil); !res.IsError || !strings.HasPrefix(res.Text, "denied: ") {
		t.Errorf("without kv = %+v", res)
	}
}

// TestSDKArguments checks the JSON value type: escapes, UTF-8, numbers,
// nested fields, and that serializing and parsing again gives the same value.
func TestSDKArguments(t *testing.T) {
	m := loadSDKTest(t)
	res := guesttest.Call(t, m, "args", `{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x✓\u0001","i":-42e1,"b":true,"d":0.5,
		"user":{"address":{"city":"Z\u00fcrich"}},"list":[1,{"k":[2.5e-3]},"x"],"n":null}`, nil)
	want := map[string]any{
		"s": "a\"\\/\b\f\n\r\té😀\uFFFDx✓\x01", "i": -420.0, "b": true, "d": 0.5, "city": "Zürich",
		"list_len": 3.0, "second": map[string]any{"k": []any{0.0025}}, "roundtrip": true,
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
		{`{"s":"x","i":1,"list":{}}`, `argument "list" must be an array`},
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
	g := guesttest.Decode[map[string]map[string]any](t, res.Structured)
	for op, want := range map[string]string{
		"set": "ok ", "get": "ok v1", "list": `ok ["ké"] false`, "list_all": `ok ["ké"]`,
		"delete": "ok ", "get_again": "ok <none>", "empty_key": "invalid",
	} {
		got := fmt.Sprint(g[op]["status"])
		if g[op]["status"] == "ok" {
			got += " " + fmt.Sprint(g[op]["held"])
		}
		if got != want {
			t.Errorf("kv %s = %v, want %s", op, g[op], want)
		}
	}
	if g["empty_key"]["code"] != -1.0 || g["empty_key"]["held"] == "" {
		t.Errorf("empty key = %v", g["empty_key"])
	}
	res = guesttest.Call(t, m, "kv", `{"key":"k","value":"v"}`, nil)
	g = guesttest.Decode[map[string]map[string]any](t, res.Structured)
	for _, op := range []string{"set", "get", "list", "delete"} {
		if g[op]["status"] != "denied" || g[op]["held"] == "" {
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
	if res := guesttest.Call(t, m, "secret", `{"name":"OTHER"}`, g); !res.IsError || !strings.HasPrefix(res.Text, "denied: ") {
		t.Errorf("ungranted secret = %+v", res)
	}
}

func TestSDKHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %q %s", r.Method, b, r.Header.Get("X-Test"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("hello \"" + r.URL.Path + "\" ✓"))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	m := loadSDKTest(t)
	g := runtime.NewGrant(&hosthttp.Grant{Allow: []string{host}, Private: true})
	res := guesttest.Call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, g)
	if res.IsError || res.Text != "HTTP 418" || res.Structured["body"] != "hello \"/p\" ✓" ||
		res.Structured["type"] != "text/plain; charset=utf-8" || res.Structured["post"] != `POST "\xff\x00A" yes` {
		t.Errorf("http = %+v", res)
	}
	if res := guesttest.Call(t, m, "http", `{"url":"`+srv.URL+`/p"}`, nil); !res.IsError || !strings.HasPrefix(res.Text, "denied: ") {
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
