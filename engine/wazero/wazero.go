// Package wazero runs guests with wazero (github.com/tetratelabs/wazero),
// and registers two engines: "wazero", which compiles to native code where
// wazero supports it (amd64, arm64) and interprets elsewhere, and
// "wazero-interpreter", which always interprets (no compile time, slower
// calls). Importing the package registers them and makes "wazero" the
// default, whichever engines are registered before or after it (a program
// that wants another calls engine.SetDefault).
//
// Guests are stopped at their deadline by fuel instrumentation by default
// (see Interrupt and RATIONALE.md): each module is rewritten at compile so
// that it calls back into the host every so often, where it is stopped once
// the run's context is done. Memory and tables are kept within the run's
// memory limit by an allocator of their own, and mounts go through package
// files, which nothing outside a mounted directory can be reached through.
package wazero

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"

	wz "github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/engine/wazero/files"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// The names the engines are registered under.
const (
	Name            = "wazero"
	InterpreterName = "wazero-interpreter"
)

func init() {
	engine.Register(Name, Factory(Options{}))
	engine.Register(InterpreterName, Factory(Options{Interpreter: true}))
	// Named, not left to "the first registered": packages initialise in
	// the order of their import paths, and engine/wasmtime's comes first.
	if err := engine.SetDefault(Name); err != nil {
		panic(err)
	}
}

// Interrupt selects how a running guest is stopped when its run's context
// is done.
type Interrupt int

const (
	// InterruptFuel rewrites each module at compile so that every function
	// entry and loop head spends one unit of fuel, and each time the fuel
	// runs out the guest calls back into the host, which stops it if the
	// run's context is done. This is the default.
	InterruptFuel Interrupt = iota
	// InterruptContext uses wazero's WithCloseOnContextDone, which calls
	// into Go at every loop head and function entry: simpler, and several
	// times slower on compute-heavy guests (see BENCHMARKS.md).
	InterruptContext
	// InterruptNone leaves a guest unstoppable until it returns: only for
	// measuring what the other two cost.
	InterruptNone
)

// Options configure a wazero engine.
type Options struct {
	// Interpreter always interprets; otherwise wazero compiles where it
	// can.
	Interpreter bool
	// Interrupt is how guests are stopped. Default InterruptFuel.
	Interrupt Interrupt
}

// Factory returns a factory of wazero engines with o.
func Factory(o Options) engine.Factory {
	return func(ctx context.Context, cfg engine.Config) (engine.Engine, error) { return newEngine(ctx, o, cfg) }
}

type wazeroEngine struct {
	name     string
	opts     Options
	rt       wz.Runtime
	cache    wz.CompilationCache
	cacheDir string // "" when compiled code is kept in memory only
	logger   *slog.Logger
	wasi     map[string]engine.Signature
	mounts   *files.Shared
	// maxOpen bounds the descriptors one run's mounted files hold at once.
	maxOpen int
	// base is what every run's module config has (a config is immutable:
	// each With returns a copy).
	base wz.ModuleConfig
	// pool keeps the memories of finished runs, cleared, for later runs.
	pool *memoryPool
}

func newEngine(ctx context.Context, o Options, cfg engine.Config) (engine.Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	name := Name
	var rc wz.RuntimeConfig
	if o.Interpreter {
		name = InterpreterName
		rc = wz.NewRuntimeConfigInterpreter()
	} else {
		rc = wz.NewRuntimeConfig()
	}
	rc = rc.WithCloseOnContextDone(o.Interrupt == InterruptContext)

	cacheDir := cfg.CacheDir
	var cache wz.CompilationCache
	if cacheDir != "" {
		c, err := wz.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			cfg.Logger.Warn("compilation cache unavailable; compiling in memory only", "dir", cacheDir, "err", err)
			cacheDir = ""
		} else {
			cache = c
		}
	}
	if cache == nil {
		cache = wz.NewCompilationCache()
	}
	rc = rc.WithCompilationCache(cache)

	e := &wazeroEngine{
		name: name, opts: o, rt: wz.NewRuntimeWithConfig(ctx, rc), cache: cache, cacheDir: cacheDir, logger: cfg.Logger,
		// Each run's files hold at most files.DefaultMaxOpen descriptors and
		// all runs together files.DefaultTotalOpen(), half of what the
		// process may open: a guest past either gets EAGAIN for its open,
		// the server keeps room for its sockets and its own files.
		mounts: files.NewShared(files.DefaultTotalOpen()), maxOpen: files.DefaultMaxOpen,
		base: wz.NewModuleConfig().WithName("").WithSysWalltime().WithSysNanotime().WithStartFunctions(),
		pool: newMemoryPool(poolBuffers(cfg.MaxRuns), poolBufferBytes, poolHeapBytes),
	}
	wasi, err := wasi_snapshot_preview1.NewBuilder(e.rt).Compile(ctx)
	if err == nil {
		_, err = e.rt.InstantiateModule(ctx, wasi, wz.NewModuleConfig())
	}
	if err != nil {
		_ = e.Close(ctx)
		return nil, fmt.Errorf("instantiate WASI: %w", err)
	}
	e.wasi = map[string]engine.Signature{}
	for name, def := range wasi.ExportedFunctions() {
		e.wasi[name] = signature(def)
	}
	err = e.instantiateHost(ctx, cfg.HostFuncs)
	if err == nil && o.Interrupt == InterruptFuel {
		err = instantiateYield(ctx, e.rt)
	}
	if err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return e, nil
}

func (e *wazeroEngine) Name() string                      { return e.name }
func (e *wazeroEngine) WASI() map[string]engine.Signature { return e.wasi }

func (e *wazeroEngine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
	e.pool.release()
	return errors.Join(err, e.cache.Close(ctx))
}

// instantiateHost registers the host functions, module by module.
func (e *wazeroEngine) instantiateHost(ctx context.Context, fns []engine.HostFunc) error {
	var order []string
	byModule := map[string][]engine.HostFunc{}
	for _, f := range fns {
		if f.Module == yieldModule || f.Module == wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("host function %s.%s: module %s is the engine's own", f.Module, f.Name, f.Module)
		}
		if _, ok := byModule[f.Module]; !ok {
			order = append(order, f.Module)
		}
		byModule[f.Module] = append(byModule[f.Module], f)
	}
	for _, mod := range order {
		b := e.rt.NewHostModuleBuilder(mod)
		seen := map[string]bool{}
		for _, f := range byModule[mod] {
			if seen[f.Name] {
				return fmt.Errorf("host function %s.%s is defined twice", mod, f.Name)
			}
			seen[f.Name] = true
			fn, full := f.Fn, mod+"."+f.Name
			b.NewFunctionBuilder().
				WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
					defer func() {
						if p := recover(); p != nil {
							panic(&engine.HostPanicError{Func: full, Value: p}) // unwinds the guest
						}
					}()
					fn(ctx, m.Memory(), stack)
				}), valueTypes(f.Params), valueTypes(f.Results)).
				Export(f.Name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return fmt.Errorf("instantiate host module %s: %w", mod, err)
		}
	}
	return nil
}

// compileWorkers is how many goroutines compile one module: all CPUs but
// one, and at least two, since wazero checks for cancellation between
// functions only when compiling with several.
func compileWorkers() int { return max(2, goruntime.GOMAXPROCS(0)-1) }

func (e *wazeroEngine) Compile(ctx context.Context, wasm []byte) (engine.Compiled, error) {
	info, err := wasmbin.DefaultLimits().ReadHeader(wasm)
	if err != nil {
		return nil, err
	}
	// The memory and mutable globals are exported under reserved names, so
	// that runs can capture and restore them (engine.State).
	code, state, err := e.prepare(wasm)
	if err != nil {
		return nil, fmt.Errorf("prepare module: %w", err)
	}
	// The interpreter does not look at ctx while compiling (its compile is
	// quick): a compile that outlasted ctx fails all the same.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mod, err := compileModule(experimental.WithCompilationWorkers(ctx, compileWorkers()), e.rt, code)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		_ = mod.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	c := &compiled{e: e, mod: mod, pool: e.pool}
	if state.Reason != "" {
		c.stateErr = fmt.Errorf("the module's state cannot be captured: %s", state.Reason)
	}
	for _, g := range state.Globals {
		c.globals = append(c.globals, wasmbin.StateGlobalPrefix+strconv.FormatUint(uint64(g), 10))
	}
	if e.opts.Interrupt == InterruptContext {
		// wazero closes a module whose context is done from another
		// goroutine, while the guest may still be writing its memory: such
		// a memory is never reused.
		c.pool = nil
	}
	for _, t := range info.Tables {
		c.tableMins = append(c.tableMins, t.Min)
	}
	return c, nil
}

// compileModule compiles, turning a panic in wazero's decoder or validator
// (which malformed input has triggered) into an error: a broken module must
// fail to load, never take the process down.
func compileModule(ctx context.Context, rt wz.Runtime, code []byte) (compiled wz.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			compiled, err = nil, fmt.Errorf("the module is malformed: validating it failed with %v", p)
		}
	}()
	return rt.CompileModule(ctx, code)
}

// prepareVersion changes whenever prepare's output for the same input does
// (besides wasmbin's own versions), so that cached copies are keyed by it.
const prepareVersion = 1

// prepare returns the module the engine compiles: its data segments joined
// (wasmbin.CoalesceData: instantiating then copies a few segments, not
// tens of thousands), its state exposed (wasmbin.ExposeState) and, by
// default, instrumented. An instrumented module comes from the cache
// directory when an earlier compile left it there: preparing a large
// module takes longer than reading it. A cache that cannot be read or
// written is skipped.
func (e *wazeroEngine) prepare(wasm []byte) ([]byte, wasmbin.State, error) {
	var path string
	fuel := e.opts.Interrupt == InterruptFuel
	if fuel && e.cacheDir != "" {
		path = filepath.Join(e.cacheDir, "instrumented", fmt.Sprintf("%s-v%d-s%d-p%d.wasm", sha256Hex(wasm), wasmbin.InstrumentVersion, wasmbin.StateVersion, prepareVersion))
		if b, err := os.ReadFile(path); err == nil && wasmbin.IsInstrumented(b, yieldModule) {
			// What ExposeState found is in the exports it added; a module
			// it left alone is looked at again, to say why.
			if st, ok := wasmbin.ExposedState(b); ok {
				return b, st, nil
			}
			st, err := wasmbin.StateOf(wasm)
			return b, st, err
		}
	}
	code, err := wasmbin.CoalesceData(wasm)
	if err != nil {
		return nil, wasmbin.State{}, err
	}
	code, st, err := wasmbin.ExposeState(code)
	if err != nil || !fuel {
		return code, st, err
	}
	code, err = wasmbin.Instrument(code, yieldModule)
	if err != nil || path == "" {
		return code, st, err
	}
	if err := atomicfile.Write(path, code); err != nil {
		e.logger.Debug("instrumented module not cached", "path", path, "err", err)
	}
	return code, st, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// compiled is a module compiled by wazero.
type compiled struct {
	e         *wazeroEngine
	mod       wz.CompiledModule
	tableMins []uint64 // declared minimum of each table, in elements
	// pool is where the runs' memories come from and go back to; nil
	// allocates each afresh.
	pool *memoryPool
	// stateErr says why runs cannot capture and restore the instance's
	// state; globals are the export names of its mutable globals.
	stateErr error
	globals  []string
	// ios are the runs' module configs and what they point to.
	ios ios
}

func (c *compiled) Snapshottable() error { return c.stateErr }

func (c *compiled) ImportedFunctions() []engine.Import {
	var out []engine.Import
	for _, def := range c.mod.ImportedFunctions() {
		mod, name, _ := def.Import()
		if mod == yieldModule {
			continue // the instrumenter's own
		}
		out = append(out, engine.Import{Module: mod, Name: name, Signature: signature(def)})
	}
	return out
}

func (c *compiled) ExportedFunctions() map[string]engine.Signature {
	out := map[string]engine.Signature{}
	for name, def := range c.mod.ExportedFunctions() {
		out[name] = signature(def)
	}
	return out
}

func (c *compiled) ExportedMemories() []string {
	var out []string
	for name := range c.mod.ExportedMemories() {
		if name != wasmbin.StateMemory { // the engine's own
			out = append(out, name)
		}
	}
	return out
}

func (c *compiled) Close(ctx context.Context) error { return c.mod.Close(ctx) }

func signature(def api.FunctionDefinition) engine.Signature {
	return engine.Signature{Params: fromValueTypes(def.ParamTypes()), Results: fromValueTypes(def.ResultTypes())}
}

// engine.ValueType and api.ValueType are both the binary encoding.
func fromValueTypes(ts []api.ValueType) []engine.ValueType {
	if len(ts) == 0 {
		return nil
	}
	out := make([]engine.ValueType, len(ts))
	for i, t := range ts {
		out[i] = engine.ValueType(t)
	}
	return out
}

func valueTypes(ts []engine.ValueType) []api.ValueType {
	if len(ts) == 0 {
		return nil
	}
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// trap splits a wazero error into its first line and the frames of its wasm
// stack trace.
func trap(err error) (string, []string) {
	first, rest, _ := strings.Cut(err.Error(), "\n")
	first = strings.TrimPrefix(strings.TrimSuffix(first, " (recovered by wazero)"), "wasm error: ")
	_, frames, ok := strings.Cut(rest, "wasm stack trace:")
	if !ok {
		return first, nil
	}
	var lines []string
	for _, l := range strings.Split(frames, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return first, lines
}
