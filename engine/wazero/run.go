package wazero

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	wz "github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmgate/wasmgate/engine"
)

type allocKey struct{}

func (c *compiled) Run(ctx context.Context, rc *engine.RunConfig) error {
	if (rc.Restore != nil || rc.Capture != nil) && c.stateErr != nil {
		return &engine.SetupError{Err: c.stateErr}
	}
	var keep uint64
	if rc.Restore != nil {
		keep = uint64(len(rc.Restore.Memory))
	}
	alloc := newLimitedAllocator(rc.MemoryLimit, c.tableMins, c.pool, keep)
	o := c.ios.take(c.e.base, ctx, rc)
	defer c.ios.give(o) // after the instance is closed: deferred first
	cfg := o.cfg
	cfg, closeMounts, err := c.e.configure(ctx, cfg, rc)
	defer closeMounts()
	if err != nil {
		return &engine.SetupError{Err: err}
	}

	ictx := context.WithValue(ctx, allocKey{}, alloc)
	ictx = experimental.WithMemoryAllocator(ictx, alloc)
	mod, err := c.e.rt.InstantiateModule(ictx, c.mod, cfg)
	if err == nil {
		defer mod.Close(context.Background())
		if rc.Restore != nil {
			if err := c.restore(mod, rc.Restore); err != nil {
				if alloc.denied.Load() {
					return &engine.MemoryLimitError{Err: err}
				}
				return &engine.SetupError{Err: err}
			}
		}
		for _, name := range rc.Entry {
			fn := mod.ExportedFunction(name)
			if fn == nil {
				return &engine.SetupError{Err: fmt.Errorf("the module does not export %s", name)}
			}
			if _, err = fn.Call(ictx); err != nil {
				break
			}
		}
		if err == nil && rc.Capture != nil {
			rc.Capture(c.capture(mod))
		}
	}
	return classify(ctx, err, alloc)
}

// restore gives a fresh instance the memory and globals of st.
func (c *compiled) restore(mod api.Module, st *engine.State) error {
	if len(st.Globals) != len(c.globals) {
		return fmt.Errorf("the state has %d globals, the module %d", len(st.Globals), len(c.globals))
	}
	if len(st.Memory) > 0 {
		mem := mod.Memory()
		if mem == nil {
			return errors.New("the state has memory, the module none")
		}
		if need := uint32(len(st.Memory) / pageSize); need > mem.Size()/pageSize {
			if _, ok := mem.Grow(need - mem.Size()/pageSize); !ok {
				return fmt.Errorf("cannot grow the memory to the state's %d bytes", len(st.Memory))
			}
		}
		if !mem.Write(0, st.Memory) {
			return errors.New("cannot write the state's memory")
		}
	}
	for i, name := range c.globals {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("the module has no mutable global %s", name)
		}
		g.Set(st.Globals[i])
	}
	return nil
}

// capture copies an instance's memory and globals.
func (c *compiled) capture(mod api.Module) *engine.State {
	st := &engine.State{Globals: make([]uint64, len(c.globals))}
	if mem := mod.Memory(); mem != nil {
		b, _ := mem.Read(0, mem.Size())
		st.Memory = bytes.Clone(b)
	}
	for i, name := range c.globals {
		st.Globals[i] = mod.ExportedGlobal(name).Get()
	}
	return st
}

// configure gives the module config the run's environment and mounts. ctx
// is the run's context: once it is done the mounts' reads, writes and
// listings fail. The returned function closes what the run opened, files
// the guest left open included.
func (e *wazeroEngine) configure(ctx context.Context, cfg wz.ModuleConfig, rc *engine.RunConfig) (wz.ModuleConfig, func(), error) {
	names := make([]string, 0, len(rc.Env))
	for k := range rc.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		cfg = cfg.WithEnv(k, rc.Env[k])
	}
	if len(rc.Mounts) == 0 {
		return cfg, func() {}, nil
	}
	call := e.mounts.NewCall(ctx, e.maxOpen)
	closeAll := func() { call.Close() }
	fsc := wz.NewFSConfig()
	for _, m := range rc.Mounts {
		// Read-only and writable mounts alike are rooted with os.Root: no
		// path or symbolic link leads out of the directory.
		f, err := call.Mount(m.HostPath, m.Writable)
		if err != nil {
			closeAll()
			return nil, func() {}, fmt.Errorf("mount %s at %s: %w", m.HostPath, m.GuestPath, err)
		}
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(f, m.GuestPath)
	}
	return cfg.WithFSConfig(fsc), closeAll, nil
}

// classify turns how the guest ended into nil or a failure of package
// engine.
func classify(ctx context.Context, err error, alloc *limitedAllocator) error {
	if err == nil {
		return nil
	}
	var exitErr *sys.ExitError
	exited := errors.As(err, &exitErr)
	if exited && exitErr.ExitCode() == 0 {
		return nil
	}
	// A guest stopped by its context: by yield, or by wazero itself under
	// InterruptContext (an exit with its own codes).
	if errors.Is(err, errInterrupted) || ctx.Err() != nil {
		return engine.ErrInterrupted
	}
	var hp *engine.HostPanicError
	if errors.As(err, &hp) {
		return hp
	}
	var code uint32
	if exited {
		code = exitErr.ExitCode()
	}
	if alloc.denied.Load() {
		return &engine.MemoryLimitError{ExitCode: code, Err: err}
	}
	if exited {
		return &engine.ExitError{Code: code, Err: err}
	}
	msg, stack := trap(err)
	return &engine.TrapError{Message: msg, Stack: stack, Err: err}
}
