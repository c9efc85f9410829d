// Package engine is the seam between wasmgate's runtime and the WebAssembly
// engines that run its guests.
//
// An Engine compiles modules and runs each call in a fresh instance with
// what the runtime gives it: stdin, stdout and stderr, arguments,
// environment, mounted directories, a random source, a memory limit, the
// call's context (done when the call must stop) and the host functions. It
// reports how a run ended with the failure types of this package, which the
// runtime turns into its error kinds. Host functions see the guest through
// Memory and exchange values as uint64 slots (see ValueType), so that host
// code depends on no engine.
//
// Engines register themselves by name (Register); the first one registered
// is the default, unless one names itself so (SetDefault). A program
// chooses its engines by importing their packages: wasmgate's command
// imports engine/wazero, which registers "wazero" (compiled where
// supported, and the default) and "wazero-interpreter", and, built with
// the wasmtime tag, engine/wasmtime, which registers "wasmtime".
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// WASIModule is the import module of WASI preview 1.
const WASIModule = "wasi_snapshot_preview1"

// Config is what an engine is created with.
type Config struct {
	// CacheDir is where the engine may keep compiled code between runs; ""
	// keeps it in memory only. An engine that cannot use it logs why and
	// compiles in memory.
	CacheDir string
	// Logger receives what the engine reports; never nil.
	Logger *slog.Logger
	// HostFuncs are the functions guests may import besides WASI.
	HostFuncs []HostFunc
	// MaxRuns is how many runs the runtime lets run at once (0: unknown):
	// an engine that keeps runs' resources for reuse keeps at most that
	// many.
	MaxRuns int
}

// Factory creates an engine. ctx bounds the creation only.
type Factory func(ctx context.Context, cfg Config) (Engine, error)

// Engine compiles modules. It is safe for concurrent use.
type Engine interface {
	// Name is the name the engine is registered under.
	Name() string
	// WASI lists the WASI preview 1 functions the engine provides, by name.
	WASI() map[string]Signature
	// Compile validates and compiles a module. A module that breaks the
	// engine's decoder or validator fails with an error, never a panic.
	// Compile stops early, with an error, once ctx is done.
	Compile(ctx context.Context, wasm []byte) (Compiled, error)
	// Close releases the engine and what it compiled.
	Close(ctx context.Context) error
}

// Compiled is a compiled module. It is safe for concurrent runs.
type Compiled interface {
	// ImportedFunctions lists the module's function imports, in order.
	ImportedFunctions() []Import
	// ExportedFunctions maps the module's exported functions to their
	// signatures.
	ExportedFunctions() map[string]Signature
	// ExportedMemories lists the names of the module's exported memories.
	ExportedMemories() []string
	// Run instantiates the module afresh with rc and calls rc.Entry's
	// functions in turn. It returns nil when the guest finished (or exited
	// with code 0), else one of the failure types of this package. When ctx
	// is done the guest is stopped soon after (its host calls see ctx too).
	// ctx's values reach the host functions.
	Run(ctx context.Context, rc *RunConfig) error
	// Snapshottable reports whether runs can capture and restore the
	// instance's State (RunConfig.Capture and Restore): nil if so, else an
	// error saying why not.
	Snapshottable() error
	// Close releases the compiled code.
	Close(ctx context.Context) error
}

// State is an instance's linear memory and mutable globals: what a module
// that changes nothing else (no tables, no dropped segments) is made of
// after it ran. Captured once a module initialised itself, it lets later
// runs start where the initialisation ended instead of doing it again. A
// State is meaningful only to the Compiled that captured it.
type State struct {
	// Memory is the linear memory, whole.
	Memory []byte
	// Globals are the mutable globals' values, in the engine's order.
	Globals []uint64
}

// Import is one function import of a module.
type Import struct {
	Module, Name string
	Signature
}

// RunConfig is one run of a compiled module.
type RunConfig struct {
	// Args are the guest's arguments, its name first.
	Args []string
	// Env is the guest's environment.
	Env map[string]string
	// Stdin is all the guest can read on stdin.
	Stdin []byte
	// Stdout and Stderr receive what the guest writes; a write error is
	// the guest's to handle.
	Stdout, Stderr io.Writer
	// Rand is the guest's source of random bytes; nil is crypto/rand.
	Rand io.Reader
	// Mounts are the host directories the guest sees; none by default.
	Mounts []Mount
	// MemoryLimit bounds the guest's linear memory and tables together, in
	// bytes: growing past it fails (memory.grow and table.grow return -1).
	MemoryLimit uint64
	// Entry names the exported functions to call, in order, each () -> ().
	Entry []string
	// Restore, when set, starts the instance from a captured state instead
	// of its data segments and global initializers: its memory is grown to
	// the state's size (within MemoryLimit) and overwritten, its globals
	// set. Only for a Compiled whose Snapshottable is nil.
	Restore *State
	// Capture, when set, is called once every Entry function returned,
	// with the instance's state, which it may keep. Only for a Compiled
	// whose Snapshottable is nil.
	Capture func(*State)
}

// Mount is a host directory visible to the guest at GuestPath. The engine
// answers for containment: nothing outside HostPath is reachable, and
// nothing changes unless Writable.
type Mount struct {
	HostPath  string
	GuestPath string
	Writable  bool
}

// Memory is a guest's linear memory as host functions see it.
type Memory interface {
	// Read returns n bytes at ptr, a view into memory valid until the
	// guest runs again, or false if the range is outside memory.
	Read(ptr, n uint32) ([]byte, bool)
	// Write copies b to ptr, or returns false if the range is outside
	// memory.
	Write(ptr uint32, b []byte) bool
	// Size is the memory's size in bytes.
	Size() uint32
}

// HostFunc is a function guests may import. Fn runs on the guest's
// goroutine with the run's context; it reads its parameters from stack and
// writes its results back to stack, starting at stack[0] (see ValueType).
// A panic in Fn unwinds the guest: Run then returns a *HostPanicError with
// the panic's value.
type HostFunc struct {
	Module, Name string
	Signature
	Fn func(ctx context.Context, mem Memory, stack []uint64)
}

// Signature is a function's parameter and result types.
type Signature struct {
	Params, Results []ValueType
}

// Equal reports whether s and o have the same types.
func (s Signature) Equal(o Signature) bool {
	return equal(s.Params, o.Params) && equal(s.Results, o.Results)
}

func equal(a, b []ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String is the signature as "(i32, i32) -> (i32)".
func (s Signature) String() string {
	names := func(ts []ValueType) string {
		n := make([]string, len(ts))
		for i, t := range ts {
			n[i] = t.String()
		}
		return strings.Join(n, ", ")
	}
	return fmt.Sprintf("(%s) -> (%s)", names(s.Params), names(s.Results))
}

// ErrInterrupted: the guest was stopped because the run's context was done.
var ErrInterrupted = errors.New("the guest was interrupted")

// ExitError: the guest exited with a non-zero code.
type ExitError struct {
	Code uint32
	Err  error
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit code %d", e.Code) }
func (e *ExitError) Unwrap() error { return e.Err }

// MemoryLimitError: the guest failed after growing its memory or a table
// past the run's MemoryLimit was refused. ExitCode is its exit code if it
// exited.
type MemoryLimitError struct {
	ExitCode uint32
	Err      error
}

func (e *MemoryLimitError) Error() string {
	return "memory limit reached: " + e.Err.Error()
}
func (e *MemoryLimitError) Unwrap() error { return e.Err }

// TrapError: the guest trapped (unreachable, out-of-bounds access, stack
// overflow, ...).
type TrapError struct {
	// Message says what trapped, in one line.
	Message string
	// Stack is the wasm stack, innermost frame first, one frame a line,
	// each "module.function(params)"; a frame of the guest's instance has
	// an empty module name (".function(...)").
	Stack []string
	Err   error
}

func (e *TrapError) Error() string { return e.Message }
func (e *TrapError) Unwrap() error { return e.Err }

// HostPanicError: a host function panicked, unwinding the guest. Value is
// what it panicked with.
type HostPanicError struct {
	Func  string // module.name
	Value any
}

func (e *HostPanicError) Error() string {
	return fmt.Sprintf("host function %s panicked: %v", e.Func, e.Value)
}

// Unwrap returns Value when it is an error.
func (e *HostPanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// SetupError: the instance could not be set up (a mount could not be
// opened, ...); the guest did not run.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }
