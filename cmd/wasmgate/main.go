// Command wasmgate runs sandboxed WebAssembly tools and serves them over MCP.
package main

import (
	"os"

	_ "github.com/wasmgate/wasmgate/engine/wazero"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
