//go:build wasmtime

package wasmgate

// Built with the wasmtime tag (make build-wasmtime), a Gateway can also
// run guests on wasmtime; it is chosen by name, never the default.
import _ "github.com/wasmgate/wasmgate/engine/wasmtime"
