package wasmgate

// The engines a Gateway can run guests on, one import each (wasmtime's is in
// engines_wasmtime.go, built with the wasmtime tag). wazero is the default;
// runtime.Config.WithEngine picks another by its factory (engine.Lookup
// finds it by name), and a policy entry's engine runs one module on
// another.
import _ "github.com/wasmgate/wasmgate/engine/wazero"
