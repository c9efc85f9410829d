package runtime

import (
	"context"
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/engine/wazero"
)

// eachEngine runs f as a subtest, named by the engine, for every registered
// engine (engine/wazero registers two: the compiler and the interpreter),
// with a config that uses it. The tests that judge behaviour an engine
// provides (every failure class, interruption, host functions, reactors,
// compiling) run this way; the rest run on the default engine.
func eachEngine(t *testing.T, f func(t *testing.T, cfg *Config)) {
	t.Helper()
	names := engine.Registered()
	if len(names) < 2 {
		t.Fatalf("engines registered: %v, want the compiler and the interpreter", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { f(t, NewConfig().WithEngine(engine.Lookup(name))) })
	}
}

// interruptModes are wazero's two ways of stopping guests, each as a config.
func interruptModes() map[string]*Config {
	return map[string]*Config{
		"fuel":    NewConfig().WithEngine(wazero.Factory(wazero.Options{Interrupt: wazero.InterruptFuel})),
		"context": NewConfig().WithEngine(wazero.Factory(wazero.Options{Interrupt: wazero.InterruptContext})),
	}
}

// Without an engine, New says what to do rather than failing later.
func TestNewWithoutEngine(t *testing.T) {
	none := func(context.Context, engine.Config) (engine.Engine, error) { return nil, errors.New("no engine here") }
	if _, err := New(context.Background(), NewConfig().WithEngine(none)); err == nil {
		t.Fatal("New succeeded with an engine that fails")
	}
	r := newTestRuntime(t, nil)
	if name, _ := engine.Default(); r.Engine() != name {
		t.Errorf("Engine() = %q, want the default %q", r.Engine(), name)
	}
}
