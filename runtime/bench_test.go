package runtime

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/engine/wazero"
)

func benchCall(b *testing.B, m *Module, c Call) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := m.Call(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if out.Err != nil {
			b.Fatal(out.Err)
		}
	}
}

// jsonqWasm is a Go reactor built with the SDK.
const jsonqWasm = "../guests/go/jsonq/jsonq.wasm"

// BenchmarkCall is the per-call latency of a fresh sandboxed instance for
// small inputs: instantiate, run _start, parse the result.
func BenchmarkCall(b *testing.B) {
	r := newTestRuntime(b, nil)
	for _, tc := range []struct {
		name, path, tool, args string
	}{
		{"c/sha256", cWasm, "sha256", `{"text":"hello world"}`},
		{"go/word_count", goWasm, "word_count", `{"text":"hello world"}`},
		{"wat/echo", echoWasm, "echo", `{}`},
		{"go/jsonq", jsonqWasm, "query", `{"json":"{\"a\":[1,2,3]}","path":".a[1]"}`},
	} {
		m := load(b, r, tc.path)
		b.Run(tc.name, func(b *testing.B) {
			benchCall(b, m, Call{Tool: tc.tool, Arguments: json.RawMessage(tc.args)})
		})
	}
}

// BenchmarkCallParallel measures throughput with calls on every core.
func BenchmarkCallParallel(b *testing.B) {
	r := newTestRuntime(b, nil)
	m := load(b, r, cWasm)
	c := Call{Tool: "sha256", Arguments: json.RawMessage(`{"text":"hello world"}`)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if out, err := m.Call(context.Background(), c); err != nil || out.Err != nil {
				b.Fatal(err, out.Err)
			}
		}
	})
}

// BenchmarkInterrupt compares how guests are made stoppable on compute-bound
// work: none (cannot be stopped: the floor), fuel instrumentation (the
// default) and wazero's WithCloseOnContextDone.
func BenchmarkInterrupt(b *testing.B) {
	bigText := `{"text":` + mustJSON(strings.Repeat("lorem ipsum dolor sit amet\n", 40000)) + `}`
	for _, mode := range []struct {
		name string
		i    wazero.Interrupt
	}{{"none", wazero.InterruptNone}, {"fuel", wazero.InterruptFuel}, {"context", wazero.InterruptContext}} {
		cfg := NewConfig().WithEngine(wazero.Factory(wazero.Options{Interrupt: mode.i}))
		r := newTestRuntime(b, cfg.WithLimits(Limits{Timeout: time.Minute}))
		fib := load(b, r, "testdata/fib.wasm")
		goMod := load(b, r, goWasm)
		cMod := load(b, r, cWasm)
		b.Run("fib/"+mode.name, func(b *testing.B) { benchCall(b, fib, Call{Tool: "fib"}) })
		b.Run("go-word_count-1MB/"+mode.name, func(b *testing.B) {
			benchCall(b, goMod, Call{Tool: "word_count", Arguments: json.RawMessage(bigText)})
		})
		b.Run("c-sha256-1MB/"+mode.name, func(b *testing.B) {
			benchCall(b, cMod, Call{Tool: "sha256", Arguments: json.RawMessage(bigText)})
		})
	}
}

// BenchmarkLoad is the cost of loading a module: cold compiles, cached
// reads the compilation cache directory a previous runtime filled.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct{ name, path string }{{"go", goWasm}, {"c", cWasm}} {
		b.Run(tc.name+"/cold", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := New(ctx, NewConfig().WithCacheDir(""))
				if err != nil {
					b.Fatal(err)
				}
				load(b, r, tc.path)
				r.Close(ctx)
			}
		})
		dir := b.TempDir()
		warm, _ := New(ctx, NewConfig().WithCacheDir(dir))
		load(b, warm, tc.path)
		warm.Close(ctx)
		b.Run(tc.name+"/cached", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := New(ctx, NewConfig().WithCacheDir(dir))
				if err != nil {
					b.Fatal(err)
				}
				load(b, r, tc.path)
				r.Close(ctx)
			}
		})
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
