// Tests of the AssemblyScript SDK's resources, prompts, completions,
// content items, client description and the questions it puts to the
// client, through the runtime (the module is testdata/hostcheck). The
// module serves them as the Rust SDK's test module does: the checks are
// guesttest's.
package assemblyscript_test

import (
	"testing"

	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

// loadHostcheck loads the SDK's test module in a runtime with every
// capability host function.
func loadHostcheck(t *testing.T) *runtime.Module {
	return guesttest.LoadNew(t, "testdata/hostcheck/hostcheck.wasm")
}

func TestSDKContent(t *testing.T)         { guesttest.CheckSDKContent(t, loadHostcheck(t)) }
func TestSDKClientInfo(t *testing.T)      { guesttest.CheckSDKClientInfo(t, loadHostcheck(t)) }
func TestSDKAsk(t *testing.T)             { guesttest.CheckSDKAsk(t, loadHostcheck(t)) }
func TestSDKResourceUpdated(t *testing.T) { guesttest.CheckSDKResourceUpdated(t, loadHostcheck(t)) }
func TestSDKResources(t *testing.T)       { guesttest.CheckSDKResources(t, loadHostcheck(t)) }
func TestSDKPrompts(t *testing.T)         { guesttest.CheckSDKPrompts(t, loadHostcheck(t)) }
func TestSDKCompletions(t *testing.T)     { guesttest.CheckSDKCompletions(t, loadHostcheck(t)) }
