//go:build wasmtime

// Package wasmtime runs guests with Wasmtime (through
// github.com/bytecodealliance/wasmtime-go, which links Wasmtime's C
// library), and registers the engine "wasmtime". It is built only with the
// wasmtime build tag (make build-wasmtime), since it needs cgo and a
// ~200 MB module download; it never becomes the default engine (engine/wazero
// names itself the default), and is chosen by name: runtime.Config's
// WithEngine(engine.Lookup("wasmtime")), a policy entry's engine: wasmtime,
// or --engine wasmtime.
//
// Wasmtime compiles with Cranelift, and compiled code runs about twice as
// fast as wazero's (RATIONALE.md, "Choosing an engine"). The engine keeps
// the contract of package engine the way engine/wazero does, with
// Wasmtime's own means where it has them:
//
//   - Guests are stopped by epoch interruption: compiled code checks the
//     engine's epoch at every function entry and loop head. A run whose
//     context is done sets its stop flag and increments the epoch; every
//     running store then calls back into the host, and only the stores
//     whose flag is set stop. Nothing runs while no context ends.
//   - Memory and tables count against RunConfig.MemoryLimit together:
//     every memory.grow and table.grow asks the host first
//     (wasmbin.InstrumentGrowth), which refuses what would pass the limit
//     and remembers that it did. A store limiter caps each on its own as a
//     second line.
//   - Instances come from a pool of slots whose memory stays resident
//     between runs, cleared: a call does not map, fault in and unmap its
//     memory (the pool is sized by slotCount).
//   - stdin, stdout, stderr, random_get and poll_oneoff are the engine's own
//     host functions (wasi.go), shadowing Wasmtime's WASI: a write goes
//     straight to RunConfig's writers and a sleep ends with the run's
//     context. The rest of WASI (files, clocks, arguments, environment) is
//     Wasmtime's, with mounts as preopened directories.
package wasmtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"

	wt "github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// Name is the name the engine is registered under.
const Name = "wasmtime"

func init() { engine.Register(Name, New) }

// growthModule is where wasmbin.InstrumentGrowth's imports come from.
// Guests cannot import it themselves (the runtime checks their imports
// before compiling, and host functions may not be defined in it).
const growthModule = "wasmgate.runtime"

// The instance pool (see New). Each slot reserves address space for a
// 4 GiB memory (runtime.MaxMemory) and a table of maxTableElements, not
// memory; what a run used of its slot stays resident, cleared, up to
// keepResident bytes.
const (
	// maxMemory is the largest linear memory, the largest memory limit.
	maxMemory = 4 << 30
	// maxTableElements caps every table: 4 GiB of references, what the
	// largest memory limit allows. (The pool refuses to compile a module
	// declaring a larger table; the runtime refuses to run one declaring
	// more than its memory limit allows.)
	maxTableElements = maxMemory / tableElemSize
	// keepResident is how much of a slot's memory stays resident between
	// runs, the size of engine/wazero's largest pooled memory.
	keepResident = 64 << 20
)

// slotCount is how many instances may exist at once: twice the runtime's
// default number of concurrent calls, and at least 256.
func slotCount() int { return max(256, 16*goruntime.GOMAXPROCS(0)) }

// warmSlots is how many freed slots keep their memory resident: as many
// as engine/wazero keeps pooled memories.
func warmSlots() int { return 2 * goruntime.GOMAXPROCS(0) }

// tableElemSize is what one table element is counted as: a reference.
const tableElemSize = 8

const pageSize = 65536

// wasmtimeVersion is the wasmtime-go module's version, part of the
// compilation cache's keys.
var wasmtimeVersion = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/bytecodealliance/wasmtime-go/v39" {
				return d.Version
			}
		}
	}
	return "v39"
}()

type wasmtimeEngine struct {
	engine   *wt.Engine
	linker   *wt.Linker // WASI with the engine's own stdio; host functions; growth
	wasiOnly *wt.Linker // Wasmtime's WASI alone, which the engine's WASI delegates to
	// trampoline is compiled trampolineWAT, through which the engine's WASI
	// calls Wasmtime's.
	trampoline *wt.Module
	cacheDir   string // "" when compiled code is kept in memory only
	logger     *slog.Logger
	wasi       map[string]engine.Signature
	// files counts the descriptors all runs' mounts hold, against
	// totalOpen.
	files     atomic.Int64
	totalOpen int64

	// mu guards closed and active: the engine and its linkers are freed
	// once it is closed and no compile or run uses them.
	mu     sync.Mutex
	closed bool
	active int
}

// New creates a wasmtime engine; it is the factory registered as "wasmtime".
func New(ctx context.Context, cfg engine.Config) (engine.Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkLayout(); err != nil {
		return nil, err
	}
	c := wt.NewConfig()
	c.SetEpochInterruption(true)
	// Data segments are copied into a resident slot at instantiation
	// rather than mapped copy-on-write: no page faults on the guest's first
	// writes, and no descriptor per module image.
	c.SetMemoryInitCOWSet(false)
	configPooling(c, uint32(slotCount()), maxMemory, maxTableElements, keepResident, uint32(warmSlots()))
	e := &wasmtimeEngine{
		engine:    wt.NewEngineWithConfig(c),
		logger:    cfg.Logger,
		wasi:      wasiSignatures(),
		totalOpen: int64(defaultTotalOpen()),
	}
	e.linker, e.wasiOnly = wt.NewLinker(e.engine), wt.NewLinker(e.engine)
	if err := e.wasiOnly.DefineWasi(); err != nil {
		e.Close(ctx)
		return nil, fmt.Errorf("define WASI: %w", err)
	}
	err := e.linker.DefineWasi()
	if err == nil {
		// The engine's own WASI functions replace Wasmtime's of the same
		// names; they are defined after, with shadowing allowed, and
		// shadowing is then turned off so that host functions cannot.
		e.linker.AllowShadowing(true)
		err = e.defineWASI()
		e.linker.AllowShadowing(false)
	}
	if err == nil {
		err = e.defineGrowth()
	}
	if err == nil {
		var wasm []byte
		if wasm, err = wt.Wat2Wasm(trampolineWAT(e.wasi)); err == nil {
			e.trampoline, err = wt.NewModule(e.engine, wasm)
		}
	}
	if err == nil {
		err = e.defineHost(cfg.HostFuncs)
	}
	if err != nil {
		e.Close(ctx)
		return nil, err
	}
	if cfg.CacheDir != "" {
		dir := filepath.Join(cfg.CacheDir, "wasmtime")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			cfg.Logger.Warn("compilation cache unavailable; compiling in memory only", "dir", dir, "err", err)
		} else {
			e.cacheDir = dir
		}
	}
	return e, nil
}

func (e *wasmtimeEngine) Name() string                      { return Name }
func (e *wasmtimeEngine) WASI() map[string]engine.Signature { return e.wasi }

// Close releases the linkers and the engine once no compile or run uses
// them; it does not wait for them. Wasmtime frees the engine and its
// instance pool once the modules compiled with it are closed too.
func (e *wasmtimeEngine) Close(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		e.free()
	}
	return nil
}

// acquire reports whether the engine is open, and keeps it from being
// freed until release.
func (e *wasmtimeEngine) acquire() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.active++
	return true
}

func (e *wasmtimeEngine) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.active--
	e.free()
}

// free frees the engine if it is closed and unused; e.mu is held.
func (e *wasmtimeEngine) free() {
	if !e.closed || e.active > 0 || e.engine == nil {
		return
	}
	if e.linker != nil {
		e.linker.Close()
	}
	if e.wasiOnly != nil {
		e.wasiOnly.Close()
	}
	if e.trampoline != nil {
		e.trampoline.Close()
	}
	e.engine.Close()
	e.engine = nil
}

// prepareVersion changes whenever prepare's output for the same input does
// (besides wasmbin's own versions), so that cached code is keyed by it.
const prepareVersion = 1

// Compile checks the module's structure, prepares it (its data segments
// joined, its state exposed, its growth routed through the host) and
// compiles it, or reads what an earlier compile of the same module left in
// the cache directory. Wasmtime's compile cannot be stopped: when ctx is
// done first, Compile returns ctx's error at once and the compile goes on
// in the background, its result closed when it ends.
func (e *wasmtimeEngine) Compile(ctx context.Context, wasm []byte) (engine.Compiled, error) {
	info, err := wasmbin.DefaultLimits().ReadHeader(wasm)
	if err != nil {
		return nil, err
	}
	state, err := wasmbin.StateOf(wasm)
	if err != nil {
		return nil, fmt.Errorf("prepare module: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !e.acquire() {
		return nil, errors.New("the engine is closed")
	}
	type result struct {
		mod   *wt.Module
		funcs []funcInfo
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("the module is malformed: compiling it failed with %v", p)}
			}
			e.release()
			done <- r
		}()
		r.mod, r.funcs, r.err = e.compile(wasm)
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.mod != nil {
				r.mod.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	c := &compiled{e: e, mod: r.mod, funcs: r.funcs}
	if state.Reason != "" {
		c.stateErr = fmt.Errorf("the module's state cannot be captured: %s", state.Reason)
	}
	for _, g := range state.Globals {
		c.globals = append(c.globals, wasmbin.StateGlobalPrefix+strconv.FormatUint(uint64(g), 10))
	}
	for _, t := range info.Tables {
		c.tableMins = append(c.tableMins, t.Min)
	}
	c.memMin = info.MemoryMinPages * pageSize
	c.readTypes()
	return c, nil
}

// compile prepares and compiles wasm, through the cache directory when
// there is one.
func (e *wasmtimeEngine) compile(wasm []byte) (*wt.Module, []funcInfo, error) {
	var path string
	if e.cacheDir != "" {
		key := fmt.Sprintf("%s-g%d-s%d-p%d-%s", sha256Hex(wasm), wasmbin.GrowthVersion, wasmbin.StateVersion, prepareVersion, wasmtimeVersion)
		path = filepath.Join(e.cacheDir, sha256Hex([]byte(key))+".cwasm")
		if mod, funcs, err := e.readCached(path); err == nil {
			return mod, funcs, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			e.logger.Debug("cached module not used", "path", path, "err", err)
		}
	}
	code, err := prepare(wasm)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare module: %w", err)
	}
	funcs, err := functionTypes(code)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare module: %w", err)
	}
	mod, err := wt.NewModule(e.engine, code)
	if err != nil {
		return nil, nil, err
	}
	if path != "" {
		if err := e.writeCached(path, mod, funcs); err != nil {
			e.logger.Debug("compiled module not cached", "path", path, "err", err)
		}
	}
	return mod, funcs, nil
}

// prepare returns the module the engine compiles: its data segments joined
// (wasmbin.CoalesceData), its state exposed (wasmbin.ExposeState) and its
// growth asked of the host (wasmbin.InstrumentGrowth).
func prepare(wasm []byte) ([]byte, error) {
	code, err := wasmbin.CoalesceData(wasm)
	if err != nil {
		return nil, err
	}
	if code, _, err = wasmbin.ExposeState(code); err != nil {
		return nil, err
	}
	return wasmbin.InstrumentGrowth(code, growthModule)
}

// A cache file is the compiled module as Wasmtime serializes it, after a
// header: the magic, the SHA-256 of everything after the header, and the
// function types for stack traces. A file whose digest does not match (a
// write cut short, a damaged disk) is not deserialized: Wasmtime trusts
// what it deserializes.
var cacheMagic = []byte("wasmgate-wasmtime-1\n")

func (e *wasmtimeEngine) readCached(path string) (*wt.Module, []funcInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	rest, ok := bytes.CutPrefix(b, cacheMagic)
	if !ok || len(rest) < sha256.Size {
		return nil, nil, errors.New("not a cached module")
	}
	sum, body := rest[:sha256.Size], rest[sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, nil, errors.New("the cached module is damaged")
	}
	funcs, code, err := decodeFuncInfos(body)
	if err != nil {
		return nil, nil, err
	}
	mod, err := wt.NewModuleDeserialize(e.engine, code)
	if err != nil {
		return nil, nil, err
	}
	return mod, funcs, nil
}

func (e *wasmtimeEngine) writeCached(path string, mod *wt.Module, funcs []funcInfo) error {
	code, err := mod.Serialize()
	if err != nil {
		return err
	}
	body := append(encodeFuncInfos(funcs), code...)
	sum := sha256.Sum256(body)
	b := append(append(append([]byte(nil), cacheMagic...), sum[:]...), body...)
	return atomicfile.Write(path, b)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// compiled is a module compiled by Wasmtime.
type compiled struct {
	e         *wasmtimeEngine
	mod       *wt.Module
	tableMins []uint64 // declared minimum of each table, in elements
	memMin    uint64   // the memory's declared minimum, in bytes
	// funcs are the types of the compiled module's functions, by index,
	// for stack traces.
	funcs []funcInfo
	// stateErr says why runs cannot capture and restore the instance's
	// state; globals are the export names of its mutable globals.
	stateErr error
	globals  []string

	imports  []engine.Import
	exports  map[string]engine.Signature
	memories []string
}

// readTypes reads the module's imports and exports once.
func (c *compiled) readTypes() {
	for _, im := range c.mod.Imports() {
		ft := im.Type().FuncType()
		if ft == nil || im.Module() == growthModule {
			continue // the engine's own, or not a function
		}
		name := ""
		if n := im.Name(); n != nil {
			name = *n
		}
		c.imports = append(c.imports, engine.Import{Module: im.Module(), Name: name, Signature: signatureOf(ft)})
	}
	c.exports = map[string]engine.Signature{}
	for _, ex := range c.mod.Exports() {
		switch t := ex.Type(); {
		case t.FuncType() != nil:
			c.exports[ex.Name()] = signatureOf(t.FuncType())
		case t.MemoryType() != nil && ex.Name() != wasmbin.StateMemory:
			c.memories = append(c.memories, ex.Name())
		}
	}
}

func (c *compiled) ImportedFunctions() []engine.Import             { return c.imports }
func (c *compiled) ExportedFunctions() map[string]engine.Signature { return c.exports }
func (c *compiled) ExportedMemories() []string                     { return c.memories }
func (c *compiled) Snapshottable() error                           { return c.stateErr }

func (c *compiled) Close(context.Context) error {
	c.mod.Close()
	return nil
}

func signatureOf(ft *wt.FuncType) engine.Signature {
	return engine.Signature{Params: valueTypes(ft.Params()), Results: valueTypes(ft.Results())}
}

func valueTypes(ts []*wt.ValType) []engine.ValueType {
	if len(ts) == 0 {
		return nil
	}
	out := make([]engine.ValueType, len(ts))
	for i, t := range ts {
		out[i] = valueType(t.Kind())
	}
	return out
}

// valueType maps wasm.h's value kinds to the binary encoding.
func valueType(k wt.ValKind) engine.ValueType {
	switch k {
	case wt.KindI32:
		return engine.I32
	case wt.KindI64:
		return engine.I64
	case wt.KindF32:
		return engine.F32
	case wt.KindF64:
		return engine.F64
	case wt.KindFuncref:
		return engine.FuncRef
	case wt.KindExternref:
		return engine.ExternRef
	case 4: // WASM_V128, which wasmtime-go has no constant for
		return engine.V128
	}
	return 0
}
