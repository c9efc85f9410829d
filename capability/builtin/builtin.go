// Package builtin registers wasmgate's own capabilities, in the order
// reports list them. A program imports it for its side effect, as package
// wasmgate does:
//
//	import _ "github.com/wasmgate/wasmgate/capability/builtin"
//
// A new capability is its own package and one line here (or one call of
// capability.Register in the program that offers it).
package builtin

import (
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/host/env"
	"github.com/wasmgate/wasmgate/host/files"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
)

func init() {
	capability.Register(hosthttp.Capability)
	capability.Register(files.Capability)
	capability.Register(env.Capability)
	capability.Register(secret.Capability)
	capability.Register(kv.Capability)
	capability.Register(client.Capability)
}
