// Package guests holds wasmgate's example tools, its test modules and the
// guest SDKs of every language. Its Go code is only SDKs, which `wasmgate
// new` copies into the projects it generates.
package guests

import "embed"

// SDKs are the guest SDKs' sources, at their paths in this folder:
// go/sdk/*.go, rust/sdk/src/lib.rs, c/sdk/wasmgate.{h,c} and
// assemblyscript/sdk/*.ts. Test files are included; callers choose.
//
//go:embed go/sdk/*.go rust/sdk/src/lib.rs c/sdk/wasmgate.h c/sdk/wasmgate.c assemblyscript/sdk/*.ts
var SDKs embed.FS
