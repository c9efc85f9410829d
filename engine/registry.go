package engine

import (
	"fmt"
	"strings"
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

// SetDefault makes the named engine the default. It fails with a
// *NotRegisteredError if no engine has that name.
func SetDefault(name string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.factories[name]; !ok {
		return &NotRegisteredError{Name: name, Registered: append([]string(nil), registry.names...)}
	}
	registry.def = name
	return nil
}

// NotRegisteredError is an engine name that no registered engine has: the
// program was built without it.
type NotRegisteredError struct {
	Name string
	// Registered lists the engines there are, in registration order.
	Registered []string
}

func (e *NotRegisteredError) Error() string {
	if len(e.Registered) == 0 {
		return fmt.Sprintf("engine %q is not compiled into this program, which has none", e.Name)
	}
	return fmt.Sprintf("engine %q is not compiled into this program (it has %s)", e.Name, strings.Join(e.Registered, ", "))
}

// Check returns nil if an engine is registered under name, else a
// *NotRegisteredError.
func Check(name string) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.factories[name]; ok {
		return nil
	}
	return &NotRegisteredError{Name: name, Registered: append([]string(nil), registry.names...)}
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
