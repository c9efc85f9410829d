//go:build wasmtime

package runtime

// Built with the wasmtime tag, the runtime's engine tables run on wasmtime
// too.
import _ "github.com/wasmgate/wasmgate/engine/wasmtime"
