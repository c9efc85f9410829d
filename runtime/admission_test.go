package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// admit acquires for m without waiting and fails the test unless admitted.
func admit(t *testing.T, a *admission, m *Module, memory int64) func() {
	t.Helper()
	release, err := a.acquire(context.Background(), m, memory, 0)
	if err != nil {
		t.Fatalf("not admitted: %v", err)
	}
	return release
}

// queue starts an acquire that waits as long as the test needs and sends
// which module was admitted, in order, then holds its admission until
// released is closed.
func queue(t *testing.T, a *admission, m *Module, memory int64, admitted chan<- *Module, released <-chan struct{}, wg *sync.WaitGroup) {
	t.Helper()
	wg.Add(1)
	go func() {
		defer wg.Done()
		release, err := a.acquire(context.Background(), m, memory, time.Hour)
		if err != nil {
			t.Errorf("acquire: %v", err)
			return
		}
		admitted <- m
		<-released
		release()
	}()
}

// waitFor polls until n calls wait: the order of arrival is part of what
// the tests check.
func waitFor(t *testing.T, a *admission, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if _, _, w := a.stats(); w == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls never came to wait", n)
		}
	}
}

func TestAdmissionBoundsCallsAndMemory(t *testing.T) {
	m := &Module{}
	a := newAdmission(100, 2)
	r1 := admit(t, a, m, 40)
	r2 := admit(t, a, m, 40)
	if _, err := a.acquire(context.Background(), m, 10, 0); !isBusy(err) {
		t.Fatalf("third call with 2 slots: err = %v, want busy", err)
	}
	r1()
	if _, err := a.acquire(context.Background(), m, 70, 0); !isBusy(err) {
		t.Fatalf("70 beside 40 of 100: err = %v, want busy", err)
	}
	r3 := admit(t, a, m, 60)
	r2()
	r3()
	if calls, memory, waiting := a.stats(); calls != 0 || memory != 0 || waiting != 0 {
		t.Fatalf("after every release: %d calls, %d bytes, %d waiting", calls, memory, waiting)
	}
	_, err := a.acquire(context.Background(), m, 101, time.Hour)
	if !isBusy(err) || !strings.Contains(err.Error(), "more than the server's whole memory budget") {
		t.Fatalf("a call larger than the budget: err = %v", err)
	}
}

func TestAdmissionCancelledWhileWaiting(t *testing.T) {
	m := &Module{}
	a := newAdmission(100, 1)
	release := admit(t, a, m, 10)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.acquire(ctx, m, 10, time.Hour)
		done <- err
	}()
	waitFor(t, a, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	waitFor(t, a, 0)
}

// TestAdmissionTakesModulesInTurn: a module that queued many calls first
// gets one turn per round, not the whole queue.
func TestAdmissionTakesModulesInTurn(t *testing.T) {
	hostile, good := &Module{}, &Module{}
	a := newAdmission(1000, 1)
	hold := admit(t, a, hostile, 10)
	admitted := make(chan *Module, 10)
	released := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		queue(t, a, hostile, 10, admitted, released, &wg)
		waitFor(t, a, i+1)
	}
	queue(t, a, good, 10, admitted, released, &wg)
	waitFor(t, a, 5)
	hold()
	// One slot: each admitted call is released before the next comes in.
	var order []*Module
	for i := 0; i < 5; i++ {
		order = append(order, <-admitted)
		released <- struct{}{}
	}
	wg.Wait()
	if order[0] != hostile || order[1] != good {
		t.Errorf("the good module's only call came in at position %d of 5, want 2", indexOf(order, good)+1)
	}
}

// TestAdmissionLargeCallDoesNotBlockSmall: a call waiting for more memory
// than is free keeps its place without holding back calls that fit.
func TestAdmissionLargeCallDoesNotBlockSmall(t *testing.T) {
	big, small := &Module{}, &Module{}
	a := newAdmission(100, 10)
	hold := admit(t, a, small, 50)
	admitted := make(chan *Module, 2)
	released := make(chan struct{})
	var wg sync.WaitGroup
	queue(t, a, big, 80, admitted, released, &wg)
	waitFor(t, a, 1)
	release, err := a.acquire(context.Background(), small, 20, time.Hour)
	if err != nil {
		t.Fatalf("a call that fits beside a waiting large one: %v", err)
	}
	release()
	hold()
	if m := <-admitted; m != big {
		t.Fatal("the large call was not admitted once room came free")
	}
	close(released)
	wg.Wait()
}

func isBusy(err error) bool {
	var b *busyError
	return errors.As(err, &b)
}

func indexOf(ms []*Module, m *Module) int {
	for i, x := range ms {
		if x == m {
			return i
		}
	}
	return -1
}

// TestBusyIsAToolError runs the admission through Module.Call: with one
// call slot taken by a guest that never ends, the next call fails as busy
// once its queue timeout passes, and a call over the memory budget fails at
// once; when the slot frees, calls run again.
func TestBusyIsAToolError(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg.WithMaxCalls(1).WithMaxMemory(64<<20).WithQueueTimeout(50*time.Millisecond))
		loop := load(t, r, filepath.Join(hostileDir, "loop.wasm"))
		echo := load(t, r, echoWasm)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan *Outcome, 1)
		go func() {
			out, _ := loop.Call(ctx, Call{Tool: "loop", Limits: Limits{Timeout: time.Hour, Memory: 8 << 20}})
			done <- out
		}()
		for deadline := time.Now().Add(time.Minute); r.Usage().Running != 1; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the looping call never started")
			}
		}
		out, _ := echo.Call(context.Background(), Call{Tool: "echo", Limits: Limits{Memory: 8 << 20}})
		if out.Err == nil || out.Err.Kind != KindBusy || out.Result != nil || !strings.Contains(out.Err.Message, "the server is busy") {
			t.Fatalf("call while the only slot is taken: %+v", out.Err)
		}
		out, _ = echo.Call(context.Background(), Call{Tool: "echo", Limits: Limits{Memory: 128 << 20}})
		if out.Err == nil || out.Err.Kind != KindBusy || !strings.Contains(out.Err.Message, "whole memory budget of 64MiB") {
			t.Fatalf("call over the budget: %+v", out.Err)
		}
		cancel()
		if out := <-done; out.Err == nil || out.Err.Kind != KindCancelled {
			t.Fatalf("the looping call: %+v", out.Err)
		}
		if u := r.Usage(); u.Running != 0 || u.Reserved != 0 || u.Waiting != 0 {
			t.Fatalf("after the calls: %+v", u)
		}
		if out, _ := echo.Call(context.Background(), Call{Tool: "echo", Limits: Limits{Memory: 8 << 20}}); out.Err != nil {
			t.Fatalf("call after the slot freed: %v", out.Err)
		}
	})
}

// TestModuleSlotsBusy: with the module's only slot taken by a guest that
// never ends, the next call of that module fails as busy once its queue
// timeout passes, naming the module.
func TestModuleSlotsBusy(t *testing.T) {
	r := newTestRuntime(t, NewConfig().WithMaxConcurrency(1).WithQueueTimeout(50*time.Millisecond))
	loop := load(t, r, filepath.Join(hostileDir, "loop.wasm"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Outcome, 1)
	go func() {
		out, _ := loop.Call(ctx, Call{Tool: "loop", Limits: Limits{Timeout: time.Hour}})
		done <- out
	}()
	for deadline := time.Now().Add(time.Minute); r.Usage().Running != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the looping call never started")
		}
	}
	out, _ := loop.Call(context.Background(), Call{Tool: "loop"})
	if out.Err == nil || out.Err.Kind != KindBusy || !strings.Contains(out.Err.Message, "module loop is busy: all 1 of its call slots") {
		t.Fatalf("second call of a module with one slot: %+v", out.Err)
	}
	cancel()
	if out := <-done; out.Err == nil || out.Err.Kind != KindCancelled {
		t.Fatalf("the looping call: %+v", out.Err)
	}
}
