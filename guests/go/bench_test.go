package gotools_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// BenchmarkGoModels compares the per-call latency of the same SDK tool
// (jsonq) built as a WASI command (the Go runtime starts in _start) and as
// a reactor (-buildmode=c-shared: _initialize, then wasmgate_call). Each
// call is a fresh instance either way. Both are built here from source with
// the Go toolchain, the manifest taken from the committed module.
//
//	go test -run '^$' -bench GoModels -benchtime 200x ./guests/go/
func BenchmarkGoModels(b *testing.B) {
	wasm, err := os.ReadFile(jsonqWasm)
	if err != nil {
		b.Fatal(err)
	}
	manifest, err := abi.ExtractManifest(wasm)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	r, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close(context.Background())
	args, _ := json.Marshal(map[string]any{"json": `{"items":[{"id":1},{"id":2}]}`, "path": ".items[].id"})
	for _, model := range []struct{ name, flag string }{{"command", ""}, {"reactor", "-buildmode=c-shared"}} {
		out := filepath.Join(dir, model.name+".wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out)
		if model.flag != "" {
			cmd.Args = append(cmd.Args, model.flag)
		}
		cmd.Args = append(cmd.Args, "./jsonq")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd.Args, err, msg)
		}
		if err := os.WriteFile(filepath.Join(dir, model.name+abi.SidecarSuffix), manifest, 0o644); err != nil {
			b.Fatal(err)
		}
		m, err := r.Load(context.Background(), out)
		if err != nil {
			b.Fatal(err)
		}
		if m.Reactor() != (model.flag != "") {
			b.Fatalf("%s: Reactor() = %v", model.name, m.Reactor())
		}
		b.Run(model.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				out, err := m.Call(context.Background(), runtime.Call{Tool: "query", Arguments: args})
				if err != nil || out.Err != nil {
					b.Fatal(err, out.Err)
				}
			}
		})
	}
}
