//go:build wasmtime

package wasmtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	wt "github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// run is one run's state, the store's data: what its host functions see.
// It is used on the run's goroutine only (host functions run on it).
type run struct {
	ctx    context.Context
	c      *compiled
	rc     *engine.RunConfig
	stdin  []byte // what the guest has not read yet
	random io.Reader
	// ownStdio[fd] is set while descriptor fd (0, 1, 2) is the run's own
	// stream; once the guest closed or renumbered it, Wasmtime's WASI has
	// it.
	ownStdio  [3]bool
	mem       *wt.Memory
	memLooked bool
	// trampoline calls Wasmtime's WASI (delegate), once it is needed.
	trampoline *wt.Instance
	delegates  map[string]*wt.Func
	// limit bounds memBytes (the linear memory) and the tables, tables[i]
	// elements each, together; denied is set once a growth was refused.
	limit    uint64
	memBytes uint64
	tables   []uint64
	denied   bool
	panicked *engine.HostPanicError
	// exited is set once the guest called proc_exit, with exitCode.
	exited   bool
	exitCode uint32
	// open is how many descriptors the run's mounts hold, roots included.
	open int64
}

// errDenied is restore's error when the state's memory is over the limit.
var errDenied = errors.New("the state's memory is over the memory limit")

func (c *compiled) Run(ctx context.Context, rc *engine.RunConfig) error {
	if (rc.Restore != nil || rc.Capture != nil) && c.stateErr != nil {
		return &engine.SetupError{Err: c.stateErr}
	}
	e := c.e
	if !e.acquire() {
		return &engine.SetupError{Err: errors.New("the engine is closed")}
	}
	defer e.release()
	r := &run{
		ctx: ctx, c: c, rc: rc, stdin: rc.Stdin, random: rc.Rand,
		ownStdio: [3]bool{true, true, true},
		limit:    rc.MemoryLimit, memBytes: c.memMin, tables: slices.Clone(c.tableMins),
	}
	if r.random == nil {
		r.random = rand.Reader
	}
	store := wt.NewStoreWithData(e.engine, r)
	// The limiter caps the memory and each table on its own, a second
	// line behind the growth functions, which count them together.
	store.Limiter(int64(min(rc.MemoryLimit, maxMemory)), int64(min(rc.MemoryLimit/tableElemSize, maxTableElements)), -1, -1, -1)
	flag := newStopFlag()
	stopped := make(chan struct{})
	unwatch := func() bool { return true }
	defer func() {
		if !unwatch() {
			<-stopped // the epoch is being incremented: the flag is in use
		}
		store.Close() // closes the run's files
		flag.free()
		e.files.Add(-r.open)
	}()
	if err := r.configure(store); err != nil {
		return &engine.SetupError{Err: err}
	}
	if err := watch(store, flag); err != nil {
		return &engine.SetupError{Err: err}
	}
	unwatch = context.AfterFunc(ctx, func() {
		defer close(stopped)
		flag.set()
		e.engine.IncrementEpoch()
	})

	inst, err := e.linker.Instantiate(store, c.mod)
	if err == nil && rc.Restore != nil {
		if err := c.restore(store, inst, r, rc.Restore); err != nil {
			if r.denied {
				return &engine.MemoryLimitError{Err: err}
			}
			return &engine.SetupError{Err: err}
		}
	}
	if err == nil {
		for _, name := range rc.Entry {
			fn := inst.GetFunc(store, name)
			if fn == nil {
				return &engine.SetupError{Err: fmt.Errorf("the module does not export %s", name)}
			}
			if _, err = fn.Call(store); err != nil {
				break
			}
		}
		if err == nil && rc.Capture != nil {
			rc.Capture(c.capture(store, inst))
		}
	}
	return r.classify(err)
}

// configure gives the store its WASI context: arguments, environment and
// the mounts as preopened directories, read-only ones without write
// permissions on directories and files.
func (r *run) configure(store *wt.Store) error {
	cfg := wt.NewWasiConfig()
	defer cfg.Close()
	cfg.SetArgv(r.rc.Args)
	if len(r.rc.Env) > 0 {
		names := make([]string, 0, len(r.rc.Env))
		for k := range r.rc.Env {
			names = append(names, k)
		}
		slices.Sort(names)
		values := make([]string, len(names))
		for i, k := range names {
			values[i] = r.rc.Env[k]
		}
		cfg.SetEnv(names, values)
	}
	for _, m := range r.rc.Mounts {
		dirPerms, filePerms := wt.DIR_READ, wt.FILE_READ
		if m.Writable {
			dirPerms, filePerms = wt.DIR_READ|wt.DIR_WRITE, wt.FILE_READ|wt.FILE_WRITE
		}
		if err := cfg.PreopenDir(m.HostPath, m.GuestPath, dirPerms, filePerms); err != nil {
			return fmt.Errorf("mount %s at %s: %w", m.HostPath, m.GuestPath, err)
		}
		// A mount's root is a descriptor, counted as one of the run's.
		r.open++
		r.c.e.files.Add(1)
	}
	store.SetWasi(cfg)
	return nil
}

// restore gives a fresh instance the memory and globals of st.
func (c *compiled) restore(store *wt.Store, inst *wt.Instance, r *run, st *engine.State) error {
	if len(st.Globals) != len(c.globals) {
		return fmt.Errorf("the state has %d globals, the module %d", len(st.Globals), len(c.globals))
	}
	if len(st.Memory) > 0 {
		ext := inst.GetExport(store, wasmbin.StateMemory)
		if ext == nil || ext.Memory() == nil {
			return errors.New("the state has memory, the module none")
		}
		mem := ext.Memory()
		size, need := uint64(mem.DataSize(store)), uint64(len(st.Memory))
		if need > size {
			if !r.growMemory(size, need-size) {
				return errDenied
			}
			if _, err := mem.Grow(store, (need-size)/pageSize); err != nil {
				return fmt.Errorf("cannot grow the memory to the state's %d bytes: %w", need, err)
			}
		}
		copy(mem.UnsafeData(store), st.Memory)
	}
	for i, name := range c.globals {
		ext := inst.GetExport(store, name)
		if ext == nil || ext.Global() == nil {
			return fmt.Errorf("the module has no mutable global %s", name)
		}
		g := ext.Global()
		if err := g.Set(store, val(valueType(g.Type(store).Content().Kind()), st.Globals[i])); err != nil {
			return fmt.Errorf("set global %s: %w", name, err)
		}
	}
	return nil
}

// capture copies an instance's memory and globals.
func (c *compiled) capture(store *wt.Store, inst *wt.Instance) *engine.State {
	st := &engine.State{Globals: make([]uint64, len(c.globals))}
	if ext := inst.GetExport(store, wasmbin.StateMemory); ext != nil && ext.Memory() != nil {
		st.Memory = bytes.Clone(ext.Memory().UnsafeData(store))
	}
	for i, name := range c.globals {
		if ext := inst.GetExport(store, name); ext != nil && ext.Global() != nil {
			st.Globals[i] = slot(ext.Global().Get(store))
		}
	}
	return st
}

// classify turns how the guest ended into nil or a failure of package
// engine.
func (r *run) classify(err error) error {
	if err == nil {
		return nil
	}
	code, exited := r.exitCode, r.exited
	if exited && code == 0 {
		return nil
	}
	if r.ctx.Err() != nil {
		return engine.ErrInterrupted
	}
	if r.panicked != nil {
		return r.panicked
	}
	if r.denied {
		return &engine.MemoryLimitError{ExitCode: code, Err: err}
	}
	if exited {
		return &engine.ExitError{Code: code, Err: err}
	}
	msg, stack := r.c.trap(err)
	return &engine.TrapError{Message: msg, Stack: stack, Err: err}
}

// trapMessages word Wasmtime's trap codes as engine/wazero does, so that
// a failure reads the same on either engine. Codes past Interrupt are not
// wasmtime-go's constants (OutOfFuel is 12 in the library, 11 in the
// bindings), hence the numbers of wasmtime/trap.h.
var trapMessages = map[wt.TrapCode]string{
	0:  "stack overflow",
	1:  "out of bounds memory access",
	2:  "unaligned atomic",
	3:  "invalid table access",
	4:  "invalid table access",
	5:  "indirect call type mismatch",
	6:  "integer overflow",
	7:  "integer divide by zero",
	8:  "invalid conversion to integer",
	9:  "unreachable",
	10: "interrupted",
}

// trap splits a Wasmtime error into a one-line message and the frames of
// its wasm stack, innermost first, each ".name(params) results".
func (c *compiled) trap(err error) (string, []string) {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	msg = strings.TrimPrefix(msg, "wasm trap: ")
	var t *wt.Trap
	if !errors.As(err, &t) {
		return msg, nil
	}
	if code := t.Code(); code != nil {
		if m, ok := trapMessages[*code]; ok {
			msg = m
		}
	}
	var stack []string
	for _, f := range t.Frames() {
		idx := f.FuncIndex()
		name := "$" + strconv.FormatUint(uint64(idx), 10)
		if n := f.FuncName(); n != nil && *n != "" {
			name = *n
		}
		var sig engine.Signature
		if int(idx) < len(c.funcs) {
			sig = c.funcs[idx].sig
		}
		stack = append(stack, frame(name, sig))
	}
	return msg, stack
}

// frame is one stack frame as engine/wazero writes it.
func frame(name string, sig engine.Signature) string {
	var b strings.Builder
	b.WriteString(".")
	b.WriteString(name)
	b.WriteByte('(')
	for i, p := range sig.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	b.WriteByte(')')
	switch len(sig.Results) {
	case 0:
	case 1:
		b.WriteString(" " + sig.Results[0].String())
	default:
		b.WriteString(" (")
		for i, t := range sig.Results {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(t.String())
		}
		b.WriteByte(')')
	}
	return b.String()
}
