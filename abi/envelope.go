package abi

import "encoding/json"

// Methods a guest may be asked to serve. The envelope has the same shape for
// each: the MCP method name and its params.
const (
	MethodToolsCall      = "tools/call"
	MethodResourcesRead  = "resources/read"
	MethodPromptsGet     = "prompts/get"
	MethodCompletionComp = "completion/complete"
)

// Request is the envelope a guest reads from stdin: one JSON object per
// call, shaped like the MCP request it serves.
type Request struct {
	Method string `json:"method"`
	Params any    `json:"params"`
	// Template is set on a resources/read of a URI that matched one of the
	// module's resource templates rather than a fixed resource.
	Template *TemplateMatch `json:"template,omitempty"`
	// Client describes the MCP client the request comes from, when there
	// is one.
	Client *ClientInfo `json:"client,omitempty"`
}

// ClientInfo is what a guest is told of the MCP client: the protocol
// revision it speaks and the capabilities it declared, as MCP spells them
// ("sampling", "elicitation", "roots", ...). A guest asks only what the
// client can answer.
type ClientInfo struct {
	ProtocolVersion string                     `json:"protocolVersion,omitempty"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
}

// CallParams are the params of a tools/call request.
type CallParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Meta      map[string]any  `json:"_meta,omitempty"`
}

// ReadParams are the params of a resources/read request.
type ReadParams struct {
	URI  string         `json:"uri"`
	Meta map[string]any `json:"_meta,omitempty"`
}

// TemplateMatch says which resource template a URI matched and the values
// of the template's variables in it.
type TemplateMatch struct {
	URITemplate string            `json:"uriTemplate"`
	Variables   map[string]string `json:"variables"`
}

// PromptParams are the params of a prompts/get request. Name is the
// prompt's name in the manifest, whatever name the server lists it under.
type PromptParams struct {
	Name      string            `json:"name"`
	Arguments map[string]string `json:"arguments"`
	Meta      map[string]any    `json:"_meta,omitempty"`
}

// CompleteParams are the params of a completion/complete request, as MCP
// defines them. A ref/prompt names the prompt as the manifest does.
type CompleteParams struct {
	Ref      CompleteRef      `json:"ref"`
	Argument CompleteArgument `json:"argument"`
	Context  *CompleteContext `json:"context,omitempty"`
	Meta     map[string]any   `json:"_meta,omitempty"`
}

// CompleteRef is what a completion is for: a prompt (Type "ref/prompt",
// Name) or a resource template (Type "ref/resource", URI the template).
type CompleteRef struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// CompleteArgument is the argument being completed and its partial value.
type CompleteArgument struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CompleteContext holds the values of arguments already given.
type CompleteContext struct {
	Arguments map[string]string `json:"arguments,omitempty"`
}

// GuestError is what a guest writes, as {"error": {...}}, to fail a
// resources/read, prompts/get or completion/complete: the client receives
// it as a JSON-RPC error.
type GuestError struct {
	// Code is ErrorCodeNotFound, ErrorCodeInvalidParams or
	// ErrorCodeInternal (the default when 0); any other code is reported
	// as ErrorCodeInternal.
	Code    int64  `json:"code,omitempty"`
	Message string `json:"message"`
}

// JSON-RPC error codes a guest may use in a GuestError.
const (
	ErrorCodeNotFound      = -32002 // MCP's "resource not found"
	ErrorCodeInvalidParams = -32602
	ErrorCodeInternal      = -32603
)

// EncodeCall returns the stdin envelope for a tools/call of tool with the
// given arguments (a JSON object; nil means {}).
func EncodeCall(tool string, arguments json.RawMessage, meta map[string]any) ([]byte, error) {
	return json.Marshal(CallRequest(tool, arguments, meta))
}

// CallRequest is the envelope of a tools/call of tool with the given
// arguments (a JSON object; nil means {}).
func CallRequest(tool string, arguments json.RawMessage, meta map[string]any) Request {
	if len(arguments) == 0 {
		arguments = json.RawMessage("{}")
	}
	return Request{Method: MethodToolsCall, Params: CallParams{Name: tool, Arguments: arguments, Meta: meta}}
}

// ReadRequest is the envelope of a resources/read of uri; match is nil for
// a fixed resource.
func ReadRequest(uri string, match *TemplateMatch, meta map[string]any) Request {
	return Request{Method: MethodResourcesRead, Params: ReadParams{URI: uri, Meta: meta}, Template: match}
}

// PromptRequest is the envelope of a prompts/get.
func PromptRequest(name string, args map[string]string, meta map[string]any) Request {
	if args == nil {
		args = map[string]string{}
	}
	return Request{Method: MethodPromptsGet, Params: PromptParams{Name: name, Arguments: args, Meta: meta}}
}

// CompleteRequest is the envelope of a completion/complete.
func CompleteRequest(p CompleteParams) Request {
	return Request{Method: MethodCompletionComp, Params: p}
}
