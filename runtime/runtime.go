// Package runtime loads wasmgate tool modules and runs each call in a fresh,
// bounded sandbox.
//
// A Runtime compiles modules once (with a persistent compilation cache) and
// keeps them; every Module.Call instantiates a new instance with nothing
// shared with any other call: no files, no environment, no network, memory,
// time and output bounded. Every way a guest can fail comes back as an
// Outcome with a *CallError of a distinct ErrorKind, never as a crash.
//
// An Outcome carries the guest's reply as bytes, its secrets redacted, and
// that reply parsed once by package abi, which owns the result formats.
// The runtime speaks no protocol: package server turns an Outcome into
// MCP's answer.
//
// The WebAssembly engine comes from package engine: Config.WithEngine, or
// else the default registered engine; Config.WithModuleEngine runs one
// module on another registered engine. A program imports the engines it
// offers, as wasmgate's command does:
//
//	import _ "github.com/wasmgate/wasmgate/engine/wazero"
package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yosida95/uritemplate/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// MaxModuleSize is the largest .wasm file Load reads: the structural
// limit on module size checked before compiling (internal/wasmbin).
const MaxModuleSize = 16 << 20

// Runtime compiles and runs modules. It is safe for concurrent use.
type Runtime struct {
	cfg       *Config
	engine    engine.Engine // the runtime's engine
	engineCfg engine.Config // what every engine is created with
	logger    *slog.Logger
	hostFuncs map[string]HostFunc
	// engines are the other engines modules run on (Config.WithModuleEngine),
	// by name, created when first needed; closed is set once Close began.
	enginesMu sync.Mutex
	engines   map[string]engine.Engine
	closed    bool
	admission *admission
	compiling chan struct{} // a slot per module compiling in the background
	// compiles counts background compiles, which compileCtx stops.
	compiles     sync.WaitGroup
	compileCtx   context.Context
	stopCompiles context.CancelFunc
}

// ErrNoEngine is returned by New when the Config names no engine and none
// is registered.
var ErrNoEngine = errors.New("no WebAssembly engine: none is registered and the configuration names none; import one, such as github.com/wasmgate/wasmgate/engine/wazero, or use Config.WithEngine")

// New creates a Runtime. Close it to release compiled code.
func New(ctx context.Context, cfg *Config) (*Runtime, error) {
	if cfg == nil {
		cfg = NewConfig()
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	factory := cfg.engine
	if factory == nil {
		_, factory = engine.Default()
	}
	if factory == nil {
		return nil, ErrNoEngine
	}
	cacheDir := cfg.cacheDir
	if !cfg.cacheDirSet {
		if dir, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(dir, "wasmgate")
		}
	}
	maxMemory, maxCalls := cfg.maxMemory, cfg.maxCalls
	if maxMemory == 0 {
		maxMemory = DefaultMaxMemory()
	}
	if maxCalls == 0 {
		maxCalls = DefaultMaxCalls()
	}
	r := &Runtime{cfg: cfg, logger: logger, admission: newAdmission(maxMemory, maxCalls), compiling: make(chan struct{}, compileSlots())}
	var funcs []engine.HostFunc
	var err error
	r.hostFuncs, funcs, err = hostFuncs(append(builtinHostFuncs(), cfg.hostFuncs...))
	if err != nil {
		return nil, err
	}
	r.engineCfg = engine.Config{CacheDir: cacheDir, Logger: logger, HostFuncs: funcs, MaxRuns: maxCalls}
	r.engine, err = factory(ctx, r.engineCfg)
	if err != nil {
		return nil, err
	}
	r.compileCtx, r.stopCompiles = context.WithCancel(context.WithoutCancel(ctx))
	return r, nil
}

// Close releases the runtime, its modules, its engines and the in-memory
// cache.
func (r *Runtime) Close(ctx context.Context) error {
	// Background compiles write to the cache: stop them and wait first.
	r.stopCompiles()
	r.compiles.Wait()
	r.enginesMu.Lock()
	r.closed = true
	others := r.engines
	r.engines = nil
	r.enginesMu.Unlock()
	errs := []error{r.engine.Close(ctx)}
	for _, e := range others {
		errs = append(errs, e.Close(ctx))
	}
	return errors.Join(errs...)
}

// Engine is the name of the engine that runs the runtime's guests, but for
// those of modules given another (Config.WithModuleEngine; Module.Engine).
func (r *Runtime) Engine() string { return r.engine.Name() }

// engineFor returns the engine the module named module runs on, creating
// it the first time one of its modules needs it.
func (r *Runtime) engineFor(ctx context.Context, module string) (engine.Engine, error) {
	name := r.cfg.moduleEngines[module]
	if name == "" || name == r.engine.Name() {
		return r.engine, nil
	}
	r.enginesMu.Lock()
	defer r.enginesMu.Unlock()
	if r.closed {
		return nil, errors.New("the runtime is closed")
	}
	if e := r.engines[name]; e != nil {
		return e, nil
	}
	factory := engine.Lookup(name)
	if factory == nil {
		return nil, engine.Check(name)
	}
	e, err := factory(context.WithoutCancel(ctx), r.engineCfg)
	if err != nil {
		return nil, fmt.Errorf("engine %s: %w", name, err)
	}
	if r.engines == nil {
		r.engines = map[string]engine.Engine{}
	}
	r.engines[name] = e
	return e, nil
}

// Usage is what the calls of all modules hold together.
type Usage struct {
	// Running is the calls running now, of MaxCalls at most.
	Running, MaxCalls int
	// Reserved is the memory the running calls reserved, of MaxMemory.
	Reserved, MaxMemory abi.Size
	// Waiting is the calls waiting to be admitted.
	Waiting int
}

// Usage reports the calls running and waiting and what they hold.
func (r *Runtime) Usage() Usage {
	calls, memory, waiting := r.admission.stats()
	return Usage{Running: calls, MaxCalls: r.admission.maxCalls, Reserved: abi.Size(memory), MaxMemory: abi.Size(r.admission.maxMemory), Waiting: waiting}
}

// Limits returns the runtime's default call limits.
func (r *Runtime) Limits() Limits { return r.cfg.limits }

// Load reads a .wasm file and compiles it: Open, then Ready. Errors name
// the file.
func (r *Runtime) Load(ctx context.Context, path string) (*Module, error) {
	m, err := r.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := m.Ready(ctx); err != nil {
		m.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return m, nil
}

// Open reads a .wasm file and checks what needs no compiling: its size and
// structure, its manifest and its imports. It then compiles the module in
// the background, a few modules at a time (one per CPU), and
// returns at once: the module's manifest can be served while it compiles,
// and calls wait for it (see Ready). The manifest comes from the module's
// wasmgate.manifest section or, when it has none, from NAME.manifest.json
// beside NAME.wasm. Errors name the file.
func (r *Runtime) Open(ctx context.Context, path string) (*Module, error) {
	m, err := r.open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

func (r *Runtime) open(ctx context.Context, path string) (*Module, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read into a buffer of the file's size (a module is megabytes:
	// growing a buffer as io.ReadAll does costs more than reading), and
	// never past the limit whatever the size said.
	size := int64(0)
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		if err := wasmbin.DefaultLimits().CheckSize(uint64(fi.Size())); err != nil {
			return nil, err
		}
		size = min(fi.Size(), MaxModuleSize)
	}
	// ReadFrom grows the buffer unless MinRead bytes are free.
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxModuleSize+1)); err != nil {
		return nil, err
	}
	wasm := buf.Bytes()
	if len(wasm) > MaxModuleSize {
		return nil, fmt.Errorf("module is larger than %s", abi.Size(MaxModuleSize))
	}
	manifest, source, err := findManifest(path, wasm)
	if err != nil {
		return nil, err
	}
	m, err := r.prepare(ctx, path, wasm, manifest, source)
	if err != nil {
		return nil, err
	}
	r.compiles.Add(1)
	go func() {
		defer r.compiles.Done()
		m.compileBackground(r.compileCtx, wasm)
	}()
	return m, nil
}

// findManifest returns the manifest bytes and where they came from.
func findManifest(path string, wasm []byte) ([]byte, string, error) {
	raw, err := abi.ExtractManifest(wasm)
	if err == nil {
		return raw, "section " + abi.ManifestSection, nil
	}
	if !errors.Is(err, abi.ErrNoManifest) {
		return nil, "", err
	}
	sidecar := strings.TrimSuffix(path, filepath.Ext(path)) + abi.SidecarSuffix
	raw, serr := os.ReadFile(sidecar)
	if serr == nil {
		return raw, sidecar, nil
	}
	if errors.Is(serr, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("no manifest: the module has no %s section and %s does not exist; embed one with: wasmgate pack --manifest M.json -o OUT.wasm IN.wasm", abi.ManifestSection, sidecar)
	}
	return nil, "", fmt.Errorf("read manifest: %w", serr)
}

// Compile validates and compiles a module from bytes, and returns once it
// is compiled. path names it in errors and inspect output; manifestSource
// says where manifest came from.
func (r *Runtime) Compile(ctx context.Context, path string, wasm, manifest []byte, manifestSource string) (*Module, error) {
	m, err := r.prepare(ctx, path, wasm, manifest, manifestSource)
	if err != nil {
		return nil, err
	}
	m.compile(ctx, wasm)
	if m.compileErr != nil {
		return nil, m.compileErr
	}
	return m, nil
}

// prepare checks what needs no compiling and returns the module, not yet
// compiled, with the engine it runs on.
func (r *Runtime) prepare(ctx context.Context, path string, wasm, manifest []byte, manifestSource string) (*Module, error) {
	man, err := abi.ParseManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest (%s): %w", manifestSource, err)
	}
	eng, err := r.engineFor(ctx, man.Name)
	if err != nil {
		return nil, err
	}
	// The function bodies are checked before compiling, in the background
	// (compileChecked): walking them is most of the time a module takes to
	// open.
	info, err := wasmbin.DefaultLimits().ReadHeader(wasm)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	m := &Module{
		rt:             r,
		engine:         eng,
		path:           path,
		sha256:         hex.EncodeToString(sum[:]),
		size:           len(wasm),
		manifest:       man,
		manifestSource: manifestSource,
		args:           []string{man.Name},
		memMinPages:    info.MemoryMinPages,
		sem:            make(chan struct{}, r.cfg.maxConcurrency),
		ready:          make(chan struct{}),
	}
	for _, t := range man.ResourceTemplates {
		tpl, err := uritemplate.New(t.URITemplate)
		if err != nil { // Validate checked it
			return nil, fmt.Errorf("resource template %q: %w", t.URITemplate, err)
		}
		m.templates = append(m.templates, tpl)
	}
	for _, t := range info.Tables {
		m.tableMins = append(m.tableMins, t.Min)
	}
	for _, im := range info.Imports {
		m.imports = append(m.imports, Import{Module: im.Module, Name: im.Name, Kind: im.Kind})
	}
	if err := r.checkImports(eng, info.Imports); err != nil {
		return nil, err
	}
	return m, nil
}

var errCompileTimeout = errors.New("compile time limit reached")

// compileSlots is how many modules compile at once: one per CPU. A module
// found in the compilation cache loads mostly on one core (decoding,
// validating, reading the cache), so a server restarting with a warm cache
// is ready as many times sooner as it has cores. A cold compile uses more
// goroutines of its own (compileWorkers in engine/wazero); requests still
// get their share of the CPUs, and serve answers the tool lists from the
// manifests without waiting for any of it.
func compileSlots() int { return max(1, goruntime.GOMAXPROCS(0)) }

// compileBackground compiles m when a compile slot is free.
func (m *Module) compileBackground(ctx context.Context, wasm []byte) {
	select {
	case m.rt.compiling <- struct{}{}:
	case <-ctx.Done():
		m.compile(ctx, wasm) // fails at once, closing ready
		return
	}
	defer func() { <-m.rt.compiling }()
	m.compile(ctx, wasm)
}

// compile compiles m, records the outcome and marks it ready. Every panic
// is recovered: a module that breaks the compiler fails alone.
func (m *Module) compile(ctx context.Context, wasm []byte) {
	defer close(m.ready)
	if err := m.compileChecked(ctx, wasm); err != nil {
		m.compileErr = fmt.Errorf("load %s: %w", m.path, err)
	}
}

func (m *Module) compileChecked(ctx context.Context, wasm []byte) error {
	r := m.rt
	began := time.Now()
	if _, err := wasmbin.ReadInfo(wasm); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.compileTimeout, errCompileTimeout)
	defer cancel()
	compiled, err := compileModule(ctx, m.engine, wasm)
	if err != nil {
		if errors.Is(context.Cause(ctx), errCompileTimeout) {
			return fmt.Errorf("compile: it took longer than %s, the compile time limit; a module this large or this deeply nested is refused", r.cfg.compileTimeout)
		}
		return fmt.Errorf("compile: %w", err)
	}
	if err := m.inspectCompiled(compiled); err != nil {
		_ = compiled.Close(ctx)
		return err
	}
	m.compiled = compiled
	m.snapOff = m.snapshotsOff()
	r.logger.Debug("module compiled", "path", m.path, "module", m.Name(), "tools", len(m.manifest.Tools), "took", time.Since(began))
	return nil
}

// inspectCompiled checks a compiled module's imports and exports against
// what wasmgate provides and needs, and records its exports.
func (m *Module) inspectCompiled(compiled engine.Compiled) error {
	if err := m.rt.checkFunctionImports(m.engine, compiled); err != nil {
		return err
	}
	exported := compiled.ExportedFunctions()
	memories := compiled.ExportedMemories()
	for name, sig := range exported {
		m.exports = append(m.exports, Export{Name: name, Kind: "func", Signature: sig.String()})
	}
	for _, name := range memories {
		m.exports = append(m.exports, Export{Name: name, Kind: "memory"})
	}
	slices.SortFunc(m.exports, func(a, b Export) int { return strings.Compare(a.Name, b.Name) })
	_, hasInit := exported[abi.ExportInitialize]
	_, hasCall := exported[abi.ExportCall]
	_, hasStart := exported[abi.ExportStart]
	switch {
	case hasInit && hasCall:
		// A reactor (abi/ABI.md section 1): _initialize, then wasmgate_call.
		names := []string{abi.ExportInitialize, abi.ExportCall}
		if _, ok := exported[abi.ExportWarmup]; ok {
			names = append(names, abi.ExportWarmup)
		}
		if err := checkNoParams(exported, names...); err != nil {
			return err
		}
		m.reactor = true
	case hasStart:
	default:
		return errors.New("module does not export _start, nor _initialize and wasmgate_call: build it as a WASI command (for Go: GOOS=wasip1 GOARCH=wasm go build; for C: clang --target=wasm32-wasi) or as a reactor (Go: -buildmode=c-shared with //go:wasmexport wasmgate_call)")
	}
	if !slices.Contains(memories, "memory") {
		return errors.New("module does not export its memory as \"memory\", which host functions need")
	}
	return nil
}

// checkNoParams checks that each named export is a function () -> ().
func checkNoParams(exported map[string]engine.Signature, names ...string) error {
	for _, n := range names {
		if sig := exported[n]; len(sig.Params) != 0 || len(sig.Results) != 0 {
			return fmt.Errorf("module exports %s as %s, but a reactor's %s is () -> ()", n, sig, n)
		}
	}
	return nil
}

// compileModule compiles, turning a panic in the engine into an error: a
// broken module must fail to load, never take the process down. Engines
// recover their own, this is the last line.
func compileModule(ctx context.Context, e engine.Engine, code []byte) (compiled engine.Compiled, err error) {
	defer func() {
		if p := recover(); p != nil {
			compiled, err = nil, fmt.Errorf("the module is malformed: compiling it failed with %v", p)
		}
	}()
	return e.Compile(ctx, code)
}

// checkImports rejects imports this runtime and the module's engine cannot
// satisfy, before compiling.
func (r *Runtime) checkImports(eng engine.Engine, imports []wasmbin.Import) error {
	wasi := eng.WASI()
	var problems []string
	for _, im := range imports {
		switch {
		case im.Kind != "func":
			problems = append(problems, fmt.Sprintf("imports %s %s.%s, but wasmgate provides only functions", im.Kind, im.Module, im.Name))
		case im.Module == engine.WASIModule:
			if _, ok := wasi[im.Name]; !ok {
				problems = append(problems, fmt.Sprintf("imports %s.%s, which is not a WASI preview1 function", im.Module, im.Name))
			}
		case im.Module == abi.HostModule:
			if _, ok := r.hostFuncs[im.Name]; !ok {
				problems = append(problems, fmt.Sprintf("imports %s.%s, which this wasmgate does not provide (it has: %s)", im.Module, im.Name, strings.Join(r.hostFuncNames(), ", ")))
			}
		default:
			problems = append(problems, fmt.Sprintf("imports %s.%s from unknown module %q (only %s and %s are provided)", im.Module, im.Name, im.Module, engine.WASIModule, abi.HostModule))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkFunctionImports compares imported function signatures with ours.
func (r *Runtime) checkFunctionImports(eng engine.Engine, compiled engine.Compiled) error {
	wasi := eng.WASI()
	var problems []string
	for _, im := range compiled.ImportedFunctions() {
		var want engine.Signature
		switch im.Module {
		case engine.WASIModule:
			want = wasi[im.Name]
		case abi.HostModule:
			h := r.hostFuncs[im.Name]
			want = engine.Signature{Params: h.Params, Results: h.Results}
		default:
			continue // checked before compiling
		}
		if !im.Signature.Equal(want) {
			problems = append(problems, fmt.Sprintf("imports %s.%s as %s, but it is %s", im.Module, im.Name, im.Signature, want))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func (r *Runtime) hostFuncNames() []string {
	names := make([]string, 0, len(r.hostFuncs))
	for n := range r.hostFuncs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
