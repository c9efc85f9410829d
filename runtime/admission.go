package runtime

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wasmgate/wasmgate/abi"
)

// admission bounds what the calls of one Runtime hold together: a number of
// calls running at once and a memory budget, which every call reserves in
// full (its memory limit plus its output buffers) before its instance
// exists. Each call is bounded on its own; admission bounds their sum, so
// that no mix of calls can take the process past its memory.
//
// Calls that do not fit wait, for at most the queue timeout. Waiting calls
// are admitted module by module in turn, so a module whose calls flood the
// queue gets one turn per round like any other: hostile calls slow their own
// module's queue, not everyone's.
type admission struct {
	maxMemory int64
	maxCalls  int

	mu      sync.Mutex
	memory  int64 // reserved by running calls
	calls   int   // running calls
	waiting map[*Module][]*waiter
	turns   []*Module // modules with waiters, next turn first
}

type waiter struct {
	memory  int64
	ready   chan struct{}
	granted bool // guarded by admission.mu
}

func newAdmission(maxMemory int64, maxCalls int) *admission {
	return &admission{maxMemory: maxMemory, maxCalls: maxCalls, waiting: map[*Module][]*waiter{}}
}

// reservation is what a call running under limits reserves.
func reservation(limits Limits) int64 {
	return int64(limits.Memory) + int64(limits.Output) + int64(limits.Stderr) + callOverhead
}

// callOverhead is what a call costs the host beyond its guest's memory and
// output: the instance, its stacks, request and result copies.
const callOverhead = 1 << 20

// busyError says why a call was not admitted.
type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }

// acquire admits a call of m reserving memory bytes, waiting at most wait.
// It returns a function that releases what was reserved, or a *busyError
// when the call cannot be admitted, or ctx's error.
func (a *admission) acquire(ctx context.Context, m *Module, memory int64, wait time.Duration) (func(), error) {
	if memory > a.maxMemory {
		return nil, &busyError{fmt.Sprintf("the call may use up to %s (its memory and output limits), more than the server's whole memory budget of %s; lower its limits or raise the budget", abi.Size(memory), abi.Size(a.maxMemory))}
	}
	release := func() { a.release(memory) }
	a.mu.Lock()
	if len(a.turns) == 0 && a.fits(memory) {
		a.take(memory)
		a.mu.Unlock()
		return release, nil
	}
	w := &waiter{memory: memory, ready: make(chan struct{})}
	if len(a.waiting[m]) == 0 {
		a.turns = append(a.turns, m)
	}
	a.waiting[m] = append(a.waiting[m], w)
	a.dispatch() // it may fit beside a larger call that does not
	granted := w.granted
	a.mu.Unlock()
	if granted {
		return release, nil
	}

	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return release, nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted { // admitted while giving up: take it
		return release, nil
	}
	a.remove(m, w)
	a.dispatch() // w may have held back smaller calls behind it
	if err != nil {
		return nil, err
	}
	return nil, &busyError{fmt.Sprintf("the server is busy: %d calls of at most %d are running, holding %s of its %s memory budget, and no room came free while this call waited; try again later", a.calls, a.maxCalls, abi.Size(a.memory), abi.Size(a.maxMemory))}
}

func (a *admission) fits(memory int64) bool {
	return a.calls < a.maxCalls && a.memory+memory <= a.maxMemory
}

func (a *admission) take(memory int64) {
	a.calls++
	a.memory += memory
}

func (a *admission) release(memory int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls--
	a.memory -= memory
	a.dispatch()
}

func (a *admission) remove(m *Module, w *waiter) {
	q := a.waiting[m]
	i := slices.Index(q, w)
	if i < 0 {
		return
	}
	q = slices.Delete(q, i, i+1)
	if len(q) > 0 {
		a.waiting[m] = q
		return
	}
	delete(a.waiting, m)
	a.turns = slices.DeleteFunc(a.turns, func(x *Module) bool { return x == m })
}

// dispatch admits waiting calls while they fit, one per module in turn.
// A module whose first waiter does not fit keeps its turn; the others go on.
func (a *admission) dispatch() {
	for i := 0; i < len(a.turns); {
		m := a.turns[i]
		w := a.waiting[m][0]
		if !a.fits(w.memory) {
			i++
			continue
		}
		a.take(w.memory)
		w.granted = true
		close(w.ready)
		a.turns = slices.Delete(a.turns, i, i+1)
		if q := a.waiting[m][1:]; len(q) > 0 {
			a.waiting[m] = q
			a.turns = append(a.turns, m) // its next call waits for the others' turns
		} else {
			delete(a.waiting, m)
		}
	}
}

// stats returns the running calls, the memory they reserved and the calls
// waiting.
func (a *admission) stats() (calls int, memory int64, waiting int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, q := range a.waiting {
		waiting += len(q)
	}
	return a.calls, a.memory, waiting
}
