package runtime

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
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

// FuzzMethodResults feeds arbitrary guest stdout to the decoders of
// resources/read, prompts/get and completion/complete results: they must
// never panic, a guest error must carry a code a guest may use, and what
// they accept must encode to JSON with no null list a client would choke
// on.
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
	f.Fuzz(func(t *testing.T, stdout []byte) {
		for _, key := range []string{"contents", "messages", "completion"} {
			raw, gerr, cerr := methodOutput(stdout, key)
			if cerr != nil {
				if cerr.Kind != KindInvalidOutput {
					t.Fatalf("kind %s", cerr.Kind)
				}
				continue
			}
			if gerr != nil {
				var o Outcome
				o.guestError(&Module{manifest: &abi.Manifest{Name: "m"}}, target{abi.MethodResourcesRead, "a://x"}, gerr)
				switch o.GuestError.Code {
				case abi.ErrorCodeNotFound, abi.ErrorCodeInvalidParams, abi.ErrorCodeInternal:
				default:
					t.Fatalf("guest error code %d kept", o.GuestError.Code)
				}
				continue
			}
			if raw == nil {
				continue
			}
			var res any
			var err error
			switch key {
			case "contents":
				res, err = parseReadResult(raw, "a://x")
			case "messages":
				res, err = parsePromptResult(raw)
			case "completion":
				var c *mcp.CompleteResult
				c, err = parseCompleteResult(raw)
				if err == nil && (c.Completion.Values == nil || len(c.Completion.Values) > MaxCompletionValues) {
					t.Fatalf("completion values %v", c.Completion.Values)
				}
				res = c
			}
			if err != nil {
				continue
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("accepted %s result does not marshal: %v", key, err)
			}
		}
	})
}
