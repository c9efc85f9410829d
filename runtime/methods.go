package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/abi"
)

// ErrUnknownPrompt is returned by GetPrompt for a prompt the manifest does
// not declare.
var ErrUnknownPrompt = errors.New("unknown prompt")

// ReadResource serves resources/read of uri in a fresh instance. match is
// the resource template uri matched, or nil for one of the manifest's fixed
// resources. c supplies the limits, events, grant and client; its Tool and
// Arguments are ignored. On success the Outcome's Resource is set; a guest's error is its
// GuestError, with an Err of KindToolError.
func (m *Module) ReadResource(ctx context.Context, uri string, match *abi.TemplateMatch, c Call) (*Outcome, error) {
	declared := ""
	if match != nil {
		for _, t := range m.manifest.ResourceTemplates {
			if t.URITemplate == match.URITemplate {
				declared = t.MIMEType
			}
		}
	} else {
		for _, r := range m.manifest.Resources {
			if r.URI == uri {
				declared = r.MIMEType
			}
		}
	}
	t := target{abi.MethodResourcesRead, uri}
	return m.serve(ctx, c, t, abi.ReadRequest(uri, match, c.Meta), func(out *Outcome, reply []byte) *CallError {
		res, gerr, err := abi.ParseReadResult(reply, uri, declared)
		out.Resource = res
		return replyError(out, gerr, err)
	})
}

// GetPrompt serves prompts/get of the manifest's prompt name with args in
// a fresh instance. On success the Outcome's Prompt is set.
func (m *Module) GetPrompt(ctx context.Context, name string, args map[string]string, c Call) (*Outcome, error) {
	var p *abi.Prompt
	for i := range m.manifest.Prompts {
		if m.manifest.Prompts[i].Name == name {
			p = &m.manifest.Prompts[i]
		}
	}
	if p == nil {
		return nil, fmt.Errorf("module %s has no prompt %q: %w", m.Name(), name, ErrUnknownPrompt)
	}
	for _, a := range p.Arguments {
		if _, ok := args[a.Name]; a.Required && !ok {
			return nil, fmt.Errorf("prompt %s needs the argument %q", name, a.Name)
		}
	}
	return m.serve(ctx, c, target{abi.MethodPromptsGet, name}, abi.PromptRequest(name, args, c.Meta), func(out *Outcome, reply []byte) *CallError {
		res, gerr, err := abi.ParsePromptResult(reply)
		out.Prompt = res
		return replyError(out, gerr, err)
	})
}

// Complete serves completion/complete in a fresh instance, for a module
// whose manifest declares completions. On success the Outcome's Completion
// is set.
func (m *Module) Complete(ctx context.Context, p abi.CompleteParams, c Call) (*Outcome, error) {
	if !m.manifest.Completions {
		return nil, fmt.Errorf("module %s does not declare completions", m.Name())
	}
	what := p.Ref.Name
	if p.Ref.Type == "ref/resource" {
		what = p.Ref.URI
	}
	what += " argument " + p.Argument.Name
	p.Meta = c.Meta
	return m.serve(ctx, c, target{abi.MethodCompletionComp, what}, abi.CompleteRequest(p), func(out *Outcome, reply []byte) *CallError {
		res, gerr, err := abi.ParseCompleteResult(reply)
		out.Completion = res
		return replyError(out, gerr, err)
	})
}

// replyError is the failure of a reply to a method other than tools/call:
// invalid_output when it is not a valid result (err), a tool error when the
// guest reported an error (gerr, kept in the Outcome's GuestError).
func replyError(out *Outcome, gerr *abi.GuestError, err error) *CallError {
	switch {
	case err != nil:
		return &CallError{Kind: KindInvalidOutput, Message: err.Error()}
	case gerr != nil:
		out.GuestError = gerr
		return &CallError{Kind: KindToolError, Message: "the module reported an error: " + gerr.Message}
	}
	return nil
}
