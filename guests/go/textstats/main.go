package main

import "github.com/wasmgate/wasmgate/guests/go/sdk"

// Built with GOOS=wasip1 it is a WASI command serving one call; run
// natively it serves one envelope from stdin, or prints its manifest with
// -manifest.
func main() { sdk.Run() }
