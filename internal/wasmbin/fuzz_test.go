package wasmbin

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// FuzzInstrument rewrites arbitrary bytes: it must never panic, and a module
// wazero accepts must still be accepted after instrumentation.
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
		out, err := Instrument(wasm, "m", "y")
		if err != nil {
			return
		}
		orig, err := r.CompileModule(ctx, wasm)
		if err != nil {
			return // not a valid module to begin with
		}
		orig.Close(ctx)
		c, err := r.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("valid module became invalid after instrumentation: %v", err)
		}
		c.Close(ctx)
	})
}
