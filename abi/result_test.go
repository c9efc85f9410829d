package abi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseToolResult(t *testing.T) {
	res, err := ParseToolResult([]byte(`{"content":[
		{"type":"text","text":"hi","annotations":{"audience":["user"],"priority":0.5},"_meta":{"k":"v"}},
		{"type":"image","data":"AAEC","mimeType":"image/png"},
		{"type":"resource_link","uri":"a://b","name":"n","size":3,"icons":[{"src":"a://i"}]},
		{"type":"resource","resource":{"uri":"a://r","blob":""}}],
		"structuredContent":{"n":1.5,"l":[true,null]},"_meta":{"m":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Content) != 4 || res.IsError || res.Text() != "hi" {
		t.Fatalf("result = %+v", res)
	}
	if c := res.Content[0]; c.Annotations == nil || c.Annotations.Priority != 0.5 || c.Annotations.Audience[0] != "user" || c.Meta["k"] != "v" {
		t.Errorf("text item = %+v", c)
	}
	if c := res.Content[1]; string(c.Data) != "\x00\x01\x02" || c.MIMEType != "image/png" {
		t.Errorf("image item = %+v", c)
	}
	if c := res.Content[2]; c.URI != "a://b" || c.Name != "n" || c.Size == nil || *c.Size != 3 || len(c.Icons) != 1 {
		t.Errorf("resource_link item = %+v", c)
	}
	if c := res.Content[3]; c.Resource == nil || c.Resource.Blob == nil || len(c.Resource.Blob) != 0 {
		t.Errorf("an empty blob is a blob: %+v", c.Resource)
	}
	if b, _ := json.Marshal(res.StructuredContent); string(b) != `{"l":[true,null],"n":1.5}` || res.Meta["m"] != 1.0 {
		t.Errorf("structuredContent %s, _meta %v", b, res.Meta)
	}

	// Output that is not a result is text, as it was written.
	for _, in := range []string{"plain text\n", `{"a":1}`, `[1,2]`, `{"content":`} {
		res, err := ParseToolResult([]byte(in))
		if err != nil || len(res.Content) != 1 || res.Content[0].Text != in {
			t.Errorf("%q: %+v, %v; want one text item", in, res, err)
		}
	}
	if res, err := ParseToolResult([]byte(" \n")); err != nil || res.Content == nil || len(res.Content) != 0 {
		t.Errorf("empty output: %+v, %v; want no content", res, err)
	}
	if res, err := ParseToolResult([]byte(`{"isError":true,"content":null}`)); err != nil || !res.IsError || res.Content == nil || res.Text() != "" {
		t.Errorf("an error without content: %+v, %v", res, err)
	}

	for _, tc := range []struct{ in, want string }{
		{"\xff", "the tool's output is not valid UTF-8"},
		{`{"content":"x"}`, `the tool's output is not a valid CallToolResult: content must be an array of content items, got "x"`},
		{`{"isError":"yes"}`, `isError must be true or false, got "yes"`},
		{`{"content":[5]}`, "content[0]: must be an object, got 5"},
		{`{"content":[{"text":"x"}]}`, `content[0]: "type" must be a string`},
		{`{"content":[{"type":"video"}]}`, `content[0]: unknown content type "video"`},
		{`{"content":[{"type":"text"}]}`, `content[0]: text content needs "text"`},
		{`{"content":[{"type":"text","text":1}]}`, `content[0]: "text" must be a string, got 1`},
		{`{"content":[{"type":"image","mimeType":"image/png"}]}`, `image content needs "data"`},
		{`{"content":[{"type":"image","data":"!!","mimeType":"image/png"}]}`, `"data" is not standard base64`},
		{`{"content":[{"type":"resource_link","uri":"a://b"}]}`, `resource_link content needs "name"`},
		{`{"content":[{"type":"resource","resource":5}]}`, `"resource" must be an object, got 5`},
		{`{"content":[{"type":"resource","resource":{"text":"x"}}]}`, `content[0]: resource: needs "uri"`},
		{`{"content":[{"type":"text","text":"x","annotations":[]}]}`, `"annotations" must be an object`},
		{`{"content":[{"type":"text","text":"x","_meta":1}]}`, `"_meta" must be an object, got 1`},
		{`{"content":[],"_meta":[]}`, `"_meta" must be an object, got []`},
	} {
		if _, err := ParseToolResult([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.in, err, tc.want)
		}
	}
}

func TestParseReadResult(t *testing.T) {
	res, gerr, err := ParseReadResult([]byte(`{"contents":[{"text":"hi"},{"uri":"a://b","blob":"AAEC"},{"uri":"a://x","mimeType":"text/html","text":"<p>"}]}`), "a://x", "text/markdown")
	if err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if c := res.Contents[0]; c.URI != "a://x" || c.Text != "hi" || c.MIMEType != "text/markdown" {
		t.Errorf("first item = %+v; a missing uri takes the requested one, and its declared type", c)
	}
	if c := res.Contents[1]; c.URI != "a://b" || string(c.Blob) != "\x00\x01\x02" || c.MIMEType != "" {
		t.Errorf("second item = %+v", c)
	}
	if c := res.Contents[2]; c.MIMEType != "text/html" {
		t.Errorf("third item = %+v; its own type wins", c)
	}
	for _, mime := range []string{"", "text/markdown"} {
		res, _, err := ParseReadResult([]byte("# plain\n"), "a://x", mime)
		want := mime
		if want == "" {
			want = "text/plain"
		}
		if err != nil || len(res.Contents) != 1 || res.Contents[0].Text != "# plain\n" || res.Contents[0].MIMEType != want || res.Contents[0].URI != "a://x" {
			t.Errorf("plain output with type %q: %+v, %v", mime, res.Contents, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`{"contents":{}}`, "the module's output is not a valid resources/read result: contents must be an array"},
		{`{"contents":[{"text":"a","blob":"AA=="}]}`, "both"},
		{`{"contents":[{"uri":"a://b"}]}`, `"text" or "blob"`},
		{`{"contents":[{"blob":"not base64!"}]}`, "base64"},
		{`{"contents":[{"text":3}]}`, `contents[0]: "text" must be a string`},
		{"\xff", "the module's output is not valid UTF-8"},
	} {
		if _, _, err := ParseReadResult([]byte(tc.in), "a://x", ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestParsePromptResult(t *testing.T) {
	res, _, err := ParsePromptResult([]byte(`{"description":"d","messages":[
		{"role":"user","content":{"type":"text","text":"hi"}},
		{"role":"assistant","content":{"type":"image","data":"AA==","mimeType":"image/png"}},
		{"role":"user","content":{"type":"resource","resource":{"uri":"a://r","text":"t"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Description != "d" || len(res.Messages) != 3 || res.Messages[1].Role != "assistant" || res.Messages[2].Content.Resource.Text != "t" {
		t.Errorf("result = %+v", res)
	}
	res, _, err = ParsePromptResult([]byte("Say hi"))
	if err != nil || len(res.Messages) != 1 || res.Messages[0].Role != "user" || res.Messages[0].Content.Text != "Say hi" {
		t.Errorf("plain output: %+v, %v; want one user message", res, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"messages":[{"role":"system","content":{"type":"text","text":"x"}}]}`, `"user" or "assistant"`},
		{`{"messages":[{"role":"user","content":{"type":"text"}}]}`, `needs "text"`},
		{`{"messages":[{"role":"user","content":{"type":"resource","resource":{"text":"x"}}}]}`, `needs "uri"`},
		{`{"messages":[{"role":"user","content":{"type":"video","data":"x"}}]}`, "unknown content type"},
		{`{"messages":[],"description":1}`, "the module's output is not a valid prompts/get result: description must be a string, got 1"},
	} {
		if _, _, err := ParsePromptResult([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
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
	c, _, err := ParseCompleteResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Values) != MaxCompletionValues || !c.HasMore || c.Total != 150 {
		t.Errorf("150 values came back as %d values, hasMore %t, total %d; want 100, true, 150", len(c.Values), c.HasMore, c.Total)
	}
	c, _, err = ParseCompleteResult([]byte(`{"completion":{}}`))
	if err != nil || c.Values == nil {
		t.Errorf("no values: %+v, %v; want an empty, non-nil list", c, err)
	}
	for _, in := range []string{`{"completion":{"values":[1]}}`, `{"completion":null}`, `{"completion":{"values":[],"total":-1}}`, `plain`} {
		if _, _, err := ParseCompleteResult([]byte(in)); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

func TestGuestError(t *testing.T) {
	_, gerr, err := ParseReadResult([]byte(`{"error":{"code":-32002,"message":"no such doc"}}`), "a://x", "")
	if err != nil || gerr == nil || gerr.Code != ErrorCodeNotFound || gerr.Message != "no such doc" {
		t.Fatalf("got %+v, %v", gerr, err)
	}
	_, gerr, _ = ParsePromptResult([]byte(`{"error":{"code":-32700,"message":"pretend parse error"}}`))
	if gerr == nil || gerr.Code != ErrorCodeInternal {
		t.Errorf("a code a guest may not use was kept: %+v", gerr)
	}
	if _, _, err := ParseCompleteResult([]byte(`{"error":{"code":1}}`)); err == nil || !strings.Contains(err.Error(), "with a message") {
		t.Errorf("an error without a message: %v", err)
	}
}

// FuzzParseToolResult feeds arbitrary guest stdout to the result parser: it
// must never panic, and whatever it accepts must have content and encode
// to JSON.
func FuzzParseToolResult(f *testing.F) {
	for _, s := range []string{
		`{"content":[{"type":"text","text":"hi"}]}`,
		`{"content":[{"type":"image","data":"AAAA","mimeType":"image/png"}],"isError":true}`,
		`{"content":[{"type":"resource","resource":{"uri":"a://b","text":"x"}}]}`,
		`{"content":[{"type":"resource_link","uri":"a://b","name":"n"}]}`,
		`{"structuredContent":{"a":[1,2,{"b":null}]}}`,
		`{"content":"not an array"}`,
		`{"content":[{"type":"video"}]}`,
		`{"isError":"yes"}`,
		`plain text`,
		"\xff\xfe",
		``,
		`{"a":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		res, err := ParseToolResult(reply)
		if err != nil {
			return
		}
		if res.Content == nil {
			t.Fatal("accepted result has nil content")
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("accepted result does not marshal: %v", err)
		}
	})
}

// FuzzMethodResults feeds arbitrary guest stdout to the parsers of
// resources/read, prompts/get and completion/complete results: they must
// never panic, a guest error must carry a code a guest may use, and what
// they accept must have no nil list a client would choke on.
func FuzzMethodResults(f *testing.F) {
	for _, s := range []string{
		`{"contents":[{"uri":"a://b","text":"x"},{"blob":"AAEC","mimeType":"image/png"}]}`,
		`{"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"description":"d"}`,
		`{"completion":{"values":["a","b"],"total":2,"hasMore":false}}`,
		`{"error":{"code":-32002,"message":"no such thing"}}`,
		`{"error":{"code":-32700,"message":"parse"}}`,
		`{"contents":[{"text":"a","blob":"AA=="}]}`,
		`{"messages":[{"role":"system","content":{}}]}`,
		`{"completion":{"values":null}}`,
		`plain`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		checkCode := func(g *GuestError) {
			switch g.Code {
			case ErrorCodeNotFound, ErrorCodeInvalidParams, ErrorCodeInternal:
			default:
				t.Fatalf("guest error code %d kept", g.Code)
			}
		}
		read, gerr, err := ParseReadResult(reply, "a://x", "")
		switch {
		case gerr != nil:
			checkCode(gerr)
		case err == nil && read.Contents == nil:
			t.Fatal("contents nil")
		}
		prompt, gerr, err := ParsePromptResult(reply)
		switch {
		case gerr != nil:
			checkCode(gerr)
		case err == nil && prompt.Messages == nil:
			t.Fatal("messages nil")
		}
		c, gerr, err := ParseCompleteResult(reply)
		switch {
		case gerr != nil:
			checkCode(gerr)
		case err == nil && (c.Values == nil || len(c.Values) > MaxCompletionValues):
			t.Fatalf("completion values %v", c.Values)
		}
	})
}
