package wasmgate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/runtime"
)

// ToolCall is a call of one tool made by the program itself, outside any
// MCP session: what `wasmgate call` does.
type ToolCall struct {
	// Module and Tool name the tool; Module is a served module's name.
	Module, Tool string
	// Arguments is a JSON object; nil is {}.
	Arguments json.RawMessage
	// Events receives the guest's log and progress reports; nil drops
	// them.
	Events runtime.Events
	// Session names the caller in the audit record.
	Session string
}

// ArgumentsError is a ToolCall whose arguments do not match the tool's
// input schema; the guest did not run.
type ArgumentsError struct {
	Module, Tool string
	Err          error
}

func (e *ArgumentsError) Error() string {
	return fmt.Sprintf("tool %s/%s: %v", e.Module, e.Tool, e.Err)
}
func (e *ArgumentsError) Unwrap() error { return e.Err }

// Call runs one tool as a client's tools/call would: its arguments checked
// against the input schema and completed with its defaults, under the
// module's limits and the tool's grant, and recorded in the audit sink.
// Like a client's call it waits for the module to compile. The error is
// for a call that could not be attempted (an unknown module or tool, an
// *ArgumentsError, a module that failed to compile, ctx done while
// waiting); how the guest failed is in the Outcome's Err.
func (g *Gateway) Call(ctx context.Context, c ToolCall) (*runtime.Outcome, error) {
	m := g.served(c.Module)
	if m == nil {
		return nil, fmt.Errorf("module %s is not served", c.Module)
	}
	if err := m.Ready(ctx); err != nil {
		return nil, err
	}
	args := c.Arguments
	tools := m.Manifest().Tools
	if i := slices.IndexFunc(tools, func(t abi.Tool) bool { return t.Name == c.Tool }); i >= 0 {
		in, err := abi.NewInputSchema(tools[i].InputSchema)
		if err == nil {
			args, err = in.Arguments(c.Arguments)
		}
		if err != nil {
			return nil, &ArgumentsError{Module: m.Name(), Tool: c.Tool, Err: err}
		}
	}
	// A tool the module lacks is refused by Call with runtime.ErrUnknownTool.
	var grant *runtime.Grant
	if mg := g.Grants(m); mg != nil {
		grant = mg.Tools[c.Tool]
	}
	out, err := m.Call(ctx, runtime.Call{Tool: c.Tool, Arguments: args, Limits: g.Limits(m), Grant: grant, Events: c.Events})
	if err != nil {
		return nil, err
	}
	if g.opts.Audit != nil {
		g.opts.Audit.Record(audit.EntryFor(c.Session, m, c.Tool, out))
	}
	return out, nil
}
