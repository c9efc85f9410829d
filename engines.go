package wasmgate

// The engines a Gateway can run guests on, one import each. The first one
// registered is the default; runtime.Config.WithEngine picks another by its
// factory (engine.Lookup finds it by name).
import _ "github.com/wasmgate/wasmgate/engine/wazero"
