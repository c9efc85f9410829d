package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero" // the default engine
	"github.com/wasmgate/wasmgate/runtime"
)

// A callCase is one tool called in-process with the same arguments by
// wasmgate and by plain wazero.
type callCase struct {
	key    string // for the raw numbers
	what   string // the row's label
	path   string // the module, under the repository root
	tool   string
	args   string
	want   string // in the result's text or structured content: proof the call worked
	target target
}

var callCases = []callCase{
	{"wat-echo", "WAT echo (`guests/wat/echo`)", "guests/wat/echo/echo.wasm", "echo", `{}`, `ok`,
		target{kind: maxRatio, value: 1.2}},
	{"c-sha256", "C sha256 (`guests/c/hash`, `{\"text\":\"hello world\"}`)", "guests/c/hash/hash.wasm", "sha256", `{"text":"hello world"}`,
		`b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9`, target{kind: maxRatio, value: 1.2}},
	{"rust-wordfreq", "Rust example tool `wordfreq` (1.06 MiB of memory at start; 9 words)", "guests/rust/wordfreq/wordfreq.wasm", "word_frequencies",
		`{"text":"the quick brown fox jumps over the lazy dog"}`, `"total_words":9`, target{kind: maxSeconds, value: 150e-6, label: "≤ 0.15 ms"}},
	{"go-jsonq", "Go reactor tool `jsonq` (`.items[].id` of a 2-item document)", "guests/go/jsonq/jsonq.wasm", "query",
		`{"json":"{\"items\":[{\"id\":1},{\"id\":2}]}","path":".items[].id"}`, "1\n2", target{kind: maxSeconds, value: 1.2e-3, label: "≤ 1.2 ms"}},
}

// inProcess measures the per-call rows and the Extism rows: calls in this
// process through wasmgate's runtime, against plain wazero running the same
// bytes and against Extism's go-sdk.
func (b *bench) inProcess(ctx context.Context) ([]row, error) {
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)

	var rows []row
	var echo func() error // the WAT echo through wasmgate, for the Extism rows
	for _, c := range callCases {
		if !b.o.want("percall") && c.key != "wat-echo" {
			continue
		}
		progress("per call: loading %s (wasmgate and plain wazero)", c.path)
		wasm, err := os.ReadFile(b.path(c.path))
		if err != nil {
			return nil, err
		}
		m, err := rt.Load(ctx, b.path(c.path))
		if err != nil {
			return nil, err
		}
		call := runtime.Call{Tool: c.tool, Arguments: json.RawMessage(c.args)}
		subject := func() error {
			out, err := m.Call(ctx, call)
			if err != nil {
				return err
			}
			if out.Err != nil {
				return fmt.Errorf("wasmgate %s/%s: %s", m.Name(), c.tool, out.Err.Detail())
			}
			return nil
		}
		if c.key == "wat-echo" {
			echo = subject
		}
		if !b.o.want("percall") {
			continue
		}
		raw, err := newRawModule(ctx, wasm, c.tool, c.args)
		if err != nil {
			return nil, fmt.Errorf("%s: plain wazero: %w", c.path, err)
		}
		// Both answer, and answer right, before anything is timed.
		if err := raw.check(ctx, c.want); err != nil {
			raw.close(ctx)
			return nil, fmt.Errorf("%s: plain wazero: %w", c.path, err)
		}
		if out, err := m.Call(ctx, call); err != nil || out.Err != nil || !resultHas(out.Result, c.want) {
			raw.close(ctx)
			return nil, fmt.Errorf("%s: wasmgate: unexpected outcome (%v, %+v)", c.path, err, out)
		}
		n := b.rounds(16)
		progress("per call: %s, %d rounds of %s each, plain wazero and wasmgate alternately", c.key, n, b.o.callTime)
		res, err := alternate(n, []func() (float64, error){
			func() (float64, error) { return perCall(b.o.callTime, func() error { return raw.call(ctx) }) },
			func() (float64, error) { return perCall(b.o.callTime, subject) },
		}, func(r int, v []float64) {
			fmt.Fprintf(b.raw, "percall %s round %d: wazero %.2fus wasmgate %.2fus ratio %.3f\n", c.key, r+1, v[0]*1e6, v[1]*1e6, v[1]/v[0])
		})
		raw.close(ctx)
		if err != nil {
			return nil, err
		}
		base, subj, ratio := median(res[0]), median(res[1]), median(ratios(res[1], res[0]))
		progress("per call: %s: plain wazero %s, wasmgate %s, ratio %.2f", c.key, dur(base), dur(subj), ratio)
		rows = append(rows, row{
			what:     "per call in-process, " + c.what,
			baseline: dur(base) + " plain wazero",
			subject:  dur(subj),
			ratio:    fmt.Sprintf("%.2fx", ratio),
			target:   c.target,
			seconds:  subj,
			value:    ratio,
		})
	}
	if b.o.want("extism") {
		rs, err := b.extism(ctx, echo)
		if err != nil {
			return nil, err
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

func resultHas(r *abi.ToolResult, want string) bool {
	if r == nil || r.IsError {
		return false
	}
	if strings.Contains(r.Text(), want) {
		return true
	}
	sc, _ := json.Marshal(r.StructuredContent)
	return bytes.Contains(sc, []byte(want))
}

// rawModule is the baseline of the per-call rows: the module's bytes as
// they are (not instrumented), compiled once by a default wazero runtime
// with WASI, then for each call a fresh instance with the request on stdin,
// running _start (a command) or _initialize and wasmgate_call (a reactor).
// wasmgate's own imports are no-op stubs.
type rawModule struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	reactor  bool
	stdin    []byte
	stdout   bytes.Buffer
}

func newRawModule(ctx context.Context, wasm []byte, tool, args string) (*rawModule, error) {
	stdin, err := abi.EncodeCall(tool, json.RawMessage(args), nil) // what runtime.Module.Call sends
	if err != nil {
		return nil, err
	}
	r := &rawModule{rt: wazero.NewRuntime(ctx), stdin: stdin}
	wasi_snapshot_preview1.MustInstantiate(ctx, r.rt)
	if r.compiled, err = r.rt.CompileModule(ctx, wasm); err != nil {
		r.rt.Close(ctx)
		return nil, err
	}
	host := r.rt.NewHostModuleBuilder(abi.HostModule)
	stubs := 0
	for _, f := range r.compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != abi.HostModule {
			continue
		}
		host.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			clear(stack) // every result is 0: success, or nothing
		}), f.ParamTypes(), f.ResultTypes()).Export(name)
		stubs++
	}
	if stubs > 0 {
		if _, err := host.Instantiate(ctx); err != nil {
			r.rt.Close(ctx)
			return nil, err
		}
	}
	_, r.reactor = r.compiled.ExportedFunctions()[abi.ExportCall]
	return r, nil
}

func (r *rawModule) call(ctx context.Context) error {
	r.stdout.Reset()
	cfg := wazero.NewModuleConfig().WithName("").WithStdin(bytes.NewReader(r.stdin)).WithStdout(&r.stdout)
	if r.reactor {
		cfg = cfg.WithStartFunctions()
	}
	mod, err := r.rt.InstantiateModule(ctx, r.compiled, cfg)
	if err != nil {
		if exit := (*sys.ExitError)(nil); errors.As(err, &exit) && exit.ExitCode() == 0 {
			return nil // _start ended with proc_exit(0)
		}
		return err
	}
	defer mod.Close(ctx)
	if r.reactor {
		for _, name := range []string{abi.ExportInitialize, abi.ExportCall} {
			if _, err := mod.ExportedFunction(name).Call(ctx); err != nil {
				if exit := (*sys.ExitError)(nil); errors.As(err, &exit) && exit.ExitCode() == 0 {
					return nil
				}
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// check makes one call and checks that its output is a valid result
// holding want.
func (r *rawModule) check(ctx context.Context, want string) error {
	if err := r.call(ctx); err != nil {
		return err
	}
	res, err := abi.ParseToolResult(r.stdout.Bytes())
	if err != nil {
		return fmt.Errorf("output %q: %w", r.stdout.Bytes(), err)
	}
	if !resultHas(res, want) {
		return fmt.Errorf("output %q does not hold %q", r.stdout.Bytes(), want)
	}
	return nil
}

func (r *rawModule) close(ctx context.Context) { r.rt.Close(ctx) }

//go:embed plugin/echo.wasm
var extismEcho []byte

// extism compares wasmgate calling the WAT echo tool with Extism's go-sdk
// calling a plugin that echoes its input (plugin/echo.wat), on a fresh
// plugin instance per call (compiled once) and on one instance reused.
// The plugin's input is the request envelope the echo tool reads.
func (b *bench) extism(ctx context.Context, echo func() error) ([]row, error) {
	progress("extism: compiling the echo plugin")
	input, err := abi.EncodeCall("echo", json.RawMessage(`{}`), nil)
	if err != nil {
		return nil, err
	}
	compiled, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: extismEcho}}}, extism.PluginConfig{}, nil)
	if err != nil {
		return nil, err
	}
	defer compiled.Close(ctx)
	call := func(p *extism.Plugin) error {
		rc, out, err := p.CallWithContext(ctx, "echo", input)
		if err != nil {
			return err
		}
		if rc != 0 || !bytes.Equal(out, input) {
			return fmt.Errorf("extism echo: rc %d, output %q", rc, out)
		}
		return nil
	}
	fresh := func() error {
		p, err := compiled.Instance(ctx, extism.PluginInstanceConfig{})
		if err != nil {
			return err
		}
		defer p.Close(ctx)
		return call(p)
	}
	reused, err := compiled.Instance(ctx, extism.PluginInstanceConfig{})
	if err != nil {
		return nil, err
	}
	defer reused.Close(ctx)
	if err := fresh(); err != nil {
		return nil, err
	}
	if err := echo(); err != nil {
		return nil, err
	}
	n := b.rounds(15)
	progress("extism: %d rounds of %s each, wasmgate, Extism fresh and Extism reused in turn", n, b.o.callTime)
	res, err := alternate(n, []func() (float64, error){
		func() (float64, error) { return perCall(b.o.callTime, echo) },
		func() (float64, error) { return perCall(b.o.callTime, fresh) },
		func() (float64, error) { return perCall(b.o.callTime, func() error { return call(reused) }) },
	}, func(r int, v []float64) {
		fmt.Fprintf(b.raw, "extism round %d: wasmgate %.2fus extism-fresh %.2fus extism-reused %.2fus\n", r+1, v[0]*1e6, v[1]*1e6, v[2]*1e6)
	})
	if err != nil {
		return nil, err
	}
	var rows []row
	for i, kind := range []string{"a fresh instance per call (compiled once)", "one instance reused for every call"} {
		base, subj, ratio := median(res[i+1]), median(res[0]), median(ratios(res[0], res[i+1]))
		progress("extism: %s: Extism %s, wasmgate %s, ratio %.2f", kind, dur(base), dur(subj), ratio)
		rows = append(rows, row{
			what:     "per call in-process, WAT echo tool vs Extism go-sdk " + extismVersion() + " calling a WAT echo plugin on " + kind,
			baseline: dur(base) + " Extism",
			subject:  dur(subj),
			ratio:    fmt.Sprintf("%.2fx", ratio) + faster(ratio),
			target:   target{kind: maxRatio, value: 1, strict: true},
			value:    ratio,
		})
	}
	return rows, nil
}

// faster says a time ratio in words.
func faster(ratio float64) string {
	switch {
	case ratio < 1:
		return fmt.Sprintf(" (%.1fx faster)", 1/ratio)
	case ratio > 1:
		return fmt.Sprintf(" (%.2fx slower)", ratio)
	}
	return ""
}

// dur formats seconds per call.
func dur(s float64) string {
	d := time.Duration(s * 1e9)
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}
