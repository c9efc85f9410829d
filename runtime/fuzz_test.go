package runtime

import (
	"encoding/json"
	"testing"
)

// FuzzParseResult feeds arbitrary guest stdout to the result decoder: it
// must never panic, and whatever it accepts must be a result that encodes
// to JSON (what the MCP layer will send).
func FuzzParseResult(f *testing.F) {
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
	f.Fuzz(func(t *testing.T, stdout []byte) {
		res, cerr := parseResult(stdout)
		if cerr != nil {
			if cerr.Kind != KindInvalidOutput {
				t.Fatalf("kind %s", cerr.Kind)
			}
			return
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("accepted result does not marshal: %v", err)
		}
	})
}
