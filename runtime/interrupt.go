package runtime

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The instrumenter imports yieldModule.yieldFunc into every module; guests
// cannot import it themselves (their imports are checked before).
const (
	yieldModule = "wasmgate.runtime"
	yieldFunc   = "yield"
)

// fuelPerYield is how many function entries and loop iterations a guest runs
// between two calls to yield. Each yield costs about as much as a few hundred
// loop iterations, so this keeps the overhead near 1% while bounding the time
// between checks to microseconds for tight loops (RATIONALE.md).
const fuelPerYield = 10_000

type interruptedError struct{}

func (interruptedError) Error() string { return "interrupted by the host" }

// errInterrupted unwinds a guest that yield decided to stop.
var errInterrupted error = interruptedError{}

// instantiateYield registers the yield function the instrumenter calls. It
// stops the guest when the call was cancelled, timed out or hit a limit,
// else returns a fresh fuel budget. Being a call into Go, it is also where
// the goroutine can be preempted for the scheduler and the garbage collector.
func instantiateYield(ctx context.Context, r wazero.Runtime) error {
	_, err := r.NewHostModuleBuilder(yieldModule).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(ctx context.Context, stack []uint64) {
			if ctx.Err() != nil {
				panic(errInterrupted)
			}
			if st := stateFrom(ctx); st != nil && st.stopping() {
				panic(errInterrupted)
			}
			stack[0] = api.EncodeI32(fuelPerYield)
		}), nil, []api.ValueType{api.ValueTypeI32}).
		Export(yieldFunc).
		Instantiate(ctx)
	return err
}
