package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/engine/wazero"
)

// eachEngine runs f as a subtest, named by the engine, for every registered
// engine (engine/wazero registers two: the compiler and the interpreter;
// built with the wasmtime tag, engines_wasmtime_test.go adds wasmtime),
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

// A module can run on another engine than the runtime's: the runtime
// creates it when the first such module loads, once, and closes it with
// itself. An engine that is not registered fails the module's load.
func TestModuleEngine(t *testing.T) {
	other := wazero.InterpreterName
	r := newTestRuntime(t, NewConfig().WithModuleEngine("echo", other).WithModuleEngine("hash", other).WithModuleEngine("trap", "no-such-engine"))
	echo, hash, textout := load(t, r, echoWasm), load(t, r, cWasm), load(t, r, filepath.Join(hostileDir, "textout.wasm"))
	if echo.Engine() != other || hash.Engine() != other || textout.Engine() != r.Engine() || r.Engine() == other {
		t.Fatalf("engines: echo %s, hash %s, textout %s; the runtime's %s", echo.Engine(), hash.Engine(), textout.Engine(), r.Engine())
	}
	if len(r.engines) != 1 {
		t.Errorf("%d other engines created, want one", len(r.engines))
	}
	callOK(t, echo)
	out, err := hash.Call(context.Background(), Call{Tool: "sha256", Arguments: json.RawMessage(`{"text":"abc"}`)})
	if err != nil || out.Err != nil || !strings.HasPrefix(text(out.Result), "ba7816bf") {
		t.Fatalf("sha256 on %s: %v %v", other, err, out.Err)
	}
	_, err = r.Load(context.Background(), filepath.Join(hostileDir, "trap.wasm"))
	var nre *engine.NotRegisteredError
	if !errors.As(err, &nre) || nre.Name != "no-such-engine" || !strings.Contains(err.Error(), "trap.wasm") || !strings.Contains(err.Error(), wazero.Name) {
		t.Fatalf("a module on an engine not registered: %v", err)
	}
	// The configuration is immutable: "" restores the runtime's engine.
	if cfg := NewConfig().WithModuleEngine("echo", other); cfg.WithModuleEngine("echo", "").moduleEngines["echo"] != "" || cfg.moduleEngines["echo"] != other {
		t.Error("WithModuleEngine changed the configuration it was called on, or \"\" did not restore the default")
	}
}
