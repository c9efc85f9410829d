//go:build wasmtime

package security

// Built with the wasmtime tag, the containment suite runs on wasmtime too.
import _ "github.com/wasmgate/wasmgate/engine/wasmtime"
