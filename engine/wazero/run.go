package wazero

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	wz "github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmgate/wasmgate/engine"
)

type allocKey struct{}

func (c *compiled) Run(ctx context.Context, rc *engine.RunConfig) error {
	alloc := newLimitedAllocator(rc.MemoryLimit, c.tableMins)
	random := rc.Rand
	if random == nil {
		random = rand.Reader
	}
	cfg := c.e.base.
		WithArgs(rc.Args...).
		WithStdin(bytes.NewReader(rc.Stdin)).
		WithStdout(rc.Stdout).
		WithStderr(rc.Stderr).
		WithRandSource(random).
		WithNanosleep(func(ns int64) {
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		})
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
		for _, name := range rc.Entry {
			fn := mod.ExportedFunction(name)
			if fn == nil {
				return &engine.SetupError{Err: fmt.Errorf("the module does not export %s", name)}
			}
			if _, err = fn.Call(ictx); err != nil {
				break
			}
		}
	}
	return classify(ctx, err, alloc)
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
