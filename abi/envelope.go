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
}

// CallParams are the params of a tools/call request.
type CallParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Meta      map[string]any  `json:"_meta,omitempty"`
}

// EncodeCall returns the stdin envelope for a tools/call of tool with the
// given arguments (a JSON object; nil means {}).
func EncodeCall(tool string, arguments json.RawMessage, meta map[string]any) ([]byte, error) {
	if len(arguments) == 0 {
		arguments = json.RawMessage("{}")
	}
	return json.Marshal(Request{Method: MethodToolsCall, Params: CallParams{Name: tool, Arguments: arguments, Meta: meta}})
}
