package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// This test binary registers no engine of its own until TestRegistry does:
// a runtime without one fails with ErrNoEngine, not a panic.
func TestRegistry(t *testing.T) {
	if names := engine.Registered(); len(names) != 0 {
		t.Fatalf("engines registered before the test: %v", names)
	}
	if _, err := runtime.New(context.Background(), nil); !errors.Is(err, runtime.ErrNoEngine) {
		t.Fatalf("New without an engine: err = %v, want ErrNoEngine", err)
	}
	fails := func(name string) engine.Factory {
		return func(context.Context, engine.Config) (engine.Engine, error) { return nil, errors.New(name) }
	}
	engine.Register("first", fails("first"))
	engine.Register("second", fails("second"))
	if got := engine.Registered(); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("Registered = %v", got)
	}
	if name, f := engine.Default(); name != "first" || f == nil {
		t.Errorf("Default = %q, want the first registered", name)
	}
	if err := engine.SetDefault("second"); err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("")); err == nil || err.Error() != "second" {
		t.Errorf("New used %v, want the default engine, second", err)
	}
	if engine.SetDefault("third") == nil || engine.Lookup("third") != nil {
		t.Error("an engine never registered was found")
	}
	var nre *engine.NotRegisteredError
	if err := engine.Check("third"); !errors.As(err, &nre) || nre.Name != "third" || !slices.Equal(nre.Registered, []string{"first", "second"}) ||
		err.Error() != `engine "third" is not compiled into this program (it has first, second)` {
		t.Errorf("Check of an engine never registered: %v", err)
	}
	if err := engine.Check("second"); err != nil {
		t.Errorf("Check of a registered engine: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second registration of one name did not panic")
		}
	}()
	engine.Register("first", fails("again"))
}

func TestSignature(t *testing.T) {
	s := engine.Signature{Params: []engine.ValueType{engine.I32, engine.F64}, Results: []engine.ValueType{engine.I64}}
	if got := s.String(); got != "(i32, f64) -> (i64)" {
		t.Errorf("String = %q", got)
	}
	if !s.Equal(engine.Signature{Params: []engine.ValueType{engine.I32, engine.F64}, Results: []engine.ValueType{engine.I64}}) || s.Equal(engine.Signature{}) {
		t.Error("Equal")
	}
	if engine.DecodeI32(engine.EncodeI32(-5)) != -5 || engine.DecodeF64(engine.EncodeF64(2.5)) != 2.5 || engine.DecodeF32(engine.EncodeF32(1.5)) != 1.5 {
		t.Error("encode and decode do not round-trip")
	}
}
