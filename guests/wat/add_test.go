package wat_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/runtime"
)

type logs struct {
	mu  sync.Mutex
	msg []string
}

func (l *logs) Log(level abi.LogLevel, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msg = append(l.msg, msg)
}
func (l *logs) Progress(p, total float64, msg string) {}

// TestAdd calls the hand-written WAT tool through the runtime, with and
// without a key-value grant.
func TestAdd(t *testing.T) {
	store, err := kv.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(store.HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	wasm, err := os.ReadFile("add/add.wasm")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Compile(context.Background(), "add/add.wasm", wasm, raw, "test")
	if err != nil {
		t.Fatal(err)
	}
	call := func(args string, g *runtime.Grant) (text, structured string, isError bool, l *logs) {
		t.Helper()
		l = &logs{}
		out, err := m.Call(context.Background(), runtime.Call{Tool: "add", Arguments: json.RawMessage(args), Grant: g, Events: l})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err != nil && out.Err.Kind != runtime.KindToolError {
			t.Fatalf("add %s: %v", args, out.Err)
		}
		for _, c := range out.Result.Content {
			text += c.Text
		}
		if out.Result.StructuredContent != nil {
			b, _ := json.Marshal(out.Result.StructuredContent)
			structured = string(b)
		}
		return text, structured, out.Result.IsError, l
	}

	for _, tc := range []struct{ args, text, structured string }{
		{`{"a":2,"b":3}`, "5", `{"sum":5}`},
		{`{"b": -40, "a" : 2}`, "-38", `{"sum":-38}`},
		{`{"a":999999999999999999,"b":999999999999999999}`, "1999999999999999998", ""},
		{`{"a":0,"b":-0}`, "0", `{"sum":0}`},
	} {
		text, sc, isErr, l := call(tc.args, nil)
		if isErr || text != tc.text || (tc.structured != "" && sc != tc.structured) {
			t.Errorf("add %s = %q %s (error %v), want %q %s", tc.args, text, sc, isErr, tc.text, tc.structured)
		}
		// Without a grant kv_get is denied: the host's message is logged.
		if len(l.msg) != 2 || !strings.Contains(l.msg[1], "not granted to module add") {
			t.Errorf("logs without a grant: %q", l.msg)
		}
	}
	for _, args := range []string{`{"a":1.5,"b":2}`, `{"a":1}`, `{"a":"1","b":2}`, `{"a":1e3,"b":2}`, `{"a":1234567890123456789,"b":1}`} {
		text, _, isErr, _ := call(args, nil)
		if !isErr || !strings.Contains(text, "must be integers") {
			t.Errorf("add %s = %q (error %v), want an error", args, text, isErr)
		}
	}

	// With a grant the total runs across calls.
	g := runtime.NewGrant(&kv.Grant{Quota: 1 << 10})
	for _, want := range []string{`{"sum":5,"total":5}`, `{"sum":5,"total":10}`} {
		_, sc, isErr, l := call(`{"a":2,"b":3}`, g)
		if isErr || sc != want || len(l.msg) != 0 {
			t.Errorf("granted: %s (error %v, logs %q), want %s", sc, isErr, l.msg, want)
		}
	}
	_, sc, _, _ := call(`{"a":-20,"b":0}`, g)
	if sc != `{"sum":-20,"total":-10}` {
		t.Errorf("granted: %s", sc)
	}
	// Over quota, kv_set fails (the new total is longer than the stored
	// one): the sum is still answered, the total left out.
	_, sc, _, l := call(`{"a":1000000,"b":0}`, runtime.NewGrant(&kv.Grant{Quota: 0}))
	if sc != `{"sum":1000000}` || len(l.msg) != 2 || !strings.Contains(l.msg[1], "quota") {
		t.Errorf("over quota: %s, logs %q", sc, l.msg)
	}
}
