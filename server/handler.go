package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// handle serves one tools/call. Guest failures are tool errors, never
// protocol errors, and a panic anywhere in here becomes a tool error too:
// the SDK does not recover panics, and one would end the process.
func (t *tool) handle(ctx context.Context, req *mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			t.logPanic(p)
			res, err = errorResult(fmt.Sprintf("tool %s/%s: internal error in wasmgate: %v (please report this bug)", t.mod.Name(), t.man.Name, p)), nil
		}
	}()
	leave, ok := t.reg.enter(t.mod)
	if !ok {
		if now := t.reg.current().toolNamed[t.name]; now != nil && now != t {
			return now.handle(ctx, req)
		}
		return errorResult(goneMessage(t.mod, "tool "+t.name)), nil
	}
	defer leave()
	var raw json.RawMessage
	var meta map[string]any
	var reqState string
	var responses mcp.InputResponseMap
	if req.Params != nil {
		raw, meta = req.Params.Arguments, req.Params.Meta
		reqState, responses = req.Params.RequestState, req.Params.InputResponses
	}
	args, msg := t.arguments(raw)
	if msg != "" {
		return errorResult(msg), nil
	}
	pr := peerOf(req)
	ask, err := t.reg.newAsker(req.Session, pr, bindFor(pr, "tools/call", t.name, args), reqState, responses)
	if err != nil {
		return nil, err
	}

	ctx, release, detach := t.reg.calls.trackDetachable(ctx, req.Extra)
	defer release()
	if req.Session != nil {
		defer t.reg.running.start(req.Session.ID())()
	}
	if d := t.reg.opts.PollAfter; d > 0 && req.Extra != nil && req.Extra.CloseSSEStream != nil {
		// A long call gives its HTTP stream back: the client reconnects
		// after d and gets the result from the event store (SEP-1699).
		poll := time.AfterFunc(d, func() {
			detach()
			req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: d})
		})
		defer poll.Stop()
	}
	var token any
	if req.Params != nil {
		token = req.Params.GetProgressToken()
	}
	ev := newEvents(ctx, t.reg.server, req.Session, token, t.mod.Name())
	out, err := t.mod.Call(ctx, runtime.Call{
		Tool:       t.man.Name,
		Arguments:  args,
		Meta:       meta,
		Limits:     t.limits,
		Events:     ask.events(ev),
		Grant:      t.grant,
		Client:     ask,
		ClientInfo: pr.info(),
	})
	dropped := ev.finish()
	if err != nil {
		// Only a call that cannot be attempted gets here (arguments that are
		// not an object); the checks above rule that out.
		return errorResult(err.Error()), nil
	}
	// The audit record first: if logging fails (a closed stderr), the
	// record is already written.
	if t.reg.opts.OnCall != nil {
		session := ""
		if req.Session != nil {
			session = req.Session.ID()
		}
		t.reg.opts.OnCall(ctx, session, t.info, out)
	}
	t.logCall(out, dropped)
	if out.Err != nil && out.Err.Kind == runtime.KindInputRequired && ask.replay != nil {
		ir, err := ask.replay.inputRequired()
		if je := (*jsonrpc.Error)(nil); errors.As(err, &je) {
			return nil, je
		}
		if err != nil {
			return errorResult(fmt.Sprintf("tool %s/%s: %v", t.mod.Name(), t.man.Name, err)), nil
		}
		return &mcp.CallToolResult{InputRequests: ir.requests, RequestState: ir.state}, nil
	}
	res = CallToolResult(out)
	if out.Err != nil {
		return res, nil
	}
	return t.checkResult(res), nil
}

// arguments validates the call's arguments against the input schema after
// applying its defaults. It returns the arguments to pass to the guest, or
// a message for the caller saying which field is wrong.
func (t *tool) arguments(raw json.RawMessage) (json.RawMessage, string) {
	args, err := t.in.Arguments(raw)
	if err != nil {
		return nil, err.Error()
	}
	return args, ""
}

// checkResult applies the output schema to a successful result and adds a
// text item for clients that do not read structuredContent.
func (t *tool) checkResult(res *mcp.CallToolResult) *mcp.CallToolResult {
	if res.IsError {
		return res
	}
	if res.StructuredContent == nil {
		if t.out != nil {
			return errorResult(fmt.Sprintf("tool %s/%s declares an outputSchema but returned no structuredContent", t.mod.Name(), t.man.Name))
		}
		return res
	}
	if t.out != nil {
		// abi decoded the guest's JSON into plain values (maps, slices,
		// float64s, strings) when it parsed the reply: the schema checks
		// them as they are.
		v := res.StructuredContent
		if err := t.out.Validate(&v); err != nil {
			return errorResult(fmt.Sprintf("tool %s/%s returned structuredContent that does not match its outputSchema: %s", t.mod.Name(), t.man.Name, abi.DescribeSchemaError(err, t.out)))
		}
	}
	for _, c := range res.Content {
		if _, ok := c.(*mcp.TextContent); ok {
			return res
		}
	}
	data, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return errorResult(fmt.Sprintf("tool %s/%s returned structuredContent that cannot be encoded: %v", t.mod.Name(), t.man.Name, err))
	}
	res.Content = append(res.Content, &mcp.TextContent{Text: string(data)})
	return res
}

// logCall reports the call and the tail of the guest's stderr.
func (t *tool) logCall(out *runtime.Outcome, dropped int) {
	l := t.reg.logger
	attrs := []any{"tool", t.name, "module", t.mod.Name(), "took", out.Duration.Round(time.Microsecond)}
	switch {
	case out.Err != nil && out.Err.Kind != runtime.KindToolError && out.Err.Kind != runtime.KindInputRequired:
		l.Info("call failed", append(attrs, "kind", string(out.Err.Kind), "error", out.Err.Message)...)
	case out.Err != nil:
		l.Debug("call returned a tool error", attrs...)
	default:
		l.Debug("call", attrs...)
	}
	t.reg.logTail(attrs, out, dropped)
}

// logTail reports dropped events and the tail of a guest's stderr.
func (r *Registry) logTail(attrs []any, out *runtime.Outcome, dropped int) {
	l := r.logger
	if dropped > 0 || out.EventsDropped > 0 {
		l.Info("log and progress reports dropped", append(attrs, "slow_client", dropped, "over_limit", out.EventsDropped)...)
	}
	if r.stderrLog > 0 && len(out.Stderr) > 0 {
		tail, cut := out.Stderr, out.StderrDropped
		if len(tail) > r.stderrLog {
			cut += int64(len(tail) - r.stderrLog)
			tail = tail[len(tail)-r.stderrLog:]
		}
		l.Info("guest stderr", append(attrs, "stderr", strings.ToValidUTF8(string(tail), "\uFFFD"), "earlier_bytes_dropped", cut)...)
	}
}

// logPanic logs a recovered panic; a logger that panics too is ignored.
func (t *tool) logPanic(p any) {
	defer func() { _ = recover() }()
	t.reg.logger.Error("panic in tool call", "tool", t.name, "module", t.mod.Name(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// logPanic logs a panic recovered while serving a request.
func (r *Registry) logPanic(p any, module, name string) {
	defer func() { _ = recover() }()
	r.logger.Error("panic in request", "module", module, "name", name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// logRequest reports a resources/read, prompts/get or completion/complete
// and the tail of its guest's stderr.
func (r *Registry) logRequest(m *runtime.Module, method, name string, out *runtime.Outcome, dropped int) {
	attrs := []any{"method", method, "name", name, "module", m.Name(), "took", out.Duration.Round(time.Microsecond)}
	switch {
	case out.Err != nil && out.Err.Kind != runtime.KindToolError && out.Err.Kind != runtime.KindInputRequired:
		r.logger.Info("request failed", append(attrs, "kind", string(out.Err.Kind), "error", out.Err.Message)...)
	default:
		r.logger.Debug("request", attrs...)
	}
	r.logTail(attrs, out, dropped)
}
