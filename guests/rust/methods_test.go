// Tests of the Rust SDK's resources, prompts, completions, content items,
// client description and the questions it puts to the client, through the
// runtime. The SDK's test module serves them as the AssemblyScript SDK's
// does: the checks are guesttest's.
package rusttools

import (
	"testing"

	"github.com/wasmgate/wasmgate/internal/guesttest"
	"github.com/wasmgate/wasmgate/runtime"
)

// loadSDKTest loads the SDK's test module in a runtime with every
// capability host function, the client's (sample, elicit, ask) included.
func loadSDKTest(t *testing.T) *runtime.Module {
	return guesttest.LoadNew(t, "sdk/testdata/sdktest/sdktest.wasm")
}

func TestSDKContent(t *testing.T)         { guesttest.CheckSDKContent(t, loadSDKTest(t)) }
func TestSDKClientInfo(t *testing.T)      { guesttest.CheckSDKClientInfo(t, loadSDKTest(t)) }
func TestSDKAsk(t *testing.T)             { guesttest.CheckSDKAsk(t, loadSDKTest(t)) }
func TestSDKResourceUpdated(t *testing.T) { guesttest.CheckSDKResourceUpdated(t, loadSDKTest(t)) }
func TestSDKResources(t *testing.T)       { guesttest.CheckSDKResources(t, loadSDKTest(t)) }
func TestSDKPrompts(t *testing.T)         { guesttest.CheckSDKPrompts(t, loadSDKTest(t)) }
func TestSDKCompletions(t *testing.T)     { guesttest.CheckSDKCompletions(t, loadSDKTest(t)) }
