package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// engineFlag is the engine that runs guests (--engine), for call, inspect
// and serve; a policy entry's engine still runs its module on that one.
type engineFlag struct{ name string }

func (f *engineFlag) register(fs *flag.FlagSet) {
	def, _ := engine.Default()
	fs.StringVar(&f.name, "engine", "", fmt.Sprintf("run guests on engine `NAME`, one of %s (default %s); a policy entry's engine: still runs its module on that one",
		strings.Join(engine.Registered(), ", "), def))
}

// configure sets cfg's engine, or says which engines there are.
func (f *engineFlag) configure(cfg *runtime.Config) (*runtime.Config, error) {
	if f.name == "" {
		return cfg, nil
	}
	if err := engine.Check(f.name); err != nil {
		return nil, fmt.Errorf("--engine: %w", err)
	}
	return cfg.WithEngine(engine.Lookup(f.name)), nil
}

// engineHint says how to get the wasmtime engine into a wasmgate built
// without it, when err is about that.
func engineHint(err error) string {
	if err != nil && strings.Contains(err.Error(), `engine "wasmtime" is not compiled into this program`) {
		return "; build wasmgate with make build-wasmtime (the wasmtime build tag)"
	}
	return ""
}
