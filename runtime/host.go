package runtime

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/wasmgate/abi"
)

// Events receives what a guest reports while it runs. Methods are called on
// the goroutine running the guest, so they should not block for long: the
// call's deadline keeps running.
type Events interface {
	Log(level abi.LogLevel, msg string)
	Progress(progress, total float64, msg string)
}

// Bounds on what one call may report through log and progress. Past them
// messages are dropped and counted: a guest cannot flood the client.
const (
	maxEventMessage = 8 << 10
	maxEvents       = 1000
)

// HostFunc is a function in the wasmgate import module. Fn runs on the
// guest's goroutine with the call's context; it reads its arguments from
// stack and writes its results back to stack, as wazero's
// api.GoModuleFunction does, and reaches the call through h.
type HostFunc struct {
	Name    string
	Params  []api.ValueType
	Results []api.ValueType
	Fn      func(ctx context.Context, h *HostCall, stack []uint64)
}

// HostCall is the call a host function runs in.
type HostCall struct {
	st  *callState
	mod api.Module
}

// Module is the name of the module being called.
func (h *HostCall) Module() string { return h.st.module.Name() }

// Tool is the name of the tool being called.
func (h *HostCall) Tool() string { return h.st.tool }

// Read copies n bytes at ptr out of guest memory. A range outside memory is
// a broken calling convention, not a recoverable error: the call is aborted
// with KindHostMisuse and Read does not return.
func (h *HostCall) Read(fn string, ptr, n uint32) []byte {
	b, ok := h.mod.Memory().Read(ptr, n)
	if !ok {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(n), h.mod.Memory().Size()))
	}
	return append([]byte(nil), b...)
}

// Write copies b into guest memory at ptr, aborting the call with
// KindHostMisuse when the range is outside memory.
func (h *HostCall) Write(fn string, ptr uint32, b []byte) {
	if !h.mod.Memory().Write(ptr, b) {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(len(b)), h.mod.Memory().Size()))
	}
}

// Misuse aborts the call with KindHostMisuse and the given reason.
func (h *HostCall) Misuse(reason string) {
	h.st.setMisuse(reason)
	panic(errHostMisuse)
}

// Respond holds b for the guest to fetch with response and returns the
// success status (its length).
func (h *HostCall) Respond(b []byte) int32 {
	h.st.held = b
	return int32(len(b))
}

// Fail holds msg for the guest and returns the error status code.
func (h *HostCall) Fail(code int32, msg string) int32 {
	h.st.held = []byte(msg)
	return code
}

type hostMisuseError struct{}

func (hostMisuseError) Error() string { return "host function misuse" }

var errHostMisuse error = hostMisuseError{}

var (
	i32 = api.ValueTypeI32
	f64 = api.ValueTypeF64
)

// builtinHostFuncs are the functions every call has: the calling
// convention's response pair, log and progress.
func builtinHostFuncs() []HostFunc {
	return []HostFunc{
		{Name: abi.FuncLog, Params: []api.ValueType{i32, i32, i32}, Fn: hostLog},
		{Name: abi.FuncProgress, Params: []api.ValueType{f64, f64, i32, i32}, Fn: hostProgress},
		{Name: abi.FuncResponseLen, Results: []api.ValueType{i32}, Fn: func(_ context.Context, h *HostCall, stack []uint64) {
			stack[0] = api.EncodeI32(int32(len(h.st.held)))
		}},
		{Name: abi.FuncResponse, Params: []api.ValueType{i32, i32}, Results: []api.ValueType{i32}, Fn: hostResponse},
		{Name: abi.FuncResourceUpdated, Params: []api.ValueType{i32, i32}, Results: []api.ValueType{i32}, Fn: hostResourceUpdated},
	}
}

func hostLog(_ context.Context, h *HostCall, stack []uint64) {
	level, ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	msg := h.readMessage(abi.FuncLog, ptr, n)
	h.st.log(abi.LogLevel(min(level, uint32(abi.LevelEmergency))), message(msg))
}

func hostProgress(_ context.Context, h *HostCall, stack []uint64) {
	progress, total := api.DecodeF64(stack[0]), api.DecodeF64(stack[1])
	ptr, n := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	if math.IsNaN(progress) || math.IsInf(progress, 0) || math.IsNaN(total) || math.IsInf(total, 0) {
		h.Misuse(fmt.Sprintf("progress: progress %v and total %v must be finite numbers", progress, total))
	}
	msg := h.readMessage(abi.FuncProgress, ptr, n)
	h.st.progress(progress, total, message(msg))
}

func hostResponse(_ context.Context, h *HostCall, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	held := h.st.held
	c := min(int(n), len(held))
	h.Write(abi.FuncResponse, ptr, held[:c])
	if c == len(held) {
		h.st.held = nil
	} else {
		h.st.held = held[c:]
	}
	stack[0] = api.EncodeI32(int32(c))
}

// readMessage reads a log or progress message, copying no more than
// message keeps; the whole range must still be inside guest memory.
func (h *HostCall) readMessage(fn string, ptr, n uint32) []byte {
	if uint64(ptr)+uint64(n) > uint64(h.mod.Memory().Size()) {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(n), h.mod.Memory().Size()))
	}
	return h.Read(fn, ptr, min(n, maxEventMessage+1))
}

// message bounds a guest-supplied message and makes it valid UTF-8.
func message(b []byte) string {
	if len(b) > maxEventMessage {
		b = append(b[:maxEventMessage:maxEventMessage], "… (truncated)"...)
	}
	if !utf8.Valid(b) {
		return string([]rune(string(b)))
	}
	return string(b)
}

// instantiateHost registers the wasmgate host module in r and returns the
// signature of each function, used to check a module's imports at load.
func instantiateHost(ctx context.Context, r wazero.Runtime, fns []HostFunc) (map[string]HostFunc, error) {
	b := r.NewHostModuleBuilder(abi.HostModule)
	byName := map[string]HostFunc{}
	for _, f := range fns {
		if _, dup := byName[f.Name]; dup {
			return nil, fmt.Errorf("host function %s.%s is defined twice", abi.HostModule, f.Name)
		}
		byName[f.Name] = f
		fn := f.Fn
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
				st := stateFrom(ctx)
				if st == nil {
					panic(fmt.Errorf("%s.%s called outside a wasmgate call", abi.HostModule, f.Name))
				}
				defer func() {
					if p := recover(); p != nil {
						if p != errHostMisuse && p != errSuspend {
							st.setInternal(fmt.Sprintf("host function %s.%s panicked: %v", abi.HostModule, f.Name, p), debug.Stack())
						}
						panic(p) // unwinds the guest; the call reports why
					}
				}()
				fn(ctx, &HostCall{st: st, mod: mod}, stack)
			}), f.Params, f.Results).
			Export(f.Name)
	}
	if _, err := b.Instantiate(ctx); err != nil {
		return nil, fmt.Errorf("instantiate host module %s: %w", abi.HostModule, err)
	}
	return byName, nil
}

// ResourceEvents is implemented by Events that can tell clients a
// resource changed: resource_updated reports there.
type ResourceEvents interface {
	ResourceUpdated(uri string)
}

// MaxResourceURI is the longest URI resource_updated accepts.
const MaxResourceURI = 8 << 10

func hostResourceUpdated(_ context.Context, h *HostCall, stack []uint64) {
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	stack[0] = api.EncodeI32(resourceUpdated(h, ptr, n))
}

func resourceUpdated(h *HostCall, ptr, n uint32) int32 {
	const fn = abi.FuncResourceUpdated
	if n == 0 {
		return h.Fail(abi.ErrInvalid, fn+": the URI is empty")
	}
	if n > MaxResourceURI {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the URI is %d bytes, over the limit of %d", fn, n, MaxResourceURI))
	}
	uri := string(h.Read(fn, ptr, n))
	if !h.st.module.ownsResource(uri) {
		return h.Fail(abi.ErrNotFound, fmt.Sprintf("%s: %q is not one of module %s's resources and matches none of its resource templates", fn, uri, h.Module()))
	}
	if !h.st.allowEvent() {
		return 0
	}
	if re, ok := h.st.events.(ResourceEvents); ok {
		re.ResourceUpdated(uri)
	}
	return 0
}
