package wazero

import (
	"context"
	"math"

	wz "github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// The instrumenter imports its functions (wasmbin.FuncYield and
// wasmbin.FuncTableGrow) from yieldModule into every module; guests cannot
// import them themselves (the runtime checks their imports before
// compiling, and host functions may not be defined in it).
const yieldModule = "wasmgate.runtime"

// fuelPerYield is how many function entries and loop iterations a guest runs
// between two calls to yield. Each yield costs about as much as a few hundred
// loop iterations, so this keeps the overhead near 1% while bounding the time
// between checks to microseconds for tight loops (RATIONALE.md).
const fuelPerYield = 10_000

type interruptedError struct{}

func (interruptedError) Error() string { return "interrupted by the host" }

// errInterrupted unwinds a guest that yield decided to stop.
var errInterrupted error = interruptedError{}

// instantiateYield registers the functions the instrumenter calls. yield
// stops the guest when the run's context is done (the call was cancelled,
// timed out or hit a limit), else returns a fresh fuel budget. Being a call
// into Go, it is also where the goroutine can be preempted for the
// scheduler and the garbage collector. table_grow does the same check, then
// counts the table's new size against the run's memory limit.
func instantiateYield(ctx context.Context, r wz.Runtime) error {
	_, err := r.NewHostModuleBuilder(yieldModule).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(ctx context.Context, stack []uint64) {
			checkInterrupt(ctx)
			stack[0] = api.EncodeI32(fuelPerYield)
		}), nil, []api.ValueType{api.ValueTypeI32}).
		Export(wasmbin.FuncYield).
		NewFunctionBuilder().
		WithGoFunction(api.GoFunc(func(ctx context.Context, stack []uint64) {
			checkInterrupt(ctx)
			delta, size, table := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
			stack[0] = api.EncodeU32(delta)
			if a, _ := ctx.Value(allocKey{}).(*limitedAllocator); a != nil && !a.growTable(table, size, delta) {
				stack[0] = api.EncodeU32(math.MaxUint32) // table.grow fails with -1
			}
		}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}).
		Export(wasmbin.FuncTableGrow).
		Instantiate(ctx)
	return err
}

// checkInterrupt unwinds the guest if its run must stop.
func checkInterrupt(ctx context.Context) {
	if ctx.Err() != nil {
		panic(errInterrupted)
	}
}
