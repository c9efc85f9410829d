package runtime

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
)

// ErrUnknownPrompt is returned by GetPrompt for a prompt the manifest does
// not declare.
var ErrUnknownPrompt = errors.New("unknown prompt")

// MaxCompletionValues is the most values a completion may hold (MCP's
// limit); a guest's longer list is cut there with hasMore set.
const MaxCompletionValues = 100

// ReadResource serves resources/read of uri in a fresh instance. match is
// the resource template uri matched, or nil for one of the manifest's fixed
// resources. c supplies the limits, events, grant and client; its Tool and
// Arguments are ignored. On success the Outcome's Resource is set.
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
	mime := declared
	if mime == "" {
		mime = "text/plain"
	}
	return m.serveMethod(ctx, c, target{abi.MethodResourcesRead, uri}, abi.ReadRequest(uri, match, c.Meta), "contents",
		func(out *Outcome, stdout []byte) *CallError {
			out.Resource = &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: mime, Text: string(stdout)}}}
			return nil
		},
		func(out *Outcome, raw json.RawMessage) (err error) {
			if out.Resource, err = parseReadResult(raw, uri); err != nil {
				return err
			}
			for _, c := range out.Resource.Contents {
				if c.MIMEType == "" && c.URI == uri {
					c.MIMEType = declared
				}
			}
			return nil
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
	return m.serveMethod(ctx, c, target{abi.MethodPromptsGet, name}, abi.PromptRequest(name, args, c.Meta), "messages",
		func(out *Outcome, stdout []byte) *CallError {
			out.Prompt = &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: string(stdout)}}}}
			return nil
		},
		func(out *Outcome, raw json.RawMessage) (err error) {
			out.Prompt, err = parsePromptResult(raw)
			return err
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
	return m.serveMethod(ctx, c, target{abi.MethodCompletionComp, what}, abi.CompleteRequest(p), "completion",
		func(*Outcome, []byte) *CallError {
			return &CallError{Kind: KindInvalidOutput, Message: `the module's output is not a completion/complete result: write {"completion": {"values": [...]}}`}
		},
		func(out *Outcome, raw json.RawMessage) (err error) {
			out.Completion, err = parseCompleteResult(raw)
			return err
		})
}

// serveMethod serves a method other than tools/call: key is the field of
// its result ("contents", "messages", "completion"). A guest's
// {"error": ...} becomes the Outcome's GuestError; output without key goes
// to plain; a result goes to parse, whose error makes it invalid_output.
func (m *Module) serveMethod(ctx context.Context, c Call, t target, req abi.Request, key string,
	plain func(*Outcome, []byte) *CallError, parse func(*Outcome, json.RawMessage) error) (*Outcome, error) {
	return m.serve(ctx, c, t, req, func(out *Outcome, stdout []byte) *CallError {
		raw, gerr, cerr := methodOutput(stdout, key)
		switch {
		case cerr != nil:
			return cerr
		case gerr != nil:
			out.guestError(m, t, gerr)
			return nil
		case raw == nil:
			return plain(out, stdout)
		}
		if err := parse(out, raw); err != nil {
			return &CallError{Kind: KindInvalidOutput, Message: fmt.Sprintf("the module's output is not a valid %s result: %v", t.method, err)}
		}
		return nil
	})
}

func (o *Outcome) guestError(m *Module, t target, g *abi.GuestError) {
	switch g.Code {
	case abi.ErrorCodeNotFound, abi.ErrorCodeInvalidParams, abi.ErrorCodeInternal:
	default:
		g.Code = abi.ErrorCodeInternal
	}
	o.GuestError = g
	o.Err = &CallError{Kind: KindToolError, Module: m.Name(), Tool: t.name, Method: t.method, Message: "the module reported an error: " + g.Message}
}

// methodOutput sorts a guest's stdout for a method other than tools/call:
// a JSON object with the result's key (raw is the whole object), a JSON
// object with "error" (gerr), or anything else, which is plain text (all
// nil) for the caller to wrap.
func methodOutput(stdout []byte, key string) (raw json.RawMessage, gerr *abi.GuestError, cerr *CallError) {
	if !utf8.Valid(stdout) {
		return nil, nil, &CallError{Kind: KindInvalidOutput, Message: "the module's output is not valid UTF-8"}
	}
	trimmed := bytes.TrimSpace(stdout)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(trimmed, &fields) != nil {
		return nil, nil, nil
	}
	if e, ok := fields["error"]; ok {
		var g abi.GuestError
		if err := json.Unmarshal(e, &g); err != nil || g.Message == "" {
			return nil, nil, &CallError{Kind: KindInvalidOutput, Message: fmt.Sprintf(`the module's error must be {"error": {"code": N, "message": "..."}} with a message, got %s`, clip(e))}
		}
		return nil, &g, nil
	}
	if _, ok := fields[key]; ok {
		return trimmed, nil, nil
	}
	return nil, nil, nil
}

func parseReadResult(raw json.RawMessage, uri string) (*mcp.ReadResourceResult, error) {
	var w struct {
		Contents []map[string]json.RawMessage `json:"contents"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New("contents must be an array of objects")
	}
	res := &mcp.ReadResourceResult{Contents: make([]*mcp.ResourceContents, 0, len(w.Contents))}
	for i, item := range w.Contents {
		rc, err := parseResourceContents(item, uri)
		if err != nil {
			return nil, fmt.Errorf("contents[%d]: %w", i, err)
		}
		res.Contents = append(res.Contents, rc)
	}
	return res, nil
}

// parseResourceContents checks one text or blob resource item. A missing
// uri takes defaultURI when that is set.
func parseResourceContents(item map[string]json.RawMessage, defaultURI string) (*mcp.ResourceContents, error) {
	var rc mcp.ResourceContents
	str := func(name string, dst *string) error {
		v, ok := item[name]
		if !ok {
			return nil
		}
		if json.Unmarshal(v, dst) != nil {
			return fmt.Errorf("%q must be a string, got %s", name, clip(v))
		}
		return nil
	}
	var text, blob string
	for name, dst := range map[string]*string{"uri": &rc.URI, "mimeType": &rc.MIMEType, "text": &text, "blob": &blob} {
		if err := str(name, dst); err != nil {
			return nil, err
		}
	}
	if rc.URI == "" {
		if defaultURI == "" {
			return nil, errors.New(`needs "uri"`)
		}
		rc.URI = defaultURI
	}
	_, hasText := item["text"]
	_, hasBlob := item["blob"]
	switch {
	case hasText && hasBlob:
		return nil, errors.New(`has both "text" and "blob": use one`)
	case hasBlob:
		b, err := base64.StdEncoding.DecodeString(blob)
		if err != nil {
			return nil, fmt.Errorf(`"blob" is not standard base64: %v`, err)
		}
		rc.Blob = b
		if len(b) == 0 {
			rc.Blob = []byte{}
		}
	case hasText:
		rc.Text = text
	default:
		return nil, errors.New(`needs "text" or "blob"`)
	}
	if v, ok := item["_meta"]; ok {
		if err := json.Unmarshal(v, &rc.Meta); err != nil {
			return nil, fmt.Errorf(`"_meta" must be an object, got %s`, clip(v))
		}
	}
	return &rc, nil
}

func parsePromptResult(raw json.RawMessage) (*mcp.GetPromptResult, error) {
	var w struct {
		Description json.RawMessage   `json:"description"`
		Messages    []json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New("messages must be an array of objects")
	}
	res := &mcp.GetPromptResult{Messages: make([]*mcp.PromptMessage, 0, len(w.Messages))}
	if w.Description != nil && json.Unmarshal(w.Description, &res.Description) != nil {
		return nil, fmt.Errorf("description must be a string, got %s", clip(w.Description))
	}
	for i, m := range w.Messages {
		var msg struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		}
		if json.Unmarshal(m, &msg) != nil {
			return nil, fmt.Errorf("messages[%d] must be an object with role and content", i)
		}
		if msg.Role != "user" && msg.Role != "assistant" {
			return nil, fmt.Errorf(`messages[%d].role must be "user" or "assistant", got %q`, i, msg.Role)
		}
		if err := checkContent(msg.Content); err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		var pm mcp.PromptMessage
		if err := json.Unmarshal(m, &pm); err != nil {
			return nil, fmt.Errorf("messages[%d]: %v", i, err)
		}
		res.Messages = append(res.Messages, &pm)
	}
	return res, nil
}

func parseCompleteResult(raw json.RawMessage) (*mcp.CompleteResult, error) {
	var w struct {
		Completion *struct {
			Values  []string `json:"values"`
			Total   *int     `json:"total"`
			HasMore bool     `json:"hasMore"`
		} `json:"completion"`
	}
	if err := json.Unmarshal(raw, &w); err != nil || w.Completion == nil {
		return nil, errors.New(`want {"completion": {"values": ["..."], "total": N, "hasMore": false}} with values an array of strings`)
	}
	c := w.Completion
	res := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: c.Values, HasMore: c.HasMore}}
	if res.Completion.Values == nil {
		res.Completion.Values = []string{}
	}
	if c.Total != nil {
		if *c.Total < 0 {
			return nil, fmt.Errorf("completion.total must not be negative, got %d", *c.Total)
		}
		res.Completion.Total = *c.Total
	}
	if len(res.Completion.Values) > MaxCompletionValues {
		if res.Completion.Total < len(res.Completion.Values) {
			res.Completion.Total = len(res.Completion.Values)
		}
		res.Completion.Values = res.Completion.Values[:MaxCompletionValues]
		res.Completion.HasMore = true
	}
	return res, nil
}
