//go:build !wasip1

package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	N int `json:"n"`
}

type testArgs struct {
	Text  string            `json:"text" jsonschema:"The text."`
	Limit int               `json:"limit" default:"10" minimum:"1" maximum:"100"`
	Mode  string            `json:"mode,omitempty" enum:"a,b"`
	Opt   *bool             `json:"opt"`
	Tags  []string          `json:"tags,omitempty"`
	Inner inner             `json:"inner,omitzero"`
	Map   map[string]uint8  `json:"map,omitempty"`
	Skip  string            `json:"-"`
	Raw   json.RawMessage   `json:"raw,omitempty"`
	Bytes []byte            `json:"bytes,omitempty"`
	Any   any               `json:"any,omitempty"`
	Attrs map[string]string `json:"attrs,omitempty"`
	inner
}

func TestSchema(t *testing.T) {
	s, err := schemaFor(reflect.TypeFor[testArgs](), true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(s)
	want := `{"additionalProperties":false,"properties":{` +
		`"any":{},"attrs":{"additionalProperties":{"type":"string"},"type":"object"},` +
		`"bytes":{"contentEncoding":"base64","type":"string"},` +
		`"inner":{"additionalProperties":false,"properties":{"n":{"type":"integer"}},"required":["n"],"type":"object"},` +
		`"limit":{"default":10,"maximum":100,"minimum":1,"type":"integer"},` +
		`"map":{"additionalProperties":{"minimum":0,"type":"integer"},"type":"object"},` +
		`"mode":{"enum":["a","b"],"type":"string"},"n":{"type":"integer"},"opt":{"type":"boolean"},` +
		`"raw":{},"tags":{"items":{"type":"string"},"type":"array"},` +
		`"text":{"description":"The text.","type":"string"}},"required":["text","n"],"type":"object"}`
	if string(got) != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	out, _ := schemaFor(reflect.TypeFor[testArgs](), false)
	if out["additionalProperties"] != nil || !reflect.DeepEqual(out["required"], []string{"text", "limit", "opt", "n"}) {
		t.Errorf("output schema: %v", out)
	}
	type loop struct {
		Next *loop `json:"next"`
	}
	if _, err := schemaFor(reflect.TypeFor[loop](), true); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Errorf("recursive type: %v", err)
	}
	if _, err := schemaFor(reflect.TypeFor[chan int](), true); err == nil {
		t.Error("a channel has a schema")
	}
}

type serveArgs struct {
	Text  string `json:"text"`
	Limit int    `json:"limit" default:"10" minimum:"1" maximum:"100"`
	Mode  string `json:"mode,omitempty" enum:"a,b"`
	Opt   *bool  `json:"opt"`
}

func reset() func() {
	saved, savedMod, savedRes, savedPrompts, savedComp := tools, module, resources, prompts, completer
	tools, module, resources, prompts, completer = nil, ModuleInfo{}, nil, nil, nil
	return func() {
		tools, module, resources, prompts, completer = saved, savedMod, savedRes, savedPrompts, savedComp
	}
}

type countResult struct {
	Words int `json:"words"`
}

func (c countResult) String() string { return "words: " + itoa(c.Words) }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func serve(t *testing.T, env string) map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := Serve(context.Background(), strings.NewReader(env), &out); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	return m
}

func callEnv(tool, args string) string {
	return `{"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `,"_meta":{"progressToken":7}}}`
}

func textOf(m map[string]any) string {
	c, _ := m["content"].([]any)
	if len(c) == 0 {
		return ""
	}
	s, _ := c[0].(map[string]any)["text"].(string)
	return s
}

func TestServe(t *testing.T) {
	defer reset()()
	Module(ModuleInfo{Name: "t", Version: "1"})
	var gotLimit int
	var gotMeta map[string]any
	Tool("count", func(ctx context.Context, a serveArgs) (countResult, error) {
		gotLimit, gotMeta = a.Limit, Meta(ctx)
		if a.Text == "fail" {
			return countResult{}, Errorf("no: %w", ErrDenied)
		}
		if a.Text == "plain" {
			return countResult{}, errors.New("plain error")
		}
		return countResult{Words: len(strings.Fields(a.Text))}, nil
	}, Description("Count."), ReadOnly())
	Tool("echo", func(ctx context.Context, a map[string]any) (string, error) { return "echo", nil })

	res := serve(t, callEnv("count", `{"text":"a b c"}`))
	if textOf(res) != "words: 3" || res["isError"] != false || res["structuredContent"].(map[string]any)["words"] != 3.0 {
		t.Errorf("count: %v", res)
	}
	if gotLimit != 10 || gotMeta["progressToken"] != 7.0 {
		t.Errorf("default limit %d, meta %v", gotLimit, gotMeta)
	}
	if res := serve(t, callEnv("echo", `{"anything":1}`)); textOf(res) != "echo" || res["structuredContent"] != nil {
		t.Errorf("echo: %v", res)
	}
	for _, tc := range []struct{ env, want string }{
		{callEnv("count", `{"text":"fail"}`), "no: denied"},
		{callEnv("count", `{"text":"plain"}`), "plain error"},
		{callEnv("count", `{}`), `missing required argument "text" (a string)`},
		{callEnv("count", `{"text":"x","limit":0}`), `argument "limit" must be between 1 and 100, got 0`},
		{callEnv("count", `{"text":"x","limit":1000}`), `argument "limit" must be between 1 and 100, got 1000`},
		{callEnv("count", `{"text":"x","mode":"c"}`), `argument "mode" must be one of "a", "b", got "c"`},
		{callEnv("count", `{"text":"x","zzz":1,"aaa":2}`), `unknown argument "aaa", "zzz": this tool takes limit, mode, opt, text`},
		{callEnv("count", `{"text":3}`), `argument "text" must be a string, got number`},
		{callEnv("count", `[1]`), "arguments must be a JSON object"},
		{callEnv("nope", `{}`), `unknown tool "nope": this module has count, echo`},
		{`not json`, "not a valid call envelope"},
	} {
		res := serve(t, tc.env)
		if res["isError"] != true || !strings.Contains(textOf(res), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.env, res, tc.want)
		}
	}

	b, err := Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ABI   int    `json:"abi"`
		Name  string `json:"name"`
		Tools []struct {
			Name         string          `json:"name"`
			Description  string          `json:"description"`
			OutputSchema json.RawMessage `json:"outputSchema"`
			Annotations  map[string]bool `json:"annotations"`
		} `json:"tools"`
		Permissions any `json:"permissions"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.ABI != 1 || m.Name != "t" || len(m.Tools) != 2 || m.Tools[0].Description != "Count." || !m.Tools[0].Annotations["readOnlyHint"] ||
		compact(m.Tools[0].OutputSchema) != `{"properties":{"words":{"type":"integer"}},"required":["words"],"type":"object"}` ||
		m.Tools[1].OutputSchema != nil || m.Permissions != nil {
		t.Errorf("manifest: %s", b)
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	_ = json.Compact(&out, b)
	return out.String()
}

func TestToolPanics(t *testing.T) {
	defer reset()()
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	h := func(context.Context, struct{}) (string, error) { return "", nil }
	Tool("a", h)
	mustPanic("twice", func() { Tool("a", h) })
	mustPanic("not an object", func() {
		Tool("b", func(context.Context, int) (string, error) { return "", nil })
	})
}

func TestErrors(t *testing.T) {
	err := error(&Error{Op: "kv_get", Code: -5, Message: "no key"})
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrDenied) || err.Error() != "kv_get: not_found: no key" {
		t.Errorf("%v", err)
	}
	wrapped := Errorf("loading: %w", err)
	var te *ToolError
	if !errors.As(wrapped, &te) || !errors.Is(wrapped, ErrNotFound) || wrapped.Error() != "loading: kv_get: not_found: no key" {
		t.Errorf("%v", wrapped)
	}
	if (&Error{Code: -9}).Error() != "status -9" {
		t.Error((&Error{Code: -9}).Error())
	}
}

// fakeHost replaces the request-style host functions for one test.
func fakeHost(t *testing.T, status int32, response string, seen *[]string) {
	saved := []any{rawHTTP, rawKVGet, rawKVSet, rawKVDelete, rawKVList, rawSecret, rawSample, rawElicit, rawAsk, rawResUpd}
	t.Cleanup(func() {
		rawHTTP = saved[0].(func([]byte) int32)
		rawKVGet = saved[1].(func(string) int32)
		rawKVSet = saved[2].(func(string, []byte) int32)
		rawKVDelete = saved[3].(func(string) int32)
		rawKVList = saved[4].(func(string, string) int32)
		rawSecret = saved[5].(func(string) int32)
		rawSample = saved[6].(func([]byte) int32)
		rawElicit = saved[7].(func([]byte) int32)
		rawAsk = saved[8].(func([]byte) int32)
		rawResUpd = saved[9].(func(string) int32)
	})
	answer := func(s string) int32 {
		*seen = append(*seen, s)
		held = []byte(response)
		return status
	}
	rawHTTP = func(b []byte) int32 { return answer("http " + string(b)) }
	rawKVGet = func(k string) int32 { return answer("get " + k) }
	rawKVSet = func(k string, v []byte) int32 { return answer("set " + k + "=" + string(v)) }
	rawKVDelete = func(k string) int32 { return answer("delete " + k) }
	rawKVList = func(p, a string) int32 { return answer("list " + p + " " + a) }
	rawSecret = func(n string) int32 { return answer("secret " + n) }
	rawSample = func(b []byte) int32 { return answer("sample " + string(b)) }
	rawElicit = func(b []byte) int32 { return answer("elicit " + string(b)) }
	rawAsk = func(b []byte) int32 { return answer("ask " + string(b)) }
	rawResUpd = func(u string) int32 { return answer("updated " + u) }
}

func TestHostWrappers(t *testing.T) {
	var seen []string
	fakeHost(t, 10, `{"status":201,"url":"http://x/","headers":{"A":"b"},"bodyBase64":"/w=="}`, &seen)
	resp, err := HTTP(HTTPRequest{Method: "PUT", URL: "http://x", Body: []byte{0xff}})
	if err != nil || resp.Status != 201 || resp.URL != "http://x/" || resp.Headers["A"] != "b" || !bytes.Equal(resp.Body, []byte{0xff}) {
		t.Errorf("HTTP: %+v %v", resp, err)
	}
	fakeHost(t, 10, `{"status":200,"url":"u","headers":{},"body":"text"}`, &seen)
	resp, err = Get("http://y")
	if err != nil || string(resp.Body) != "text" {
		t.Errorf("Get: %+v %v", resp, err)
	}
	want := []string{`http {"method":"PUT","url":"http://x","bodyBase64":"/w=="}`, `http {"url":"http://y"}`}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("requests\n got %q\nwant %q", seen, want)
	}

	seen = nil
	fakeHost(t, -2, "not granted", &seen)
	if _, err := KVGet("k"); !errors.Is(err, ErrDenied) || err.Error() != "kv_get: denied: not granted" {
		t.Errorf("KVGet: %v", err)
	}
	if err := KVSet("k", []byte("v")); !errors.Is(err, ErrDenied) {
		t.Errorf("KVSet: %v", err)
	}
	if err := KVDelete("k"); !errors.Is(err, ErrDenied) {
		t.Errorf("KVDelete: %v", err)
	}
	if _, err := Secret("S"); !errors.Is(err, ErrDenied) {
		t.Errorf("Secret: %v", err)
	}
	if _, err := HTTP(HTTPRequest{URL: "u"}); !errors.Is(err, ErrDenied) {
		t.Errorf("HTTP: %v", err)
	}

	// KVKeys pages with after = the last key.
	seen = nil
	pages := []string{`{"keys":["a","b"],"more":true}`, `{"keys":["c"],"more":false}`}
	rawKVList = func(p, a string) int32 {
		seen = append(seen, p+"|"+a)
		held, pages = []byte(pages[0]), pages[1:]
		return int32(len(held))
	}
	keys, err := KVKeys("p")
	if err != nil || strings.Join(keys, ",") != "a,b,c" || strings.Join(seen, " ") != "p| p|b" {
		t.Errorf("KVKeys: %v %v %q", keys, err, seen)
	}
}

func TestOutsideWasmgate(t *testing.T) {
	if _, err := KVGet("k"); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "only available when the module runs under wasmgate") {
		t.Errorf("%v", err)
	}
}
