package runtime

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/engine"
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

// BenchmarkEngines compares the registered engines that compile (all but
// wazero's interpreter: build with -tags wasmtime to include wasmtime) on
// the same calls through the runtime, interleaved: every iteration makes
// the call once on each engine, in turn, so that a busy machine slows them
// alike. It reports each engine's time per call (ENGINE-ns/call) and its
// ratio to wazero's (ENGINE/wazero); ns/op is their sum.
func BenchmarkEngines(b *testing.B) {
	var names []string
	for _, name := range engine.Registered() {
		if name != wazero.InterpreterName {
			names = append(names, name)
		}
	}
	runtimes := make([]*Runtime, len(names))
	for i, name := range names {
		runtimes[i] = newTestRuntime(b, NewConfig().WithEngine(engine.Lookup(name)).WithLimits(Limits{Timeout: time.Minute}))
	}
	mib := `{"text":` + mustJSON(strings.Repeat("lorem ipsum dolor sit amet\n", 1<<20/27)) + `}`
	for _, w := range []struct {
		name, path, tool, args string
	}{
		{"small/wat-echo", echoWasm, "echo", `{}`},
		{"small/c-sha256", cWasm, "sha256", `{"text":"hello world"}`},
		{"small/go-jsonq", jsonqWasm, "query", `{"json":"{\"a\":[1,2,3]}","path":".a[1]"}`},
		{"heavy/c-sha256-1MB", cWasm, "sha256", mib},
		{"heavy/go-word_count-1MB", goWasm, "word_count", mib},
		{"heavy/fib", "testdata/fib.wasm", "fib", `{}`},
	} {
		mods := make([]*Module, len(names))
		for i, r := range runtimes {
			mods[i] = load(b, r, w.path)
		}
		c := Call{Tool: w.tool, Arguments: json.RawMessage(w.args)}
		call := func(m *Module) time.Duration {
			began := time.Now()
			out, err := m.Call(context.Background(), c)
			if err != nil {
				b.Fatal(err)
			}
			if out.Err != nil {
				b.Fatal(out.Err)
			}
			return time.Since(began)
		}
		b.Run(w.name, func(b *testing.B) {
			for _, m := range mods {
				call(m) // each engine's first call (a reactor's snapshot, caches) is not measured
			}
			spent := make([]time.Duration, len(names))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := range names {
					j := (i + k) % len(names) // who goes first changes every iteration
					spent[j] += call(mods[j])
				}
			}
			var base float64
			for j, name := range names {
				ns := float64(spent[j].Nanoseconds()) / float64(b.N)
				b.ReportMetric(ns, name+"-ns/call")
				if name == wazero.Name {
					base = ns
				}
			}
			for j, name := range names {
				if name != wazero.Name && base > 0 {
					b.ReportMetric(float64(spent[j].Nanoseconds())/float64(b.N)/base, name+"/wazero")
				}
			}
		})
	}
}
