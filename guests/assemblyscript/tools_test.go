package assemblyscript_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

// call runs tool and returns its text, structured content (as JSON) and
// whether it is a tool error.
func call(t *testing.T, m *runtime.Module, tool, args string, g *runtime.Grant) (text, structured string, isError bool) {
	t.Helper()
	res := guesttest.Call(t, m, tool, args, g)
	if sc := res.Out.Result.StructuredContent; sc != nil {
		structured = guesttest.JSON(t, sc)
	}
	return res.Text, structured, res.IsError
}

func TestSlugify(t *testing.T) {
	m := guesttest.LoadNew(t, "slugify/slugify.wasm")
	for _, tc := range []struct{ tool, args, want, structured string }{
		{"slugify", `{"text":"Hello, World!"}`, "hello-world", `{"slug":"hello-world"}`},
		{"slugify", `{"text":"  Crème Brûlée & Straße -- 2024  "}`, "creme-brulee-and-strasse-2024", ""},
		{"slugify", `{"text":"Ünïcödé ☃ snow","separator":"_"}`, "unicode_snow", ""},
		{"slugify", `{"text":"the quick brown fox","max_length":12}`, "the-quick", ""},
		{"slugify", `{"text":"the quick brown fox","max_length":9}`, "the-quick", ""},
		{"slugify", `{"text":"!!!"}`, "", `{"slug":""}`},
		{"case_convert", `{"text":"someHTTPServer v2","to":"snake"}`, "some_http_server_v2", `{"result":"some_http_server_v2","words":["some","HTTP","Server","v2"]}`},
		{"case_convert", `{"text":"user_id field","to":"camel"}`, "userIdField", ""},
		{"case_convert", `{"text":"user-id-field","to":"pascal"}`, "UserIdField", ""},
		{"case_convert", `{"text":"parseJSONValue","to":"kebab"}`, "parse-json-value", ""},
		{"case_convert", `{"text":"max retries","to":"constant"}`, "MAX_RETRIES", ""},
		{"case_convert", `{"text":"the_great gatsby","to":"title"}`, "The Great Gatsby", ""},
		{"case_convert", `{"text":"a.b","to":"dot"}`, "a.b", ""},
	} {
		text, sc, isErr := call(t, m, tc.tool, tc.args, nil)
		if isErr || text != tc.want || (tc.structured != "" && sc != tc.structured) {
			t.Errorf("%s %s = %q %s (error %v), want %q %s", tc.tool, tc.args, text, sc, isErr, tc.want, tc.structured)
		}
	}
	// The longest text accepted fits the module's memory limit.
	long := strings.Repeat("Crème Brûlée ", 100000/13)
	text, _, isErr := call(t, m, "slugify", `{"text":"`+long+`"}`, nil)
	if isErr || !strings.HasPrefix(text, "creme-brulee-creme-brulee") || len(text) != 100000/13*13-1 {
		t.Errorf("slugify of %d characters: %d bytes %.80q (error %v)", len(long), len(text), text, isErr)
	}
	text, _, isErr = call(t, m, "case_convert", `{"text":"`+long+`","to":"camel"}`, nil)
	if isErr || !strings.HasPrefix(text, "cremeBruleeCremeBrulee") {
		t.Errorf("case_convert of %d characters: %.80q (error %v)", len(long), text, isErr)
	}
	for _, tc := range []struct{ tool, args, want string }{
		{"slugify", `{}`, `missing argument "text"`},
		{"slugify", `{"text":1}`, `argument "text" must be a string`},
		{"slugify", `{"text":"x","separator":"+"}`, "separator must be"},
		{"slugify", `{"text":"x","bogus":1}`, `unknown argument "bogus"`},
		{"case_convert", `{"text":"x","to":"leet"}`, "to must be one of"},
		{"slugify", `{"text":"` + strings.Repeat("a", 100001) + `"}`, "longer than 100000"},
	} {
		text, _, isErr := call(t, m, tc.tool, tc.args, nil)
		if !isErr || !strings.Contains(text, tc.want) {
			t.Errorf("%s %s = %q (error %v), want an error containing %q", tc.tool, tc.args, text, isErr, tc.want)
		}
	}
}

func TestRoman(t *testing.T) {
	m := guesttest.LoadNew(t, "roman/roman.wasm")
	for n, want := range map[int]string{1: "I", 4: "IV", 9: "IX", 14: "XIV", 40: "XL", 90: "XC", 400: "CD", 1994: "MCMXCIV", 2024: "MMXXIV", 3999: "MMMCMXCIX"} {
		text, sc, isErr := call(t, m, "to_roman", fmt.Sprintf(`{"number":%d}`, n), nil)
		if isErr || text != want || sc != `{"roman":"`+want+`"}` {
			t.Errorf("to_roman %d = %q %s, want %s", n, text, sc, want)
		}
		back, sc, isErr := call(t, m, "from_roman", `{"text":"`+strings.ToLower(want)+`"}`, nil)
		if isErr || back != fmt.Sprint(n) || sc != fmt.Sprintf(`{"number":%d}`, n) {
			t.Errorf("from_roman %s = %q %s, want %d", want, back, sc, n)
		}
	}
	for _, tc := range []struct{ tool, args, want string }{
		{"to_roman", `{"number":0}`, "between 1 and 3999"},
		{"to_roman", `{"number":4000}`, "between 1 and 3999"},
		{"to_roman", `{"number":1.5}`, "must be an integer"},
		{"from_roman", `{"text":"IIII"}`, "not a canonical"},
		{"from_roman", `{"text":"IC"}`, "not a canonical"},
		{"from_roman", `{"text":"XIZ"}`, "not a Roman numeral"},
		{"from_roman", `{"text":""}`, "not a canonical"},
	} {
		text, _, isErr := call(t, m, tc.tool, tc.args, nil)
		if !isErr || !strings.Contains(text, tc.want) {
			t.Errorf("%s %s = %q (error %v), want an error containing %q", tc.tool, tc.args, text, isErr, tc.want)
		}
	}
}

// TestHostWrappers exercises every host-function wrapper of the SDK.
func TestHostWrappers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-Test"), body)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	m := guesttest.LoadNew(t, "testdata/hostcheck/hostcheck.wasm")
	g := runtime.NewGrant(&kv.Grant{Quota: 1 << 20}, &secret.Grant{Values: map[string]string{"TOKEN": "s3cr3t-value"}}, &hosthttp.Grant{Allow: []string{host}, Private: true})
	res := guesttest.Call(t, m, "hostcheck", `{"secret":"TOKEN","url":"`+srv.URL+`/x"}`, g)
	sc, isErr := guesttest.JSON(t, res.Out.Result.StructuredContent), res.IsError
	var got struct {
		KV     []string `json:"kv"`
		Secret string   `json:"secret"`
		HTTP   string   `json:"http"`
	}
	if err := json.Unmarshal([]byte(sc), &got); err != nil || isErr {
		t.Fatalf("hostcheck: %s (error %v): %v", sc, isErr, err)
	}
	wantKV := []string{
		"set a: ok", "set b: ok", "get a: first",
		`list: ["note/a","note/b"]`,
		`list after a: {"keys":["note/b"],"more":false}`,
		"delete a: ok", "get a again: not_found",
	}
	if strings.Join(got.KV, "\n") != strings.Join(wantKV, "\n") {
		t.Errorf("kv steps:\n%s\nwant:\n%s", strings.Join(got.KV, "\n"), strings.Join(wantKV, "\n"))
	}
	if got.Secret != "ok, 12 bytes: [REDACTED]" {
		t.Errorf("secret: %q", got.Secret)
	}
	if got.HTTP != "200 text/plain POST yes ping" {
		t.Errorf("http: %q", got.HTTP)
	}
	wantEv := []string{"log debug: hostcheck", "log info: hostcheck: log works", "log warning: hostcheck: ünïcode too", `progress [1,2,"half way"]`, `progress [2,0,""]`}
	if strings.Join(res.Events.All, "\n") != strings.Join(wantEv, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(res.Events.All, "\n"), strings.Join(wantEv, "\n"))
	}

	// Without grants every capability wrapper reports the denial.
	_, sc, _ = call(t, m, "hostcheck", `{"secret":"TOKEN","url":"`+srv.URL+`/x"}`, nil)
	for _, want := range []string{`"set a: denied: `, `"secret":"denied: `, `"http":"denied: `} {
		if !strings.Contains(sc, want) {
			t.Errorf("ungranted: %s lacks %s", sc, want)
		}
	}
}
