package runtime

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"unicode/utf8"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
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
// stack and writes its results back to stack, starting at stack[0], with
// the encoding functions of package engine (engine.DecodeU32,
// engine.EncodeI32, ...), and reaches the call through h.
type HostFunc struct {
	Name    string
	Params  []engine.ValueType
	Results []engine.ValueType
	Fn      func(ctx context.Context, h *HostCall, stack []uint64)
}

// HostCall is the call a host function runs in.
type HostCall struct {
	st  *callState
	mem engine.Memory
}

// Module is the name of the module being called.
func (h *HostCall) Module() string { return h.st.module.Name() }

// Tool is the name of the tool being called.
func (h *HostCall) Tool() string { return h.st.tool }

// Read copies n bytes at ptr out of guest memory. A range outside memory is
// a broken calling convention, not a recoverable error: the call is aborted
// with KindHostMisuse and Read does not return.
func (h *HostCall) Read(fn string, ptr, n uint32) []byte {
	b, ok := h.mem.Read(ptr, n)
	if !ok {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(n), h.mem.Size()))
	}
	return append([]byte(nil), b...)
}

// Write copies b into guest memory at ptr, aborting the call with
// KindHostMisuse when the range is outside memory.
func (h *HostCall) Write(fn string, ptr uint32, b []byte) {
	if !h.mem.Write(ptr, b) {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(len(b)), h.mem.Size()))
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

const (
	i32 = engine.I32
	f64 = engine.F64
)

// builtinHostFuncs are the functions every call has: the calling
// convention's response pair, log and progress.
func builtinHostFuncs() []HostFunc {
	return []HostFunc{
		{Name: abi.FuncLog, Params: []engine.ValueType{i32, i32, i32}, Fn: hostLog},
		{Name: abi.FuncProgress, Params: []engine.ValueType{f64, f64, i32, i32}, Fn: hostProgress},
		{Name: abi.FuncResponseLen, Results: []engine.ValueType{i32}, Fn: func(_ context.Context, h *HostCall, stack []uint64) {
			stack[0] = engine.EncodeI32(int32(len(h.st.held)))
		}},
		{Name: abi.FuncResponse, Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32}, Fn: hostResponse},
		{Name: abi.FuncResourceUpdated, Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32}, Fn: hostResourceUpdated},
	}
}

func hostLog(_ context.Context, h *HostCall, stack []uint64) {
	level, ptr, n := engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1]), engine.DecodeU32(stack[2])
	msg := h.readMessage(abi.FuncLog, ptr, n)
	h.st.log(abi.LogLevel(min(level, uint32(abi.LevelEmergency))), message(msg))
}

func hostProgress(_ context.Context, h *HostCall, stack []uint64) {
	progress, total := engine.DecodeF64(stack[0]), engine.DecodeF64(stack[1])
	ptr, n := engine.DecodeU32(stack[2]), engine.DecodeU32(stack[3])
	if math.IsNaN(progress) || math.IsInf(progress, 0) || math.IsNaN(total) || math.IsInf(total, 0) {
		h.Misuse(fmt.Sprintf("progress: progress %v and total %v must be finite numbers", progress, total))
	}
	msg := h.readMessage(abi.FuncProgress, ptr, n)
	h.st.progress(progress, total, message(msg))
}

func hostResponse(_ context.Context, h *HostCall, stack []uint64) {
	ptr, n := engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])
	held := h.st.held
	c := min(int(n), len(held))
	h.Write(abi.FuncResponse, ptr, held[:c])
	if c == len(held) {
		h.st.held = nil
	} else {
		h.st.held = held[c:]
	}
	stack[0] = engine.EncodeI32(int32(c))
}

// readMessage reads a log or progress message, copying no more than
// message keeps; the whole range must still be inside guest memory.
func (h *HostCall) readMessage(fn string, ptr, n uint32) []byte {
	if uint64(ptr)+uint64(n) > uint64(h.mem.Size()) {
		h.Misuse(fmt.Sprintf("%s: bytes [%d, %d) are outside guest memory (%d bytes)", fn, ptr, uint64(ptr)+uint64(n), h.mem.Size()))
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

// hostFuncs checks fns and returns them by name, and as the engine runs
// them: each finds its call in the context, and a panic other than the
// calling convention's own is recorded as the call's internal error.
func hostFuncs(fns []HostFunc) (map[string]HostFunc, []engine.HostFunc, error) {
	byName := map[string]HostFunc{}
	var out []engine.HostFunc
	for _, f := range fns {
		if _, dup := byName[f.Name]; dup {
			return nil, nil, fmt.Errorf("host function %s.%s is defined twice", abi.HostModule, f.Name)
		}
		byName[f.Name] = f
		fn, name := f.Fn, f.Name
		out = append(out, engine.HostFunc{
			Module:    abi.HostModule,
			Name:      name,
			Signature: engine.Signature{Params: f.Params, Results: f.Results},
			Fn: func(ctx context.Context, mem engine.Memory, stack []uint64) {
				st := stateFrom(ctx)
				if st == nil {
					panic(fmt.Errorf("%s.%s called outside a wasmgate call", abi.HostModule, name))
				}
				if st.capturing {
					st.setMisuse(fmt.Sprintf("its initialisation calls %s.%s", abi.HostModule, name))
					panic(errHostMisuse)
				}
				defer func() {
					if p := recover(); p != nil {
						if p != errHostMisuse && p != errSuspend {
							st.setInternal(fmt.Sprintf("host function %s.%s panicked: %v", abi.HostModule, name, p), debug.Stack())
						}
						panic(p) // unwinds the guest; the call reports why
					}
				}()
				fn(ctx, &HostCall{st: st, mem: mem}, stack)
			},
		})
	}
	return byName, out, nil
}

// ResourceEvents is implemented by Events that can tell clients a
// resource changed: resource_updated reports there.
type ResourceEvents interface {
	ResourceUpdated(uri string)
}

// MaxResourceURI is the longest URI resource_updated accepts.
const MaxResourceURI = 8 << 10

func hostResourceUpdated(_ context.Context, h *HostCall, stack []uint64) {
	ptr, n := engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])
	stack[0] = engine.EncodeI32(resourceUpdated(h, ptr, n))
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
