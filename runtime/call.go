package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

// Call is one tools/call request.
type Call struct {
	Tool      string
	Arguments json.RawMessage // a JSON object; nil means {}
	Meta      map[string]any  // passed to the guest as params._meta
	// Limits is the operator's ceiling for this call; zero fields take the
	// runtime defaults. The module's manifest may narrow them further.
	Limits Limits
	// Events receives log and progress reports; nil drops them.
	Events Events
	// Grant is what the call may use beyond the bare sandbox; nil grants
	// nothing.
	Grant *Grant
	// Client is the MCP client the call serves, which sample, elicit and
	// ask question; nil means there is none to ask.
	Client Client
	// ClientInfo is what the guest is told of that client; nil tells it
	// nothing.
	ClientInfo *abi.ClientInfo
}

// Outcome is what a call produced: the guest's reply, read as the result
// of the method served, or, when the call failed, Err saying how. A
// server turns it into its protocol's answer; package runtime does not
// speak MCP.
type Outcome struct {
	// Reply is what the guest wrote on stdout, with the grant's secrets
	// redacted, when it finished cleanly (its reply may still be invalid,
	// or a tool error); nil otherwise.
	Reply []byte
	// Err is set when the call failed. Its Detail is the text to show for
	// the failure; for KindToolError the reply itself says what failed.
	Err *CallError
	// Result is the reply to Call, parsed once by abi.ParseToolResult: set
	// when the reply is a valid result, with IsError going with an Err of
	// KindToolError.
	Result *abi.ToolResult
	// Resource, Prompt and Completion hold the result of a successful
	// ReadResource, GetPrompt and Complete.
	Resource   *abi.ReadResult
	Prompt     *abi.PromptResult
	Completion *abi.CompleteResult
	// GuestError is the error a guest reported for a method other than
	// tools/call; Err is then of KindToolError.
	GuestError *abi.GuestError
	// Limits are the limits the call ran under.
	Limits Limits
	// Stderr is the tail of what the guest wrote to stderr.
	Stderr        []byte
	StderrDropped int64
	// EventsDropped counts log and progress reports over the per-call bound.
	EventsDropped int
	Duration      time.Duration
	BytesIn       int
	BytesOut      int
	// Hosts lists the hosts the call contacted (host:port).
	Hosts []string
	// Denied lists what the call tried to use without a grant.
	Denied []string
}

// ErrUnknownTool is returned by Call for a tool the manifest does not declare.
var ErrUnknownTool = errors.New("unknown tool")

type ctxKey struct{}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(ctxKey{}).(*callState)
	return st
}

// callState is one call's view shared with host functions and the
// interrupter goroutine.
type callState struct {
	module *Module
	tool   string
	events Events
	grant  *Grant
	redact *redactor
	held   []byte // response bytes waiting for the guest
	client Client
	limits Limits
	clock  clock // guarded by mu

	// capturing is set while a reactor initialises for a snapshot, when
	// host functions are refused.
	capturing bool

	mu       sync.Mutex
	reason   ErrorKind // why the host stopped the guest, if it did
	misuse   string
	internal string // a host-side panic
	cancel   context.CancelFunc
	stopped  bool

	nEvents int
	dropped int
	hosts   []string
	denied  []string
}

// stop records why the guest must stop and interrupts it. The first reason wins.
func (s *callState) stop(kind ErrorKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.reason == "" {
		s.reason = kind
	}
	s.cancel()
}

// stopping reports whether the host decided to stop the guest.
func (s *callState) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason != ""
}

func (s *callState) setMisuse(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.misuse == "" {
		s.misuse = reason
	}
}

func (s *callState) setInternal(reason string, stack []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.internal == "" {
		s.internal = reason
		s.module.rt.logger.Error("host function panic", "module", s.module.Name(), "tool", s.tool, "reason", reason, "stack", string(stack))
	}
}

func (s *callState) allowEvent() bool {
	if s.events == nil || s.nEvents >= maxEvents {
		s.dropped++
		return false
	}
	s.nEvents++
	return true
}

func (s *callState) log(level abi.LogLevel, msg string) {
	if s.allowEvent() {
		s.events.Log(level, s.redact.String(msg))
	}
}

func (s *callState) progress(progress, total float64, msg string) {
	if s.allowEvent() {
		s.events.Progress(progress, total, s.redact.String(msg))
	}
}

// Call runs one tool call in a fresh instance. Failures of the guest are
// reported in the Outcome; the error is non-nil only when the call could not
// be attempted (unknown tool, arguments that are not a JSON object).
//
// The arguments are not decoded here: the caller has checked them against
// the tool's input schema (abi.InputSchema), and they go into the request
// envelope as they are.
func (m *Module) Call(ctx context.Context, c Call) (*Outcome, error) {
	if _, ok := m.Tool(c.Tool); !ok {
		return nil, fmt.Errorf("module %s has no tool %q: %w", m.Name(), c.Tool, ErrUnknownTool)
	}
	args := bytes.TrimSpace(c.Arguments)
	if len(args) == 0 || string(args) == "null" {
		args = []byte("{}")
	}
	// Encoding the envelope checks that the arguments are JSON; one that
	// starts with a brace is an object.
	if args[0] != '{' {
		return nil, fmt.Errorf("arguments for %s/%s must be a JSON object", m.Name(), c.Tool)
	}
	return m.serve(ctx, c, target{abi.MethodToolsCall, c.Tool}, abi.CallRequest(c.Tool, args, c.Meta), func(out *Outcome, reply []byte) *CallError {
		res, err := abi.ParseToolResult(reply)
		if err != nil {
			return &CallError{Kind: KindInvalidOutput, Message: err.Error()}
		}
		out.Result = res
		if res.IsError {
			text := res.Text()
			if text == "" {
				text = "(no text)"
			}
			return &CallError{Kind: KindToolError, Message: "the tool reported an error: " + text}
		}
		return nil
	})
}

// takeSlot takes one of the module's call slots, waiting at most wait.
func (m *Module) takeSlot(ctx context.Context, wait time.Duration) *CallError {
	select {
	case m.sem <- struct{}{}: // the usual case: no timer needed
		return nil
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &CallError{Kind: KindCancelled, Message: "cancelled while waiting for a free slot (the module is at its concurrency limit)", Err: ctx.Err()}
	case <-timer.C:
		return &CallError{Kind: KindBusy, Message: fmt.Sprintf("module %s is busy: all %d of its call slots were taken for %s; try again later", m.Name(), cap(m.sem), wait)}
	}
}

// target is what a guest call serves: an MCP method and the tool, resource
// URI or prompt it is for.
type target struct{ method, name string }

// serve runs the guest on stdin under c's limits and grant, and hands its
// reply (a clean stdout, redacted) to parse, which reads it as the result
// of t's method. t names what is served, for messages.
func (m *Module) serve(ctx context.Context, c Call, t target, req abi.Request, parse func(*Outcome, []byte) *CallError) (*Outcome, error) {
	req.Client = c.ClientInfo
	stdin, err := json.Marshal(req)
	if err != nil {
		if t.method == abi.MethodToolsCall {
			return nil, fmt.Errorf("arguments for %s/%s must be a JSON object: %v", m.Name(), t.name, err)
		}
		return nil, fmt.Errorf("encode %s: %w", t.method, err)
	}
	limits := m.Limits(c.Limits)
	out := &Outcome{Limits: limits, BytesIn: len(stdin)}

	// A module still compiling is waited for (its compile time is bounded
	// by the structural limits checked at load).
	select {
	case <-m.ready:
	case <-ctx.Done():
		out.fail(m, t, &CallError{Kind: KindCancelled, Message: "cancelled while the module was being compiled", Err: ctx.Err()})
		return out, nil
	}
	if m.compileErr != nil {
		out.fail(m, t, &CallError{Kind: KindUnavailable, Message: "the module could not be compiled, so it cannot run: " + m.compileErr.Error(), Err: m.compileErr})
		return out, nil
	}
	// Wait for a slot of the module, then for room among all calls; the
	// wait does not count against the call's time limit, and is bounded by
	// the queue timeout.
	wait := m.rt.cfg.queueTimeout
	queued := time.Now()
	if cerr := m.takeSlot(ctx, wait); cerr != nil {
		out.fail(m, t, cerr)
		return out, nil
	}
	defer func() { <-m.sem }()
	release, err := m.rt.admission.acquire(ctx, m, reservation(limits), max(0, wait-time.Since(queued)))
	if err != nil {
		var busy *busyError
		if errors.As(err, &busy) {
			out.fail(m, t, &CallError{Kind: KindBusy, Message: busy.msg})
		} else {
			out.fail(m, t, &CallError{Kind: KindCancelled, Message: "cancelled while waiting for room among the server's calls", Err: err})
		}
		return out, nil
	}
	defer release()

	began := time.Now()
	m.run(ctx, c, t, stdin, limits, out, parse)
	out.Duration = time.Since(began)
	return out, nil
}

// run executes the guest and fills out. It recovers every panic.
func (m *Module) run(parent context.Context, c Call, t target, stdin []byte, limits Limits, out *Outcome, parse func(*Outcome, []byte) *CallError) {
	// The deadline is a timer rather than a context deadline so that it can
	// stop while the call waits for its client (HostCall.Ask).
	ctx, cancelCause := context.WithCancelCause(parent)
	cancel := func() { cancelCause(context.Canceled) }
	defer cancel()
	st := &callState{module: m, tool: t.name, events: c.Events, cancel: cancel, client: c.Client, limits: limits}
	st.clock = clock{remaining: limits.Timeout, started: time.Now(), timer: time.AfterFunc(limits.Timeout, func() { cancelCause(errTimeout) })}
	defer st.clock.timer.Stop()
	st.grant = c.Grant
	var confidential []string
	for _, name := range c.Grant.Names() {
		if cg, ok := c.Grant.Get(name).(Confidential); ok {
			confidential = append(confidential, cg.ConfidentialValues()...)
		}
	}
	st.redact = newRedactor(confidential)
	stdout := &capWriter{limit: int(limits.Output), onOverflow: func() { st.stop(KindOutput) }}
	stderr := &tailWriter{limit: int(limits.Stderr), done: ctx.Done()}

	defer func() {
		if p := recover(); p != nil {
			m.rt.logger.Error("panic during guest call", "module", m.Name(), "method", t.method, "name", t.name, "panic", p, "stack", string(debug.Stack()))
			out.fail(m, t, &CallError{Kind: KindInternal, Message: fmt.Sprintf("internal error in wasmgate: %v (please report this bug)", p)})
		}
		out.Stderr, out.StderrDropped, out.EventsDropped = stderr.Bytes(), stderr.dropped, st.dropped
		st.mu.Lock()
		out.Hosts, out.Denied = st.hosts, st.denied
		st.mu.Unlock()
		if st.redact != nil {
			out.Stderr = []byte(st.redact.String(string(out.Stderr)))
			// The guest chooses what it asks for and what it writes, so
			// everything else in the outcome that can carry its bytes is
			// redacted too: the audit log records these.
			for i := range out.Denied {
				out.Denied[i] = st.redact.String(out.Denied[i])
			}
			for i := range out.Hosts {
				out.Hosts[i] = st.redact.String(out.Hosts[i])
			}
			if out.Err != nil {
				// The reply was redacted before it was parsed; a
				// failure's message and stack may quote the guest too.
				out.Err.Message = st.redact.String(out.Err.Message)
				out.Err.Stack = st.redact.String(out.Err.Stack)
			}
		}
	}()

	if need := m.InitialMemory(); need > limits.Memory {
		out.fail(m, t, &CallError{Kind: KindMemory, Message: fmt.Sprintf("the module needs %s of memory and tables before it runs, over its limit of %s; the operator can raise its memory limit if the module is trusted", need, limits.Memory)})
		return
	}

	rc := &engine.RunConfig{
		Args:        m.args,
		Stdin:       stdin,
		Stdout:      stdout,
		Stderr:      stderr,
		Rand:        randReader{ctx},
		MemoryLimit: uint64(limits.Memory),
		Entry:       commandEntry,
	}
	if m.reactor {
		rc.Entry = reactorEntry
	}
	cleanup, err := provision(st.grant, rc)
	defer cleanup()
	if err != nil {
		out.fail(m, t, &CallError{Kind: KindInternal, Message: "cannot set up the call's grants: " + err.Error(), Err: err})
		return
	}
	m.fromSnapshot(ctx, st, rc)
	err = m.compiled.Run(context.WithValue(ctx, ctxKey{}, st), rc)
	st.mu.Lock()
	st.stopped = true
	st.mu.Unlock()
	out.BytesOut = len(stdout.buf)

	if cerr := classify(parent, ctx, limits, st, err, stderr); cerr != nil {
		out.fail(m, t, cerr)
		return
	}
	// Every method's reply is redacted as decoded JSON, before it is
	// parsed (once, by parse), so that no spelling of a secret gets
	// through.
	out.Reply = st.redact.JSON(stdout.buf)
	if cerr := parse(out, out.Reply); cerr != nil {
		out.fail(m, t, cerr)
	}
}

// provision lets each of grant's capabilities set up rc (environment,
// mounts). The returned function undoes what they did, on error too.
func provision(grant *Grant, rc *engine.RunConfig) (func(), error) {
	if grant == nil {
		return func() {}, nil
	}
	var cleanups []func()
	undo := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	for _, name := range grant.Names() {
		p, ok := grant.Get(name).(Provisioner)
		if !ok {
			continue
		}
		cleanup, err := p.Provision(rc)
		if cleanup != nil {
			cleanups = append(cleanups, cleanup)
		}
		if err != nil {
			return undo, fmt.Errorf("%s: %w", name, err)
		}
	}
	return undo, nil
}

var errTimeout = errors.New("call timed out")

// What a call runs: a command's _start, or a reactor's _initialize (where
// the Go runtime, or any reactor's, starts) and then wasmgate_call, which
// serves the envelope like _start would. Engines only read these.
var (
	commandEntry = []string{abi.ExportStart}
	reactorEntry = []string{abi.ExportInitialize, abi.ExportCall}
)

// classify turns how the guest ended into a CallError, or nil for a clean
// exit. Host-side reasons come first: they explain the guest's symptoms.
func classify(parent, ctx context.Context, limits Limits, st *callState, err error, stderr *tailWriter) *CallError {
	st.mu.Lock()
	reason, misuse, internal := st.reason, st.misuse, st.internal
	st.mu.Unlock()
	switch {
	case internal != "":
		return &CallError{Kind: KindInternal, Message: "internal error in wasmgate: " + internal + " (please report this bug)"}
	case reason == KindInputRequired:
		return &CallError{Kind: KindInputRequired, Message: "the tool waits for the client's answers, which come with a later request"}
	case reason == KindOutput:
		return &CallError{Kind: KindOutput, Message: fmt.Sprintf("the tool wrote more than its output limit of %s to stdout and was stopped", limits.Output)}
	case reason != "" || ctx.Err() != nil || errors.Is(err, engine.ErrInterrupted):
		// Past its deadline a guest's answer is not trusted even if it
		// returned: its sleeps and host calls were cut short.
		if parent.Err() != nil && !errors.Is(context.Cause(parent), context.DeadlineExceeded) {
			return &CallError{Kind: KindCancelled, Message: "the call was cancelled and the tool was stopped", Err: context.Cause(parent)}
		}
		return &CallError{Kind: KindTimeout, Message: fmt.Sprintf("the tool did not finish within its time limit of %s and was stopped; if it needs longer, the operator can raise its time limit", limits.Timeout), Err: context.DeadlineExceeded}
	case misuse != "":
		return &CallError{Kind: KindHostMisuse, Message: "the tool broke the host-function calling convention: " + misuse}
	case err == nil:
		return nil
	}
	return classifyFailure(limits, err, stderr)
}

// classifyFailure is classify for a guest that failed on its own.
func classifyFailure(limits Limits, err error, stderr *tailWriter) *CallError {
	var (
		setup  *engine.SetupError
		memory *engine.MemoryLimitError
		exit   *engine.ExitError
		trap   *engine.TrapError
	)
	switch {
	case errors.As(err, &setup):
		return &CallError{Kind: KindInternal, Message: "cannot set up the call's grants: " + setup.Error(), Err: err}
	case errors.As(err, &memory):
		return &CallError{Kind: KindMemory, Message: fmt.Sprintf("the tool ran out of memory: it tried to grow past its limit of %s; if it needs more, the operator can raise its memory limit", limits.Memory), ExitCode: int(memory.ExitCode), Err: err}
	case errors.As(err, &exit):
		msg := fmt.Sprintf("the tool exited with code %d", exit.Code)
		if tail := lastLines(stderr.Bytes(), 5, 2000); tail != "" {
			msg += ": " + tail
		}
		return &CallError{Kind: KindExit, Message: msg, ExitCode: int(exit.Code), Err: err}
	case errors.As(err, &trap):
		stack := make([]string, len(trap.Stack))
		for i, f := range trap.Stack {
			stack[i] = "\t" + f
		}
		return &CallError{Kind: KindTrap, Message: "the tool crashed: " + trap.Message, Stack: strings.Join(stack, "\n"), Err: err}
	}
	first, _, _ := strings.Cut(err.Error(), "\n")
	return &CallError{Kind: KindTrap, Message: "the tool crashed: " + first, Err: err}
}

// fail records a failure.
func (o *Outcome) fail(m *Module, t target, e *CallError) {
	e.Module, e.Tool, e.Method = m.Name(), t.name, t.method
	o.Err = e
	if e.Stack != "" {
		// Engines name frames "module.func"; instances are anonymous.
		e.Stack = strings.ReplaceAll(e.Stack, "\t.", "\t"+m.Name()+".")
	}
}

// lastLines returns up to n trailing non-empty lines of b, at most max bytes,
// joined with " | " so the message stays one line.
func lastLines(b []byte, n, max int) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, " | ")
	if len(out) > max {
		out = "…" + out[len(out)-max:]
	}
	return out
}
