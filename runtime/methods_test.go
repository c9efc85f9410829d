package runtime

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
)

func TestParseReadResult(t *testing.T) {
	res, err := parseReadResult(json.RawMessage(`{"contents":[{"mimeType":"text/plain","text":"hi"},{"uri":"a://b","blob":"AAEC"}]}`), "a://x")
	if err != nil {
		t.Fatal(err)
	}
	if res.Contents[0].URI != "a://x" || res.Contents[0].Text != "hi" {
		t.Errorf("first item = %+v; a missing uri takes the requested one", res.Contents[0])
	}
	if res.Contents[1].URI != "a://b" || string(res.Contents[1].Blob) != "\x00\x01\x02" {
		t.Errorf("second item = %+v", res.Contents[1])
	}
	for _, tc := range []struct{ in, want string }{
		{`{"contents":{}}`, "array"},
		{`{"contents":[{"text":"a","blob":"AA=="}]}`, "both"},
		{`{"contents":[{"uri":"a://b"}]}`, `"text" or "blob"`},
		{`{"contents":[{"blob":"not base64!"}]}`, "base64"},
		{`{"contents":[{"text":3}]}`, `"text" must be a string`},
	} {
		if _, err := parseReadResult(json.RawMessage(tc.in), "a://x"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestParsePromptResult(t *testing.T) {
	res, err := parsePromptResult(json.RawMessage(`{"description":"d","messages":[
		{"role":"user","content":{"type":"text","text":"hi"}},
		{"role":"assistant","content":{"type":"image","data":"AA==","mimeType":"image/png"}},
		{"role":"user","content":{"type":"resource","resource":{"uri":"a://r","text":"t"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Description != "d" || len(res.Messages) != 3 || res.Messages[1].Role != "assistant" {
		t.Errorf("result = %+v", res)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"messages":[{"role":"system","content":{"type":"text","text":"x"}}]}`, `"user" or "assistant"`},
		{`{"messages":[{"role":"user","content":{"type":"text"}}]}`, `needs "text"`},
		{`{"messages":[{"role":"user","content":{"type":"resource","resource":{"text":"x"}}}]}`, `needs "uri"`},
		{`{"messages":[{"role":"user","content":{"type":"video","data":"x"}}]}`, "unknown content type"},
	} {
		if _, err := parsePromptResult(json.RawMessage(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestParseCompleteResult(t *testing.T) {
	values := make([]string, 150)
	for i := range values {
		values[i] = "v"
	}
	raw, _ := json.Marshal(map[string]any{"completion": map[string]any{"values": values}})
	res, err := parseCompleteResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Completion; len(c.Values) != MaxCompletionValues || !c.HasMore || c.Total != 150 {
		t.Errorf("150 values came back as %d values, hasMore %t, total %d; want 100, true, 150", len(c.Values), c.HasMore, c.Total)
	}
	res, err = parseCompleteResult(json.RawMessage(`{"completion":{}}`))
	if err != nil || res.Completion.Values == nil {
		t.Errorf("no values: %+v, %v; want an empty, non-nil list", res, err)
	}
	for _, in := range []string{`{"completion":{"values":[1]}}`, `{"completion":null}`, `{"completion":{"values":[],"total":-1}}`} {
		if _, err := parseCompleteResult(json.RawMessage(in)); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

func TestMethodOutputGuestError(t *testing.T) {
	raw, gerr, cerr := methodOutput([]byte(`{"error":{"code":-32002,"message":"no such doc"}}`), "contents")
	if raw != nil || cerr != nil || gerr == nil || gerr.Code != abi.ErrorCodeNotFound || gerr.Message != "no such doc" {
		t.Fatalf("got %s, %+v, %v", raw, gerr, cerr)
	}
	var o Outcome
	o.guestError(&Module{manifest: &abi.Manifest{Name: "m"}}, target{abi.MethodResourcesRead, "a://x"}, &abi.GuestError{Code: -32700, Message: "pretend parse error"})
	if o.GuestError.Code != abi.ErrorCodeInternal || o.Err == nil || o.Err.Kind != KindToolError {
		t.Errorf("a code a guest may not use was kept: %+v", o.GuestError)
	}
	if got := o.Err.Error(); got != "resource a://x of module m: the module reported an error: pretend parse error" {
		t.Errorf("error = %q", got)
	}
	if _, _, cerr := methodOutput([]byte(`{"error":{"code":1}}`), "contents"); cerr == nil || cerr.Kind != KindInvalidOutput {
		t.Errorf("an error without a message: %v", cerr)
	}
	if raw, gerr, cerr := methodOutput([]byte("plain text"), "contents"); raw != nil || gerr != nil || cerr != nil {
		t.Errorf("plain text was not left to the caller")
	}
	if _, _, cerr := methodOutput([]byte{0xff}, "contents"); cerr == nil {
		t.Errorf("invalid UTF-8 accepted")
	}
}
