package gotools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
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
		if model.flag != "" {
			benchReactorPhases(b, out, args)
		}
	}
}

// benchReactorPhases splits a reactor call, in plain wazero (no wasmgate
// sandbox, no instrumentation): instantiate + _initialize, then
// wasmgate_call alone on an instance initialized beforehand, which is what
// a pool of prepared instances would leave per call.
func benchReactorPhases(b *testing.B, path string, args []byte) {
	ctx := context.Background()
	wasm, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	wz := wazero.NewRuntime(ctx)
	defer wz.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, wz)
	compiled, err := wz.CompileModule(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	stdin, _ := abi.EncodeCall("query", args, nil)
	instance := func() api.Module {
		var out bytes.Buffer
		cfg := wazero.NewModuleConfig().WithName("").WithStdin(bytes.NewReader(stdin)).WithStdout(&out).WithStartFunctions()
		mod, err := wz.InstantiateModule(ctx, compiled, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := mod.ExportedFunction(abi.ExportInitialize).Call(ctx); err != nil {
			b.Fatal(err)
		}
		return mod
	}
	b.Run("reactor-phases/instantiate+initialize", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			instance().Close(ctx)
		}
	})
	b.Run("reactor-phases/call-only", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			mod := instance()
			b.StartTimer()
			if _, err := mod.ExportedFunction(abi.ExportCall).Call(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			mod.Close(ctx)
			b.StartTimer()
		}
	})
}
