package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// JSON-RPC error codes for RequestError: what the client receives when a
// resources/read, prompts/get or completion/complete fails.
const (
	CodeResourceNotFound = -32002 // MCP's "resource not found"
	CodeInvalidParams    = -32602
	CodeInternalError    = -32603
)

// RequestError fails a resources/read, prompts/get or completion/complete
// with a JSON-RPC error code (CodeResourceNotFound, CodeInvalidParams or
// CodeInternalError; the host reports any other as CodeInternalError).
// Any other error a handler returns is reported with CodeInternalError.
type RequestError struct {
	Code    int
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// RequestErrorf returns a *RequestError with code and a message formatted
// as fmt.Sprintf does.
func RequestErrorf(code int, format string, args ...any) error {
	return &RequestError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// failure is the {"error": {...}} a guest writes to fail a request other
// than tools/call.
type failure struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func methodFailure(code int, msg string) *failure {
	f := &failure{}
	f.Error.Code, f.Error.Message = code, msg
	if msg == "" {
		f.Error.Message = "the request failed"
	}
	return f
}

func errorFailure(err error) *failure {
	if re := (*RequestError)(nil); errors.As(err, &re) {
		return methodFailure(re.Code, re.Message)
	}
	return methodFailure(CodeInternalError, err.Error())
}

// ReadRequest is a resources/read: the URI to read and, for a URI that
// matched a resource template, the template and the values of its
// variables.
type ReadRequest struct {
	URI       string
	Template  string            // the matched URI template; "" for a fixed resource
	Variables map[string]string // the template's variables, by name
}

// ResourceHandler serves resources/read. Items without a URI take the
// requested one. Return a RequestError with CodeResourceNotFound for a
// URI that names nothing.
type ResourceHandler func(ctx context.Context, req ReadRequest) ([]ResourceContents, error)

type resource struct {
	spec
	uri, name string
	template  bool
	read      ResourceHandler
}

var resources []*resource

// Resource registers a fixed resource at uri, named name, read through
// fn. Options: Title, Description, MIMEType. It panics when the URI is
// taken.
func Resource(uri, name string, fn ResourceHandler, opts ...Option) {
	addResource(&resource{spec: spec{kind: "resource"}, uri: uri, name: name, read: fn}, opts)
}

// ResourceTemplate registers an RFC 6570 URI template of resources
// ("docs://{id}"), named name, read through fn with the values of the
// template's variables. Options as for Resource.
func ResourceTemplate(uriTemplate, name string, fn ResourceHandler, opts ...Option) {
	addResource(&resource{spec: spec{kind: "resource template"}, uri: uriTemplate, name: name, template: true, read: fn}, opts)
}

func addResource(r *resource, opts []Option) {
	for _, o := range resources {
		if o.uri == r.uri && o.template == r.template {
			panic(fmt.Sprintf("sdk: %s %s registered twice", r.kind, r.uri))
		}
	}
	r.apply(r.uri, opts)
	resources = append(resources, r)
}

func readResource(ctx context.Context, req *request, p *params) any {
	rr := ReadRequest{URI: p.URI}
	var r *resource
	for _, c := range resources {
		switch {
		case req.Template != nil && c.template && c.uri == req.Template.URITemplate:
			r, rr.Template, rr.Variables = c, c.uri, req.Template.Variables
		case req.Template == nil && !c.template && c.uri == p.URI:
			r = c
		}
	}
	if rr.Variables == nil {
		rr.Variables = map[string]string{}
	}
	if r == nil {
		return methodFailure(CodeResourceNotFound, fmt.Sprintf("resource not found: %s (this module registers no resource or template for it)", p.URI))
	}
	contents, err := r.read(ctx, rr)
	if err != nil {
		return errorFailure(err)
	}
	if contents == nil {
		contents = []ResourceContents{}
	}
	return struct {
		Contents []ResourceContents `json:"contents"`
	}{contents}
}

// PromptResult is what prompts/get returns: messages (see UserMessage,
// AssistantMessage) and an optional description.
type PromptResult struct {
	Description string    `json:"description,omitempty"`
	Messages    []Message `json:"messages"`
}

// PromptHandler serves prompts/get. A is a struct of string fields, one
// per argument, named by their json tags (or map[string]string).
type PromptHandler[A any] func(ctx context.Context, args A) (*PromptResult, error)

type promptArg struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

type prompt struct {
	spec
	name string
	args []promptArg
	get  func(ctx context.Context, args json.RawMessage) (*PromptResult, error)
}

var prompts []*prompt

// Prompt registers a prompt. Its arguments come from A's fields: each
// string field (or *string) is an argument named by its json tag,
// described by its jsonschema tag, and required unless it is a pointer or
// has omitempty. Options: Title, Description. It panics when the name is
// taken or A has a field that is not a string.
func Prompt[A any](name string, fn PromptHandler[A], opts ...Option) {
	for _, p := range prompts {
		if p.name == name {
			panic("sdk: prompt " + name + " registered twice")
		}
	}
	p := &prompt{spec: spec{kind: "prompt"}, name: name}
	p.apply(name, opts)
	args, err := promptArgs(reflect.TypeFor[A]())
	if err != nil {
		panic(fmt.Sprintf("sdk: prompt %s: %v", name, err))
	}
	p.args = args
	p.get = func(ctx context.Context, raw json.RawMessage) (*PromptResult, error) {
		var a A
		if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, RequestErrorf(CodeInvalidParams, "the arguments of prompt %s must be an object of strings: %v", name, err)
			}
		}
		return fn(ctx, a)
	}
	prompts = append(prompts, p)
}

// promptArgs lists the arguments of a prompt argument type, in field order.
func promptArgs(t reflect.Type) ([]promptArg, error) {
	if t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
		return nil, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the argument type %s must be a struct of strings or a map[string]string", t)
	}
	var args []promptArg
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			inner, err := promptArgs(f.Type)
			if err != nil {
				return nil, err
			}
			args = append(args, inner...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		ft := f.Type
		pointer := ft.Kind() == reflect.Pointer
		if pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.String {
			return nil, fmt.Errorf("field %s is %s: prompt arguments are strings", f.Name, f.Type)
		}
		if name == "" {
			name = f.Name
		}
		optional := pointer || strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		args = append(args, promptArg{Name: name, Description: f.Tag.Get("jsonschema"), Required: !optional})
	}
	return args, nil
}

func getPrompt(ctx context.Context, p *params) any {
	var pr *prompt
	for _, c := range prompts {
		if c.name == p.Name {
			pr = c
		}
	}
	if pr == nil {
		return methodFailure(CodeInvalidParams, fmt.Sprintf("unknown prompt %q", p.Name))
	}
	res, err := pr.get(ctx, p.Arguments)
	if err != nil {
		return errorFailure(err)
	}
	if res == nil {
		res = &PromptResult{}
	}
	if res.Messages == nil {
		res.Messages = []Message{}
	}
	return res
}

// CompleteRef is what a completion is for: a prompt (Type "ref/prompt",
// Name) or a resource template (Type "ref/resource", URI the template).
type CompleteRef struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// CompleteRequest is a completion/complete: the argument of a prompt or
// the variable of a resource template being typed, its partial value, and
// the values of the arguments already given.
type CompleteRequest struct {
	Ref       CompleteRef
	Argument  string
	Value     string
	Arguments map[string]string
}

// Completion is the answer to a completion/complete: at most 100 values
// (the host cuts a longer list and sets HasMore), the total number of
// matches when known, and whether there are more than those listed.
type Completion struct {
	Values  []string `json:"values"`
	Total   int      `json:"total,omitempty"`
	HasMore bool     `json:"hasMore,omitempty"`
}

// CompletionHandler serves completion/complete for every prompt argument
// and template variable of the module.
type CompletionHandler func(ctx context.Context, req CompleteRequest) (*Completion, error)

var completer CompletionHandler

// Completions registers the module's completion handler, and declares
// "completions": true in the manifest.
func Completions(fn CompletionHandler) { completer = fn }

// CompletePrefix is a completion of the values that start with prefix.
func CompletePrefix(values []string, prefix string) *Completion {
	c := &Completion{Values: []string{}}
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			c.Values = append(c.Values, v)
		}
	}
	c.Total = len(c.Values)
	return c
}

func complete(ctx context.Context, p *params) any {
	c := &Completion{}
	if completer != nil {
		req := CompleteRequest{Ref: p.Ref, Argument: p.Argument.Name, Value: p.Argument.Value, Arguments: map[string]string{}}
		if p.Context != nil && p.Context.Arguments != nil {
			req.Arguments = p.Context.Arguments
		}
		r, err := completer(ctx, req)
		if err != nil {
			return errorFailure(err)
		}
		if r != nil {
			c = r
		}
	}
	if c.Values == nil {
		c.Values = []string{}
	}
	return struct {
		Completion *Completion `json:"completion"`
	}{c}
}
