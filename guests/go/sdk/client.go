package sdk

import (
	"context"
	"encoding/json"
	"fmt"
)

// Capabilities a client may declare, for ClientInfo.Has.
const (
	CapabilitySampling    = "sampling"
	CapabilityElicitation = "elicitation"
	CapabilityRoots       = "roots"
)

// Methods of the questions a guest may ask its client (Question.Method).
const (
	MethodSample = "sampling/createMessage"
	MethodElicit = "elicitation/create"
	MethodRoots  = "roots/list"
)

// ClientInfo is what the envelope says of the MCP client a request comes
// from: the protocol revision it speaks and the capabilities it declared.
type ClientInfo struct {
	ProtocolVersion string                     `json:"protocolVersion,omitempty"`
	Capabilities    map[string]json.RawMessage `json:"capabilities"`
}

// Has reports whether the client declared capability ("sampling",
// "elicitation", "roots"). A nil ClientInfo has none.
func (c *ClientInfo) Has(capability string) bool {
	if c == nil {
		return false
	}
	v, ok := c.Capabilities[capability]
	return ok && string(v) != "null"
}

type clientKey struct{}

// Client returns what the request's envelope says of the MCP client, or
// nil when it says nothing (a call from `wasmgate call`, a test). Ask the
// client only what it declared:
//
//	if sdk.Client(ctx).Has(sdk.CapabilitySampling) { ... sdk.Sample(...) }
func Client(ctx context.Context) *ClientInfo {
	c, _ := ctx.Value(clientKey{}).(*ClientInfo)
	return c
}

// SampleParams are the params of an MCP sampling/createMessage request.
// Messages and a MaxTokens above 0 are required.
type SampleParams struct {
	Messages         []Message         `json:"messages"`
	MaxTokens        int               `json:"maxTokens"`
	SystemPrompt     string            `json:"systemPrompt,omitempty"`
	Temperature      *float64          `json:"temperature,omitempty"`
	StopSequences    []string          `json:"stopSequences,omitempty"`
	IncludeContext   string            `json:"includeContext,omitempty"` // "none", "thisServer", "allServers"
	ModelPreferences *ModelPreferences `json:"modelPreferences,omitempty"`
	Metadata         any               `json:"metadata,omitempty"`
}

// ModelPreferences are a sampling request's hints for choosing a model;
// priorities go from 0 to 1.
type ModelPreferences struct {
	Hints                []ModelHint `json:"hints,omitempty"`
	CostPriority         *float64    `json:"costPriority,omitempty"`
	SpeedPriority        *float64    `json:"speedPriority,omitempty"`
	IntelligencePriority *float64    `json:"intelligencePriority,omitempty"`
}

// ModelHint names a model or a family of models ("claude", "sonnet").
type ModelHint struct {
	Name string `json:"name,omitempty"`
}

// SampleResult is the client's answer to a sampling request.
type SampleResult struct {
	Role       string  `json:"role"`
	Content    Content `json:"content"`
	Model      string  `json:"model"`
	StopReason string  `json:"stopReason,omitempty"` // "endTurn", "stopSequence", "maxTokens"
}

// ElicitParams are the params of an MCP elicitation/create request: a
// message for the user and the form to fill in.
type ElicitParams struct {
	Message         string        `json:"message"`
	RequestedSchema *ElicitSchema `json:"requestedSchema,omitempty"`
}

// ElicitSchema is the form of an elicitation: an object schema of
// primitive properties. Type is "object" when left empty.
type ElicitSchema struct {
	Type       string                    `json:"type"`
	Properties map[string]ElicitProperty `json:"properties"`
	Required   []string                  `json:"required,omitempty"`
}

// MarshalJSON fills in Type "object" and an empty Properties.
func (s ElicitSchema) MarshalJSON() ([]byte, error) {
	type plain ElicitSchema
	if s.Type == "" {
		s.Type = "object"
	}
	if s.Properties == nil {
		s.Properties = map[string]ElicitProperty{}
	}
	return marshal(plain(s))
}

// ElicitProperty is one field of an elicitation form: Type "string",
// "number", "integer", "boolean", or "array" for a multiple choice (Items).
// A single choice is a string with Enum (and the legacy EnumNames) or
// OneOf (values with titles).
type ElicitProperty struct {
	Type        string       `json:"type"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Default     any          `json:"default,omitempty"`
	Format      string       `json:"format,omitempty"` // "email", "uri", "date", "date-time"
	MinLength   *int         `json:"minLength,omitempty"`
	MaxLength   *int         `json:"maxLength,omitempty"`
	Minimum     *float64     `json:"minimum,omitempty"`
	Maximum     *float64     `json:"maximum,omitempty"`
	Enum        []string     `json:"enum,omitempty"`
	EnumNames   []string     `json:"enumNames,omitempty"`
	OneOf       []EnumOption `json:"oneOf,omitempty"`
	Items       *ElicitItems `json:"items,omitempty"`
	MinItems    *int         `json:"minItems,omitempty"`
	MaxItems    *int         `json:"maxItems,omitempty"`
}

// ElicitItems are the choices of a multiple-choice property: Type "string"
// with Enum, or AnyOf (values with titles).
type ElicitItems struct {
	Type  string       `json:"type,omitempty"`
	Enum  []string     `json:"enum,omitempty"`
	AnyOf []EnumOption `json:"anyOf,omitempty"`
}

// EnumOption is a choice with a title.
type EnumOption struct {
	Const string `json:"const"`
	Title string `json:"title"`
}

// ElicitResult is the user's answer: Action "accept" with Content, or
// "decline" or "cancel" without. Declining is an answer, not an error.
type ElicitResult struct {
	Action  string         `json:"action"`
	Content map[string]any `json:"content,omitempty"`
}

// Accepted reports whether the user accepted and filled in the form.
func (r *ElicitResult) Accepted() bool { return r != nil && r.Action == "accept" }

// Decode decodes the answer's content into v, a pointer to a struct whose
// json tags name the form's fields.
func (r *ElicitResult) Decode(v any) error {
	b, err := json.Marshal(r.Content)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Root is one of the client's roots (roots/list).
type Root struct {
	URI  string `json:"uri"`
	Name string `json:"name,omitempty"`
}

// Sample asks the client's model (sampling/createMessage). It needs the
// sampling permission and grant; errors are *Error: ErrDenied without the
// grant, ErrFailed when the client cannot answer (it did not declare
// sampling, or refused).
func Sample(p SampleParams) (*SampleResult, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("sample: encoding the params: %w", err)
	}
	raw, err := SampleRaw(b)
	if err != nil {
		return nil, err
	}
	var r SampleResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("sample: the client's answer is not a sampling result: %w", err)
	}
	return &r, nil
}

// SampleRaw is Sample with the params and the result as JSON.
func SampleRaw(params []byte) (json.RawMessage, error) { return finish("sample", rawSample(params)) }

// Elicit asks the user to fill in a form (elicitation/create). It needs
// the elicitation permission and grant; errors are as for Sample.
func Elicit(p ElicitParams) (*ElicitResult, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("elicit: encoding the params: %w", err)
	}
	raw, err := ElicitRaw(b)
	if err != nil {
		return nil, err
	}
	var r ElicitResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("elicit: the client's answer is not an elicitation result: %w", err)
	}
	return &r, nil
}

// ElicitRaw is Elicit with the params and the result as JSON.
func ElicitRaw(params []byte) (json.RawMessage, error) { return finish("elicit", rawElicit(params)) }

// Question is one question for the client: an MCP method (MethodSample,
// MethodElicit, MethodRoots) and its params, any JSON-encodable value (a
// json.RawMessage is sent as is).
type Question struct {
	Method string `json:"method"`
	Params any    `json:"params,omitempty"`
}

// SampleQuestion is a sampling question for Ask.
func SampleQuestion(p SampleParams) Question { return Question{Method: MethodSample, Params: p} }

// ElicitQuestion is an elicitation question for Ask.
func ElicitQuestion(p ElicitParams) Question { return Question{Method: MethodElicit, Params: p} }

// RootsQuestion asks for the client's roots.
func RootsQuestion() Question { return Question{Method: MethodRoots, Params: struct{}{}} }

// Answers are the client's answers to Ask, as JSON under the questions'
// keys; Sample, Elicit and Roots decode one.
type Answers map[string]json.RawMessage

func (a Answers) get(key string, v any) error {
	raw, ok := a[key]
	if !ok {
		return fmt.Errorf("ask: the answers have no %q", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("ask: the answer to %q: %w", key, err)
	}
	return nil
}

// Sample decodes the answer to the sampling question key.
func (a Answers) Sample(key string) (*SampleResult, error) {
	var r SampleResult
	if err := a.get(key, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Elicit decodes the answer to the elicitation question key.
func (a Answers) Elicit(key string) (*ElicitResult, error) {
	var r ElicitResult
	if err := a.get(key, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Roots decodes the answer to the roots question key.
func (a Answers) Roots(key string) ([]Root, error) {
	var r struct {
		Roots []Root `json:"roots"`
	}
	if err := a.get(key, &r); err != nil {
		return nil, err
	}
	return r.Roots, nil
}

// Ask puts several questions to the client at once, each under a key of
// 1 to 64 of A-Z a-z 0-9 _ . - (at most 16), and returns the answers
// under the same keys. Each question needs its permission and grant.
// Ask the same questions in the same order on every run: on MCP
// 2026-07-28 the call is run again with the answers.
func Ask(questions map[string]Question) (Answers, error) {
	b, err := json.Marshal(questions)
	if err != nil {
		return nil, fmt.Errorf("ask: encoding the questions: %w", err)
	}
	raw, err := finish("ask", rawAsk(b))
	if err != nil {
		return nil, err
	}
	var a Answers
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("ask: the host's answers are not a JSON object: %w", err)
	}
	return a, nil
}

// Roots asks the client for its roots (roots/list, through Ask under the
// key "roots"). It needs the roots permission and grant.
func Roots() ([]Root, error) {
	a, err := Ask(map[string]Question{"roots": RootsQuestion()})
	if err != nil {
		return nil, err
	}
	return a.Roots("roots")
}

// ResourceUpdated tells the clients subscribed to uri, one of the module's
// resources or a URI matching one of its templates, that it changed.
// Errors are *Error: ErrNotFound for a URI the module does not serve.
func ResourceUpdated(uri string) error {
	_, err := finish("resource_updated", rawResUpd(uri))
	return err
}
