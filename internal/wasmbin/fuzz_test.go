package wasmbin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInstrument rewrites arbitrary bytes: it must never panic, and a module
// wazero accepts must still be accepted after instrumentation, with fuel
// (Instrument) or without (InstrumentGrowth).
func FuzzInstrument(f *testing.F) {
	f.Add(minimal)
	for _, dir := range []string{"../../runtime/testdata", "../../guests/testdata/hostile", "../../guests/wat/echo"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		// The runtime refuses a module over its limits before anything
		// else reads it: past them wazero's decoder may allocate gigabytes.
		if _, err := ReadInfo(wasm); err != nil {
			return
		}
		// What the engine compiles: data joined, state exposed, instrumented.
		joined, joinErr := CoalesceData(wasm)
		var exposed []byte
		var exposeErr error
		if joinErr == nil {
			exposed, _, exposeErr = ExposeState(joined)
		}
		out, err := Instrument(wasm, "m")
		if err != nil {
			return
		}
		// Instrument and InstrumentGrowth read the same instructions.
		growth, err := InstrumentGrowth(wasm, "m")
		if err != nil {
			t.Fatalf("Instrument accepted a module InstrumentGrowth refused: %v", err)
		}
		orig, err := compile(ctx, r, wasm)
		if err != nil {
			return // not a valid module to begin with (or one wazero cannot validate)
		}
		orig.Close(ctx)
		c, err := compile(ctx, r, out)
		if err != nil {
			t.Fatalf("valid module became invalid after instrumentation: %v", err)
		}
		c.Close(ctx)
		if c, err = compile(ctx, r, growth); err != nil {
			t.Fatalf("valid module became invalid after routing its growth: %v", err)
		}
		c.Close(ctx)
		if joinErr != nil || exposeErr != nil {
			t.Fatalf("valid module not prepared: %v %v", joinErr, exposeErr)
		}
		if c, err = compile(ctx, r, exposed); err != nil {
			t.Fatalf("valid module became invalid after joining its data and exposing its state: %v", err)
		}
		c.Close(ctx)
	})
}

// compile recovers the panics wazero's validator has on some malformed
// modules (the runtime does the same), so the fuzzer tests our rewriting.
func compile(ctx context.Context, r wazero.Runtime, b []byte) (c wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("wazero panicked: %v", p)
		}
	}()
	return r.CompileModule(ctx, b)
}
