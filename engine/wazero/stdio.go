package wazero

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"slices"
	"sync"
	"time"

	wz "github.com/tetratelabs/wazero"

	"github.com/wasmgate/wasmgate/engine"
)

// runIO is what a run's module config points to: the guest's stdin,
// stdout, stderr, random source and sleep, filled in for each run. A
// module config is immutable and each of its With methods copies it, so
// building one per run costs a dozen allocations; instead each compiled
// module keeps runIOs, each with a config built once around it, and a run
// takes one, fills it in, and gives it back cleared once its instance is
// closed (nothing reads or writes them after).
type runIO struct {
	cfg  wz.ModuleConfig
	args []string

	ctx    context.Context
	stdin  bytes.Reader
	stdout writerTo
	stderr writerTo
	random readerFrom
}

type writerTo struct{ w io.Writer }

func (w *writerTo) Write(p []byte) (int, error) { return w.w.Write(p) }

type readerFrom struct{ r io.Reader }

func (r *readerFrom) Read(p []byte) (int, error) { return r.r.Read(p) }

// sleep sleeps ns nanoseconds, or until the run's context is done.
func (o *runIO) sleep(ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-o.ctx.Done():
	}
}

// ios keeps a compiled module's runIOs.
type ios struct{ pool sync.Pool }

// take returns a runIO filled in for a run of rc under ctx.
func (p *ios) take(base wz.ModuleConfig, ctx context.Context, rc *engine.RunConfig) *runIO {
	o, _ := p.pool.Get().(*runIO)
	if o == nil {
		o = &runIO{}
	}
	if o.cfg == nil || !slices.Equal(o.args, rc.Args) {
		o.args = slices.Clone(rc.Args)
		o.cfg = base.WithArgs(o.args...).
			WithStdin(&o.stdin).
			WithStdout(&o.stdout).
			WithStderr(&o.stderr).
			WithRandSource(&o.random).
			WithNanosleep(o.sleep)
	}
	o.ctx = ctx
	o.stdin.Reset(rc.Stdin)
	o.stdout.w, o.stderr.w = orDiscard(rc.Stdout), orDiscard(rc.Stderr)
	o.random.r = rc.Rand
	if o.random.r == nil {
		o.random.r = rand.Reader
	}
	return o
}

// give clears o, whose run's instance is closed, and keeps it.
func (p *ios) give(o *runIO) {
	o.ctx = nil
	o.stdin.Reset(nil)
	o.stdout.w, o.stderr.w, o.random.r = nil, nil, nil
	p.pool.Put(o)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
