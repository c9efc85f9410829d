package runtime

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestReactor runs a reactor module: _initialize then wasmgate_call, in a
// fresh instance each call, never _start.
func TestReactor(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/reactor.wasm")
		if !m.Reactor() {
			t.Fatal("Reactor() = false for a module exporting _initialize and wasmgate_call")
		}
		for i := 0; i < 3; i++ {
			out, err := m.Call(context.Background(), Call{Tool: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			if out.Err != nil {
				t.Fatalf("call %d: %v", i, out.Err)
			}
			if got := text(out.Result); got != "reactor ready" {
				t.Fatalf("call %d: %q, want the reactor's answer (once initialized, fresh instance)", i, got)
			}
		}
		out, err := m.Call(context.Background(), Call{Tool: "trap"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err == nil || out.Err.Kind != KindTrap || !strings.Contains(out.Err.Stack, "wasmgate_call") {
			t.Fatalf("trap in wasmgate_call: %+v (stack %q)", out.Err, out.Err.Stack)
		}
		// A reactor is stopped at its deadline like a command.
		out, err = m.Call(context.Background(), Call{Tool: "spin", Limits: Limits{Timeout: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err == nil || out.Err.Kind != KindTimeout {
			t.Fatalf("endless loop in wasmgate_call: %+v", out.Err)
		}
		if cmd := load(t, r, echoWasm); cmd.Reactor() {
			t.Error("a command is reported as a reactor")
		}
	})
}

func TestReactorBadSignature(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		_, err := r.Load(context.Background(), "testdata/badreactor.wasm")
		if err == nil || !strings.Contains(err.Error(), "module exports wasmgate_call as (i32) -> (), but a reactor's wasmgate_call is () -> ()") {
			t.Fatalf("err = %v", err)
		}
	})
}
