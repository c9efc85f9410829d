// Package sdk writes wasmgate tools in Go. A tool is a typed Go function;
// the SDK decodes the call envelope into its argument type, runs it and
// writes the MCP result, derives the manifest's input and output schemas from
// the Go types, and wraps every wasmgate host function (log, progress,
// http_request, kv_*, secret_get, sample, elicit, ask, resource_updated)
// with Go errors. A module may also serve resources (Resource,
// ResourceTemplate), prompts (Prompt) and completions (Completions).
//
//	type Args struct {
//		Text string `json:"text" jsonschema:"The text to count."`
//	}
//	type Count struct {
//		Words int `json:"words"`
//	}
//
//	func init() {
//		sdk.Module(sdk.ModuleInfo{Name: "counter", Version: "0.1.0"})
//		sdk.Tool("word_count", func(ctx context.Context, a Args) (Count, error) {
//			return Count{Words: len(strings.Fields(a.Text))}, nil
//		}, sdk.Description("Count the words of a text."), sdk.ReadOnly())
//	}
//
//	func main() { sdk.Run() }
//
// Build it as a WASI command (GOOS=wasip1 GOARCH=wasm go build) or as a
// reactor (add -buildmode=c-shared; `wasmgate new` does), where the Go
// runtime starts in _initialize and the call runs in the exported
// wasmgate_call. A reactor never runs main, so register tools in init.
// Reactors are much faster per call: wasmgate runs _initialize and the
// exported wasmgate_warmup (WarmUp) once, and starts each call's fresh
// instance from a snapshot of that (abi/ABI.md, Snapshots). Run natively with -manifest,
// the same program prints its manifest (see Manifest).
//
// The SDK uses the standard library only.
package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// ModuleInfo is the module-level part of the manifest.
type ModuleInfo struct {
	Name        string
	Version     string
	Description string
	Permissions Permissions
	Limits      Limits
}

// Permissions is what the module asks for; the operator decides what it gets.
type Permissions struct {
	// Network lists host patterns: "api.example.com", "*.example.org",
	// either with ":PORT". A tool that reaches whatever it is told to
	// (a fetcher) asks for []string{"*"} instead: whatever hosts the
	// operator allows.
	Network []string `json:"network,omitempty"`
	// Files lists directories the module wants mounted.
	Files   []FileMount `json:"files,omitempty"`
	Env     []string    `json:"env,omitempty"`
	Secrets []string    `json:"secrets,omitempty"`
	KV      bool        `json:"kv,omitempty"`
	// Sampling, Elicitation and Roots ask to put questions to the client:
	// Sample, Elicit, and Ask with roots/list.
	Sampling    bool `json:"sampling,omitempty"`
	Elicitation bool `json:"elicitation,omitempty"`
	Roots       bool `json:"roots,omitempty"`
}

// FileMount is a directory the module wants at Guest, "ro" (default) or "rw".
type FileMount struct {
	Guest       string `json:"guest"`
	Mode        string `json:"mode,omitempty"`
	Description string `json:"description,omitempty"`
}

// Limits are what the module asks for itself: sizes like "64MiB", a
// duration like "5s". They can only narrow the operator's.
type Limits struct {
	Memory  string `json:"memory,omitempty"`
	Timeout string `json:"timeout,omitempty"`
	Output  string `json:"output,omitempty"`
}

// ToolAnnotations are MCP's hints about a tool's behaviour.
type ToolAnnotations struct {
	Title           string `json:"title,omitempty"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// spec holds the manifest fields that options set, for every kind of
// registration.
type spec struct {
	kind        string // "tool", "resource", "resource template", "prompt"
	title       string
	description string
	mimeType    string
	annotations *ToolAnnotations
	inSchema    json.RawMessage // set by InputSchema
	outSchema   json.RawMessage // set by OutputSchema
	misuse      []string        // options that do not apply to kind
}

func (s *spec) apply(name string, opts []Option) {
	for _, o := range opts {
		o(s)
	}
	if len(s.misuse) > 0 {
		panic(fmt.Sprintf("sdk: %s %s: %s does not apply to a %s", s.kind, name, strings.Join(s.misuse, ", "), s.kind))
	}
}

type tool struct {
	spec
	name     string
	input    map[string]any  // the input schema, for the SDK's own checks
	inputRaw json.RawMessage // the manifest's inputSchema
	output   json.RawMessage // the manifest's outputSchema; nil: none
	call     func(ctx context.Context, args json.RawMessage) (*Result, error)
	// warm decodes into the argument type and encodes the result type,
	// without calling the tool (see WarmUp).
	warm func()
}

var (
	module ModuleInfo
	tools  []*tool
)

// Module sets the module's name, version, description, permissions and
// limits for the manifest.
func Module(info ModuleInfo) { module = info }

// Option sets a manifest field of a tool, resource, resource template or
// prompt. Registering with an option that does not apply to what is
// registered (MIMEType on a tool) panics.
type Option func(*spec)

// Description is what the tool, resource or prompt is, for the model.
func Description(s string) Option { return func(t *spec) { t.description = s } }

// Title is the human-readable name.
func Title(s string) Option { return func(t *spec) { t.title = s } }

// MIMEType is the MIME type of a resource or resource template.
func MIMEType(s string) Option {
	return func(t *spec) {
		if t.kind != "resource" && t.kind != "resource template" {
			t.misuse = append(t.misuse, "MIMEType")
		}
		t.mimeType = s
	}
}

// Annotations sets a tool's behaviour hints.
func Annotations(a ToolAnnotations) Option {
	return func(t *spec) {
		if t.kind != "tool" {
			t.misuse = append(t.misuse, "Annotations")
		}
		c := a
		t.annotations = &c
	}
}

// ReadOnly marks the tool read-only and idempotent, without effects on the
// outside world (readOnlyHint, idempotentHint, openWorldHint false).
func ReadOnly() Option {
	return Annotations(ToolAnnotations{ReadOnlyHint: Bool(true), IdempotentHint: Bool(true), OpenWorldHint: Bool(false)})
}

// InputSchema replaces the input schema derived from a tool's argument
// type with schema, a JSON object schema written by hand: the manifest
// carries it verbatim, with keywords the SDK cannot derive ($defs,
// allOf, if/then/else, x-... annotations). The host validates the
// arguments against it before the call; the SDK still decodes them into
// the argument type and checks the top-level properties it understands.
func InputSchema(schema json.RawMessage) Option {
	return func(t *spec) {
		if t.kind != "tool" {
			t.misuse = append(t.misuse, "InputSchema")
		}
		t.inSchema = schema
	}
}

// OutputSchema replaces the output schema derived from a tool's result
// type with schema, verbatim. A tool with an output schema must return
// structuredContent that matches it.
func OutputSchema(schema json.RawMessage) Option {
	return func(t *spec) {
		if t.kind != "tool" {
			t.misuse = append(t.misuse, "OutputSchema")
		}
		t.outSchema = schema
	}
}

// Bool returns a pointer to b, for ToolAnnotations.
func Bool(b bool) *bool { return &b }

// Handler is a tool implementation: A is the argument type (a struct whose
// json tags name the arguments), R the result. R may be *Result (returned
// as is), string (one text item) or any JSON-encodable type, which becomes
// structuredContent with an outputSchema derived from R, and a text item
// holding R's String() when it has one, else its JSON.
type Handler[A, R any] func(ctx context.Context, args A) (R, error)

// Tool registers a tool. It panics when the name is taken, A cannot be
// described by a JSON schema or an option does not apply to a tool: all
// are programming errors.
func Tool[A, R any](name string, fn Handler[A, R], opts ...Option) {
	for _, t := range tools {
		if t.name == name {
			panic("sdk: tool " + name + " registered twice")
		}
	}
	at := reflect.TypeFor[A]()
	rt := reflect.TypeFor[R]()
	t := &tool{spec: spec{kind: "tool"}, name: name}
	t.apply(name, opts)
	in, err := schemaFor(at, true)
	if err != nil {
		panic(fmt.Sprintf("sdk: tool %s: arguments: %v", name, err))
	}
	if in["type"] != "object" {
		panic(fmt.Sprintf("sdk: tool %s: the argument type %s must be a struct or a map", name, at))
	}
	t.input = in
	if t.inSchema != nil {
		var m map[string]any
		if err := json.Unmarshal(t.inSchema, &m); err != nil || m["type"] != "object" {
			panic(fmt.Sprintf(`sdk: tool %s: InputSchema must be a JSON object schema with "type": "object"`, name))
		}
		t.input, t.inputRaw = m, t.inSchema
	} else if t.inputRaw, err = marshal(in); err != nil {
		panic(fmt.Sprintf("sdk: tool %s: arguments: %v", name, err))
	}
	structured := rt != reflect.TypeFor[*Result]() && rt != reflect.TypeFor[string]()
	switch {
	case t.outSchema != nil:
		var m map[string]any
		if err := json.Unmarshal(t.outSchema, &m); err != nil {
			panic(fmt.Sprintf("sdk: tool %s: OutputSchema must be a JSON object schema", name))
		}
		t.output = t.outSchema
	case structured:
		out, err := schemaFor(rt, false)
		if err != nil {
			panic(fmt.Sprintf("sdk: tool %s: result: %v", name, err))
		}
		if out["type"] == "object" {
			t.output, _ = marshal(out)
		}
	}
	t.call = func(ctx context.Context, raw json.RawMessage) (*Result, error) {
		var args A
		if err := decodeArgs(raw, t.input, &args); err != nil {
			return nil, err
		}
		r, err := fn(ctx, args)
		if err != nil {
			return nil, err
		}
		switch v := any(r).(type) {
		case *Result:
			if v == nil {
				return &Result{}, nil
			}
			return v, nil
		case string:
			return Text(v), nil
		}
		return structuredResult(r, t.output != nil)
	}
	t.warm = func() {
		var args A
		_ = json.Unmarshal([]byte("{}"), &args)
		_, _ = marshal(zero(rt))
	}
	tools = append(tools, t)
}

// zero is a zero value of t for encoding: for a pointer type, a pointer to
// its element's zero value, so that encoding walks the element's fields.
func zero(t reflect.Type) any {
	if t.Kind() == reflect.Pointer {
		return reflect.New(t.Elem()).Interface()
	}
	return reflect.New(t).Elem().Interface()
}

// WarmUp does once what the first call would otherwise do in every call:
// it serves a request for an unknown tool (decoding an envelope, encoding
// an error result) and decodes and encodes each tool's argument and result
// types, which fills encoding/json's caches, without calling any tool. A
// reactor exports it as wasmgate_warmup: wasmgate runs it once after
// _initialize and starts each call from a snapshot taken after it
// (abi/ABI.md, Snapshots).
func WarmUp() {
	res := handle(context.Background(), strings.NewReader(`{"method":"tools/call","params":{"name":"","arguments":{},"_meta":{}}}`))
	_, _ = marshal(res)
	for _, t := range tools {
		if t.warm != nil {
			t.warm()
		}
	}
}

func structuredResult(v any, object bool) (*Result, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	text := string(b)
	if s, ok := v.(fmt.Stringer); ok {
		text = s.String()
	}
	res := &Result{Content: []Content{{Type: "text", Text: text}}}
	if object {
		res.StructuredContent = json.RawMessage(b)
	}
	return res, nil
}

// Result is an MCP CallToolResult: content items (see TextContent,
// Image, Audio, ResourceLink, EmbeddedResource), structuredContent, and
// isError for a failure the model should see.
type Result struct {
	Content           []Content `json:"content"`
	StructuredContent any       `json:"structuredContent,omitempty"`
	IsError           bool      `json:"isError"`
}

// Text is a result with one text item.
func Text(s string) *Result { return &Result{Content: []Content{{Type: "text", Text: s}}} }

// Textf is Text with fmt.Sprintf.
func Textf(format string, args ...any) *Result { return Text(fmt.Sprintf(format, args...)) }

// Structured is a result whose structuredContent is v, with text as its
// text item (v's JSON when text is empty). v must encode as a JSON object.
func Structured(v any, text string) (*Result, error) {
	r, err := structuredResult(v, true)
	if err == nil && text != "" {
		r.Content[0].Text = text
	}
	return r, err
}

// ImageResult is a result with one image.
func ImageResult(data []byte, mimeType string) *Result {
	return &Result{Content: []Content{Image(data, mimeType)}}
}

// ToolError is a failure the model should see: the call ends with an
// isError result holding its message. Any other error a handler returns is
// reported the same way; ToolError exists so Errorf can build one and
// callers can tell it apart with errors.As.
type ToolError struct {
	Message string
	Err     error // what it wraps, if anything
}

func (e *ToolError) Error() string { return e.Message }
func (e *ToolError) Unwrap() error { return e.Err }

// Errorf returns a *ToolError formatted as fmt.Errorf does; %w wraps.
func Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &ToolError{Message: err.Error(), Err: errors.Unwrap(err)}
}

// ErrorResult is an isError result with msg as its text.
func ErrorResult(msg string) *Result {
	r := Text(msg)
	r.IsError = true
	return r
}

// request is the stdin envelope (abi/ABI.md section 3).
type request struct {
	Method   string          `json:"method"`
	Params   json.RawMessage `json:"params"`
	Template *struct {
		URITemplate string            `json:"uriTemplate"`
		Variables   map[string]string `json:"variables"`
	} `json:"template"`
	Client *ClientInfo `json:"client"`
}

// params holds the fields of every method's params.
type params struct {
	Name      string          `json:"name"`      // tools/call, prompts/get
	Arguments json.RawMessage `json:"arguments"` // tools/call, prompts/get
	URI       string          `json:"uri"`       // resources/read
	Ref       CompleteRef     `json:"ref"`       // completion/complete
	Argument  struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"argument"`
	Context *struct {
		Arguments map[string]string `json:"arguments"`
	} `json:"context"`
	Meta map[string]any `json:"_meta"`
}

type metaKey struct{}

// Meta returns the request's params._meta (the progress token among others).
func Meta(ctx context.Context) map[string]any {
	m, _ := ctx.Value(metaKey{}).(map[string]any)
	return m
}

// Serve handles one request: it reads the envelope from stdin, runs the
// tool, resource, prompt or completion handler and writes the result to
// stdout. Every problem with a tool call is an isError result, and with
// another request an {"error": ...} result; the error is non-nil only when
// stdout fails. Run calls it; tests may call it directly.
func Serve(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	res := handle(ctx, stdin)
	b, err := marshal(res)
	if err != nil {
		msg := "encoding the result: " + err.Error()
		if _, ok := res.(*Result); ok {
			b, _ = marshal(ErrorResult(msg))
		} else {
			b, _ = marshal(methodFailure(CodeInternalError, msg))
		}
	}
	_, err = stdout.Write(append(b, '\n'))
	return err
}

func handle(ctx context.Context, stdin io.Reader) any {
	data, err := io.ReadAll(stdin)
	if err != nil {
		return ErrorResult("reading the request: " + err.Error())
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return ErrorResult("the request is not a valid call envelope: " + err.Error())
	}
	var p params
	if len(req.Params) > 0 && string(req.Params) != "null" {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			msg := fmt.Sprintf("the params of %s are not valid: %v", req.Method, err)
			if req.Method == "tools/call" {
				return ErrorResult(msg)
			}
			return methodFailure(CodeInvalidParams, msg)
		}
	}
	ctx = context.WithValue(ctx, metaKey{}, p.Meta)
	ctx = context.WithValue(ctx, clientKey{}, req.Client)
	switch req.Method {
	case "tools/call":
		return callTool(ctx, &p)
	case "resources/read":
		return readResource(ctx, &req, &p)
	case "prompts/get":
		return getPrompt(ctx, &p)
	case "completion/complete":
		return complete(ctx, &p)
	}
	return methodFailure(CodeInternalError, fmt.Sprintf("unsupported method %q: this module serves tools/call, resources/read, prompts/get and completion/complete", req.Method))
}

func callTool(ctx context.Context, p *params) *Result {
	var t *tool
	for _, c := range tools {
		if c.name == p.Name {
			t = c
		}
	}
	if t == nil {
		names := make([]string, len(tools))
		for i, c := range tools {
			names[i] = c.name
		}
		if len(names) == 0 {
			return ErrorResult("this module registers no tools (a reactor runs init but never main: register tools in init)")
		}
		return ErrorResult(fmt.Sprintf("unknown tool %q: this module has %s", p.Name, strings.Join(names, ", ")))
	}
	res, err := t.call(ctx, p.Arguments)
	if err != nil {
		return ErrorResult(err.Error())
	}
	return res
}

// decodeArgs checks raw against the input schema's top level (unknown,
// missing and mistyped arguments become tool errors naming them), applies
// defaults and decodes into dst.
func decodeArgs(raw json.RawMessage, schema map[string]any, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Errorf("arguments must be a JSON object")
	}
	props, _ := schema["properties"].(map[string]any)
	if props != nil && schema["additionalProperties"] == false {
		var extra []string
		for k := range obj {
			if _, ok := props[k]; !ok {
				extra = append(extra, fmt.Sprintf("%q", k))
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			known := make([]string, 0, len(props))
			for k := range props {
				known = append(known, k)
			}
			sort.Strings(known)
			return Errorf("unknown argument %s: this tool takes %s", strings.Join(extra, ", "), strings.Join(known, ", "))
		}
	}
	for _, name := range requiredNames(schema) {
		if v, ok := obj[name]; !ok || string(v) == "null" {
			return Errorf("missing required argument %q (%s)", name, describe(props[name]))
		}
	}
	changed := false
	for name, p := range props {
		ps, _ := p.(map[string]any)
		if d, ok := ps["default"]; ok {
			if _, present := obj[name]; !present {
				b, _ := json.Marshal(d)
				obj[name], changed = b, true
			}
		}
	}
	if changed {
		raw, _ = json.Marshal(obj)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Errorf("argument %q must be %s, got %s", te.Field, describe(propAt(props, te.Field)), te.Value)
		}
		return Errorf("invalid arguments: %v", err)
	}
	for name, p := range props {
		if err := checkBounds(name, p, obj[name]); err != nil {
			return err
		}
	}
	return nil
}

// requiredNames reads "required" from a derived schema ([]string) or a
// decoded one ([]any).
func requiredNames(schema map[string]any) []string {
	switch r := schema["required"].(type) {
	case []string:
		return r
	case []any:
		names := make([]string, 0, len(r))
		for _, n := range r {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
		return names
	}
	return nil
}

func propAt(props map[string]any, field string) any {
	first, _, _ := strings.Cut(field, ".")
	return props[first]
}

// checkBounds checks minimum, maximum and enum of a top-level argument.
func checkBounds(name string, p any, raw json.RawMessage) error {
	ps, _ := p.(map[string]any)
	if ps == nil || len(raw) == 0 {
		return nil
	}
	if enum, ok := ps["enum"].([]any); ok {
		var v any
		_ = json.Unmarshal(raw, &v)
		for _, e := range enum {
			if e == v {
				return nil
			}
		}
		return Errorf("argument %q must be one of %s, got %s", name, jsonList(enum), raw)
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil {
		return nil
	}
	lo, hasLo := ps["minimum"].(float64)
	hi, hasHi := ps["maximum"].(float64)
	if hasLo && hasHi && (f < lo || f > hi) {
		return Errorf("argument %q must be between %v and %v, got %s", name, lo, hi, raw)
	}
	if hasLo && f < lo {
		return Errorf("argument %q must be at least %v, got %s", name, lo, raw)
	}
	if hasHi && f > hi {
		return Errorf("argument %q must be at most %v, got %s", name, hi, raw)
	}
	return nil
}

func jsonList(vs []any) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		b, _ := json.Marshal(v)
		s[i] = string(b)
	}
	return strings.Join(s, ", ")
}

// describe names what a schema accepts: "a string", "an integer".
func describe(p any) string {
	ps, _ := p.(map[string]any)
	switch ps["type"] {
	case "string":
		return "a string"
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "boolean":
		return "a boolean"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return "a JSON value"
}

func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}
