package engine

import (
	"fmt"
	"sync"
)

var registry struct {
	mu        sync.Mutex
	factories map[string]Factory
	names     []string // in registration order
	def       string
}

// Register makes an engine available by name, usually from the init
// function of the engine's package. The first engine registered is the
// default. It panics if name is taken or f is nil.
func Register(name string, f Factory) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if f == nil {
		panic("engine: Register of a nil factory for " + name)
	}
	if _, dup := registry.factories[name]; dup {
		panic("engine: " + name + " is registered twice")
	}
	if registry.factories == nil {
		registry.factories = map[string]Factory{}
	}
	registry.factories[name] = f
	registry.names = append(registry.names, name)
	if registry.def == "" {
		registry.def = name
	}
}

// SetDefault makes the named engine the default.
func SetDefault(name string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.factories[name]; !ok {
		return fmt.Errorf("engine %q is not registered", name)
	}
	registry.def = name
	return nil
}

// Lookup returns the factory of the named engine, or nil.
func Lookup(name string) Factory {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.factories[name]
}

// Registered lists the registered engines in registration order.
func Registered() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return append([]string(nil), registry.names...)
}

// Default returns the default engine's name and factory, or "" and nil
// when no engine is registered.
func Default() (string, Factory) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.def, registry.factories[registry.def]
}
