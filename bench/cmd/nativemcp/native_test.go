package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/runtime"
)

// The native tools answer as the wasm tools they stand in for: the same
// text and structured content for the same arguments, errors included.
func TestSameAnswers(t *testing.T) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for _, tc := range []struct {
		module, tool string
		args         []string
	}{
		{"../../../guests/c/hash/hash.wasm", "sha256", []string{`{"text":"hello world"}`, `{"text":""}`}},
		{"../../../guests/go/jsonq/jsonq.wasm", "query", []string{
			`{"json":"{\"items\":[{\"id\":1},{\"id\":2}]}","path":".items[].id"}`,
			`{"json":"{\"a\":{\"b\":[true,null,\"x\"]}}","path":".a.b"}`,
			`{"json":"[1,2]","path":".x"}`,
			`{"json":"{}","path":"."}`,
		}},
	} {
		s, err := newServer(tc.module, tc.tool)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(newHTTPServer(s).Handler)
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: hs.URL + "/mcp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := rt.Load(ctx, tc.module)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range tc.args {
			native, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: json.RawMessage(args)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Call(ctx, runtime.Call{Tool: tc.tool, Arguments: json.RawMessage(args)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result == nil {
				t.Fatalf("%s %s: wasm: %v", tc.tool, args, out.Err)
			}
			var text string
			if len(native.Content) > 0 {
				text = native.Content[0].(*mcp.TextContent).Text
			}
			if native.IsError != out.Result.IsError || text != out.Result.Text() || jsonOf(t, native.StructuredContent) != jsonOf(t, out.Result.StructuredContent) {
				t.Errorf("%s %s:\nnative %v %q %s\nwasm   %v %q %s", tc.tool, args,
					native.IsError, text, jsonOf(t, native.StructuredContent),
					out.Result.IsError, out.Result.Text(), jsonOf(t, out.Result.StructuredContent))
			}
		}
		cs.Close()
		hs.Close()
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var norm any
	if err := json.Unmarshal(b, &norm); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(norm)
	return string(b)
}
