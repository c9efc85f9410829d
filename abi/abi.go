// Package abi is the contract between wasmgate and a guest tool module:
// the manifest embedded in the module, the call envelope the guest reads on
// stdin and the result it writes on stdout (parsed and checked by
// ParseToolResult and its siblings), and the names and calling
// convention of the host functions it may import. ABI.md in this directory is
// the specification; this package is its Go form.
package abi

// Version is the ABI version this package implements. A manifest declares the
// version it was written for in its "abi" field.
const Version = 1

// ManifestSection is the name of the custom section holding the manifest JSON.
const ManifestSection = "wasmgate.manifest"

// SidecarSuffix is appended to a module's base name (without ".wasm") to find
// its manifest when the module has no manifest section.
const SidecarSuffix = ".manifest.json"

// Entry points a module exports (ABI.md section 1). A command exports
// ExportStart; a reactor exports ExportInitialize and ExportCall, and each
// call runs the first, then the second.
const (
	ExportStart      = "_start"
	ExportInitialize = "_initialize"
	ExportCall       = "wasmgate_call"
	// ExportWarmup is a reactor's optional warm-up, () -> (): run once
	// after _initialize before a snapshot is taken, so that what a
	// language runtime sets up on first use is in the snapshot too.
	ExportWarmup = "wasmgate_warmup"
)

// HostModule is the import module name of every wasmgate host function.
const HostModule = "wasmgate"

// Host function names in HostModule.
const (
	// FuncLog is log(level i32, ptr i32, len i32): a log message at an MCP
	// logging level (see LogLevel).
	FuncLog = "log"
	// FuncProgress is progress(progress f64, total f64, ptr i32, len i32): a
	// progress report; total <= 0 means unknown, len may be 0.
	FuncProgress = "progress"
	// FuncResponseLen is response_len() -> i32: the length of the bytes the
	// host holds for the guest after the last request-style call.
	FuncResponseLen = "response_len"
	// FuncResponse is response(ptr i32, len i32) -> i32: copies up to len
	// held bytes to ptr, returns the count copied and releases the hold.
	FuncResponse = "response"
	// FuncSample is sample(req_ptr i32, req_len i32) -> i32: asks the
	// client's model (MCP sampling/createMessage); holds the result JSON.
	FuncSample = "sample"
	// FuncElicit is elicit(req_ptr i32, req_len i32) -> i32: asks the user
	// (MCP elicitation/create); holds the result JSON.
	FuncElicit = "elicit"
	// FuncAsk is ask(req_ptr i32, req_len i32) -> i32: puts several
	// questions to the client at once; holds their answers by key.
	FuncAsk = "ask"
	// FuncResourceUpdated is resource_updated(uri_ptr i32, uri_len i32) ->
	// i32: tells subscribed clients that one of the module's resources
	// changed.
	FuncResourceUpdated = "resource_updated"
)

// The MCP methods a guest's ask may put to the client (each question's
// "method"); sample and elicit are the first two, one question each.
const (
	MethodSample = "sampling/createMessage"
	MethodElicit = "elicitation/create"
	MethodRoots  = "roots/list"
)

// Status codes returned (negated) by request-style host functions. A
// non-negative status is success: the length of the held response.
const (
	ErrInvalid   int32 = -1 // the request was malformed
	ErrDenied    int32 = -2 // the capability is not granted to this call
	ErrFailed    int32 = -3 // the operation was attempted and failed
	ErrTooLarge  int32 = -4 // a size limit was exceeded
	ErrNotFound  int32 = -5 // no such key or resource
	ErrCancelled int32 = -6 // the call was cancelled or ran out of time
)

// LogLevel is an MCP logging level, as passed to FuncLog.
type LogLevel uint32

// The eight MCP (RFC 5424) logging levels.
const (
	LevelDebug LogLevel = iota
	LevelInfo
	LevelNotice
	LevelWarning
	LevelError
	LevelCritical
	LevelAlert
	LevelEmergency
)

var levelNames = [...]string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// String returns the MCP name of the level; levels past emergency are
// reported as emergency.
func (l LogLevel) String() string {
	if int(l) >= len(levelNames) {
		return levelNames[len(levelNames)-1]
	}
	return levelNames[l]
}
