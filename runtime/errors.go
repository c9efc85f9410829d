package runtime

import (
	"fmt"

	"github.com/wasmgate/wasmgate/abi"
)

// ErrorKind classifies why a call failed. Each kind has its own plain
// message; the MCP front end and the audit log report the kind as is.
type ErrorKind string

const (
	// KindTimeout: the call ran past its wall-clock limit and was stopped.
	KindTimeout ErrorKind = "timeout"
	// KindCancelled: the caller cancelled the call (or went away).
	KindCancelled ErrorKind = "cancelled"
	// KindMemory: the guest needed more memory than its limit.
	KindMemory ErrorKind = "memory_limit"
	// KindOutput: the guest wrote more to stdout than its limit.
	KindOutput ErrorKind = "output_limit"
	// KindTrap: the guest trapped (unreachable, out-of-bounds access,
	// division by zero, stack overflow, ...).
	KindTrap ErrorKind = "trap"
	// KindExit: the guest exited with a non-zero code.
	KindExit ErrorKind = "exit"
	// KindInvalidOutput: stdout looked like a result but was not a valid one.
	KindInvalidOutput ErrorKind = "invalid_output"
	// KindHostMisuse: the guest called a host function with arguments that
	// break the calling convention (pointers outside its memory, ...).
	KindHostMisuse ErrorKind = "host_misuse"
	// KindToolError: the guest itself returned a result with isError set.
	KindToolError ErrorKind = "tool_error"
	// KindInputRequired: the guest asked its client a question whose answer
	// comes with a later request (MCP 2026-07-28); the call is run again
	// with the answer. Not a failure: the server returns an input-required
	// result.
	KindInputRequired ErrorKind = "input_required"
	// KindUnavailable: the module could not be compiled (it was loaded in
	// the background), so none of its calls can run.
	KindUnavailable ErrorKind = "unavailable"
	// KindBusy: the server could not admit the call: every call slot or
	// its whole memory budget was taken for longer than the queue timeout.
	// The guest did not run; trying again later may succeed.
	KindBusy ErrorKind = "busy"
	// KindInternal: wasmgate failed (a recovered panic); a bug to report.
	KindInternal ErrorKind = "internal"
)

// CallError is a failed call. Message is written for the model and the
// person reading the transcript: what happened and what to do about it.
type CallError struct {
	Kind   ErrorKind
	Module string
	// Tool is the tool called; for other methods, the resource URI, the
	// prompt name or the completion's reference.
	Tool string
	// Method is the MCP method served; "" is tools/call.
	Method string
	// Message says what failed, in one line.
	Message string
	// ExitCode is the guest's exit code for KindExit.
	ExitCode int
	// Stack is the wasm stack trace for KindTrap, when available.
	Stack string
	// Err is the underlying error, when there is one.
	Err error
}

func (e *CallError) Error() string {
	switch e.Method {
	case abi.MethodResourcesRead:
		return fmt.Sprintf("resource %s of module %s: %s", e.Tool, e.Module, e.Message)
	case abi.MethodPromptsGet:
		return fmt.Sprintf("prompt %s/%s: %s", e.Module, e.Tool, e.Message)
	case abi.MethodCompletionComp:
		return fmt.Sprintf("completion of %s in module %s: %s", e.Tool, e.Module, e.Message)
	}
	return fmt.Sprintf("tool %s/%s: %s", e.Module, e.Tool, e.Message)
}

func (e *CallError) Unwrap() error { return e.Err }

// Detail is Error followed by the wasm stack trace, when there is one: the
// text a client is shown for the failure.
func (e *CallError) Detail() string {
	if e.Stack == "" {
		return e.Error()
	}
	return e.Error() + "\nwasm stack trace:\n" + e.Stack
}
