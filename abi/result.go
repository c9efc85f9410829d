package abi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// The results a guest writes on stdout (ABI.md section 3), as Go values.
// They mirror MCP's results field for field, so that a server turns them
// into its protocol types without encoding them again; this package
// decides what a guest's reply means and whether it is valid, and nothing
// of MCP's implementation is needed for that.

// Content types of a content item.
const (
	ContentText         = "text"
	ContentImage        = "image"
	ContentAudio        = "audio"
	ContentResourceLink = "resource_link"
	ContentResource     = "resource"
)

// ToolResult is a guest's reply to tools/call: MCP's CallToolResult.
type ToolResult struct {
	// Content is never nil.
	Content []*Content
	// StructuredContent is the decoded JSON value (maps, slices, float64s,
	// strings, booleans), or nil when the reply has none.
	StructuredContent any
	IsError           bool
	Meta              map[string]any
}

// Text returns the text of the result's first text item, or "".
func (r *ToolResult) Text() string {
	if r == nil {
		return ""
	}
	for _, c := range r.Content {
		if c.Type == ContentText {
			return c.Text
		}
	}
	return ""
}

// Content is one content item of a result. Type says which of the other
// fields it uses: text (Text); image and audio (Data, MIMEType);
// resource_link (URI, Name, Title, Description, MIMEType, Size, Icons);
// resource (Resource). Meta and Annotations go with every type.
type Content struct {
	Type        string
	Text        string
	Data        []byte // decoded from base64
	MIMEType    string
	URI         string
	Name        string
	Title       string
	Description string
	Size        *int64
	Icons       []Icon
	Resource    *ResourceContents
	Meta        map[string]any
	Annotations *Annotations
}

// Annotations are a content item's hints for the client.
type Annotations struct {
	Audience     []string `json:"audience,omitempty"`
	LastModified string   `json:"lastModified,omitempty"`
	Priority     float64  `json:"priority,omitempty"`
}

// ResourceContents is one text or binary resource: Blob is non-nil for a
// binary one (empty for an empty blob), Text holds a text one. It encodes
// as MCP's ResourceContents.
type ResourceContents struct {
	URI      string         `json:"uri"`
	MIMEType string         `json:"mimeType,omitempty"`
	Text     string         `json:"text,omitempty"`
	Blob     []byte         `json:"blob,omitzero"`
	Meta     map[string]any `json:"_meta,omitempty"`
}

// ReadResult is a guest's reply to resources/read.
type ReadResult struct {
	Contents []*ResourceContents // never nil
}

// PromptResult is a guest's reply to prompts/get.
type PromptResult struct {
	Description string
	Messages    []*PromptMessage // never nil
}

// PromptMessage is one message of a prompt: Role is "user" or "assistant".
type PromptMessage struct {
	Role    string
	Content *Content
}

// CompleteResult is a guest's reply to completion/complete.
type CompleteResult struct {
	Values  []string // never nil, at most MaxCompletionValues
	Total   int
	HasMore bool
}

// MaxCompletionValues is the most values a completion may hold (MCP's
// limit); a guest's longer list is cut there with HasMore set.
const MaxCompletionValues = 100

// ParseToolResult reads a guest's reply to tools/call. A JSON object with
// content, structuredContent or isError must be a valid result; any other
// output becomes one text item, and empty output a result without content.
// An error says, with a JSON path, why the reply is not a valid result.
func ParseToolResult(reply []byte) (*ToolResult, error) {
	if !utf8.Valid(reply) {
		return nil, errors.New("the tool's output is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(reply)
	if len(trimmed) == 0 {
		return &ToolResult{Content: []*Content{}}, nil
	}
	if trimmed[0] == '{' {
		var fields map[string]json.RawMessage
		if json.Unmarshal(trimmed, &fields) == nil && isResultShaped(fields) {
			res, err := toolResult(fields)
			if err != nil {
				return nil, fmt.Errorf("the tool's output is not a valid CallToolResult: %w", err)
			}
			return res, nil
		}
	}
	return &ToolResult{Content: []*Content{{Type: ContentText, Text: string(reply)}}}, nil
}

// isResultShaped reports whether a JSON object means to be a CallToolResult.
func isResultShaped(fields map[string]json.RawMessage) bool {
	for _, k := range []string{"content", "structuredContent", "isError"} {
		if _, ok := fields[k]; ok {
			return true
		}
	}
	return false
}

func toolResult(fields map[string]json.RawMessage) (*ToolResult, error) {
	res := &ToolResult{}
	if raw, ok := fields["isError"]; ok {
		if json.Unmarshal(raw, &res.IsError) != nil {
			return nil, fmt.Errorf("isError must be true or false, got %s", clipRaw(raw))
		}
	}
	if raw, ok := fields["content"]; ok && string(raw) != "null" {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil, fmt.Errorf("content must be an array of content items, got %s", clipRaw(raw))
		}
		res.Content = make([]*Content, len(items))
		for i, item := range items {
			c, err := parseContent(item)
			if err != nil {
				return nil, fmt.Errorf("content[%d]: %w", i, err)
			}
			res.Content[i] = c
		}
	} else {
		res.Content = []*Content{}
	}
	if raw, ok := fields["structuredContent"]; ok {
		if err := json.Unmarshal(raw, &res.StructuredContent); err != nil {
			return nil, fmt.Errorf("structuredContent: %v", err)
		}
	}
	var err error
	if res.Meta, err = meta(fields); err != nil {
		return nil, err
	}
	return res, nil
}

// required fields, in order, of each content type, and whether each is a
// string (else an object).
var contentFields = map[string][]struct {
	name   string
	object bool
}{
	ContentText:         {{"text", false}},
	ContentImage:        {{"data", false}, {"mimeType", false}},
	ContentAudio:        {{"data", false}, {"mimeType", false}},
	ContentResourceLink: {{"uri", false}, {"name", false}},
	ContentResource:     {{"resource", true}},
}

// parseContent reads one content item.
func parseContent(item json.RawMessage) (*Content, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(item, &obj) != nil {
		return nil, fmt.Errorf("must be an object, got %s", clipRaw(item))
	}
	c := &Content{}
	if json.Unmarshal(obj["type"], &c.Type) != nil {
		return nil, fmt.Errorf(`"type" must be a string: one of text, image, audio, resource_link, resource`)
	}
	want, ok := contentFields[c.Type]
	if !ok {
		return nil, fmt.Errorf("unknown content type %q: use text, image, audio, resource_link or resource", c.Type)
	}
	if c.Type == ContentResource {
		var inner map[string]json.RawMessage
		if json.Unmarshal(obj["resource"], &inner) != nil {
			return nil, fmt.Errorf(`"resource" must be an object, got %s`, clipRaw(obj["resource"]))
		}
		rc, err := parseResourceContents(inner, "")
		if err != nil {
			return nil, fmt.Errorf("resource: %w", err)
		}
		c.Resource = rc
	}
	for _, f := range want {
		v, ok := obj[f.name]
		if !ok {
			return nil, fmt.Errorf("%s content needs %q", c.Type, f.name)
		}
		if f.object {
			var o map[string]json.RawMessage
			if json.Unmarshal(v, &o) != nil {
				return nil, fmt.Errorf("%q must be an object, got %s", f.name, clipRaw(v))
			}
		} else {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, fmt.Errorf("%q must be a string, got %s", f.name, clipRaw(v))
			}
		}
	}
	var strs []stringField
	switch c.Type {
	case ContentText:
		strs = []stringField{{"text", &c.Text}}
	case ContentImage, ContentAudio:
		var data string
		strs = []stringField{{"data", &data}, {"mimeType", &c.MIMEType}}
		if err := readStrings(obj, strs); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf(`"data" is not standard base64: %v`, err)
		}
		c.Data, strs = b, nil
	case ContentResourceLink:
		strs = []stringField{{"uri", &c.URI}, {"name", &c.Name}, {"title", &c.Title}, {"description", &c.Description}, {"mimeType", &c.MIMEType}}
		if v, ok := obj["size"]; ok {
			if json.Unmarshal(v, &c.Size) != nil {
				return nil, fmt.Errorf(`"size" must be an integer, got %s`, clipRaw(v))
			}
		}
		if v, ok := obj["icons"]; ok {
			if json.Unmarshal(v, &c.Icons) != nil {
				return nil, fmt.Errorf(`"icons" must be an array of icons ({"src": "...", "mimeType": "...", "sizes": ["..."], "theme": "..."}), got %s`, clipRaw(v))
			}
		}
	}
	if err := readStrings(obj, strs); err != nil {
		return nil, err
	}
	if v, ok := obj["annotations"]; ok {
		if err := json.Unmarshal(v, &c.Annotations); err != nil {
			return nil, fmt.Errorf(`"annotations" must be an object with audience, priority and lastModified, got %s`, clipRaw(v))
		}
	}
	var err error
	if c.Meta, err = meta(obj); err != nil {
		return nil, err
	}
	return c, nil
}

type stringField struct {
	name string
	dst  *string
}

// readStrings sets each field present in obj, which must be a string.
func readStrings(obj map[string]json.RawMessage, fields []stringField) error {
	for _, f := range fields {
		v, ok := obj[f.name]
		if !ok {
			continue
		}
		if json.Unmarshal(v, f.dst) != nil {
			return fmt.Errorf("%q must be a string, got %s", f.name, clipRaw(v))
		}
	}
	return nil
}

// meta reads an object's "_meta", which must be an object if present.
func meta(obj map[string]json.RawMessage) (map[string]any, error) {
	v, ok := obj["_meta"]
	if !ok {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf(`"_meta" must be an object, got %s`, clipRaw(v))
	}
	return m, nil
}

// parseResourceContents checks one text or blob resource item. A missing
// uri takes defaultURI when that is set.
func parseResourceContents(item map[string]json.RawMessage, defaultURI string) (*ResourceContents, error) {
	var rc ResourceContents
	var text, blob string
	if err := readStrings(item, []stringField{{"uri", &rc.URI}, {"mimeType", &rc.MIMEType}, {"text", &text}, {"blob", &blob}}); err != nil {
		return nil, err
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
	var err error
	if rc.Meta, err = meta(item); err != nil {
		return nil, err
	}
	return &rc, nil
}

// ParseReadResult reads a guest's reply to resources/read of uri, whose
// manifest declares mime ("" when it declares none). A reply that is a
// guest's {"error": ...} returns that error instead; plain output is one
// text item of uri. An error says why the reply is not a valid result.
func ParseReadResult(reply []byte, uri, mime string) (*ReadResult, *GuestError, error) {
	fields, gerr, err := methodReply(reply, MethodResourcesRead, "contents")
	if fields == nil || gerr != nil || err != nil {
		if gerr != nil || err != nil {
			return nil, gerr, err
		}
		plain := mime
		if plain == "" {
			plain = "text/plain"
		}
		return &ReadResult{Contents: []*ResourceContents{{URI: uri, MIMEType: plain, Text: string(reply)}}}, nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(fields["contents"], &items); err != nil {
		return nil, nil, invalid(MethodResourcesRead, errors.New("contents must be an array of objects"))
	}
	res := &ReadResult{Contents: make([]*ResourceContents, 0, len(items))}
	for i, item := range items {
		rc, err := parseResourceContents(item, uri)
		if err != nil {
			return nil, nil, invalid(MethodResourcesRead, fmt.Errorf("contents[%d]: %w", i, err))
		}
		if rc.MIMEType == "" && rc.URI == uri {
			rc.MIMEType = mime
		}
		res.Contents = append(res.Contents, rc)
	}
	return res, nil, nil
}

// ParsePromptResult reads a guest's reply to prompts/get: a result, a
// guest's {"error": ...}, or plain output, which is one user message.
func ParsePromptResult(reply []byte) (*PromptResult, *GuestError, error) {
	fields, gerr, err := methodReply(reply, MethodPromptsGet, "messages")
	if fields == nil || gerr != nil || err != nil {
		if gerr != nil || err != nil {
			return nil, gerr, err
		}
		return &PromptResult{Messages: []*PromptMessage{{Role: "user", Content: &Content{Type: ContentText, Text: string(reply)}}}}, nil, nil
	}
	res, err := promptResult(fields)
	if err != nil {
		return nil, nil, invalid(MethodPromptsGet, err)
	}
	return res, nil, nil
}

func promptResult(fields map[string]json.RawMessage) (*PromptResult, error) {
	var messages []json.RawMessage
	if err := json.Unmarshal(fields["messages"], &messages); err != nil {
		return nil, errors.New("messages must be an array of objects")
	}
	res := &PromptResult{Messages: make([]*PromptMessage, 0, len(messages))}
	if d, ok := fields["description"]; ok && json.Unmarshal(d, &res.Description) != nil {
		return nil, fmt.Errorf("description must be a string, got %s", clipRaw(d))
	}
	for i, m := range messages {
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
		c, err := parseContent(msg.Content)
		if err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		res.Messages = append(res.Messages, &PromptMessage{Role: msg.Role, Content: c})
	}
	return res, nil
}

// ParseCompleteResult reads a guest's reply to completion/complete: a
// result or a guest's {"error": ...}; plain output is not a completion.
// Past MaxCompletionValues values the list is cut and HasMore set.
func ParseCompleteResult(reply []byte) (*CompleteResult, *GuestError, error) {
	fields, gerr, err := methodReply(reply, MethodCompletionComp, "completion")
	if gerr != nil || err != nil {
		return nil, gerr, err
	}
	if fields == nil {
		return nil, nil, errors.New(`the module's output is not a completion/complete result: write {"completion": {"values": [...]}}`)
	}
	var c *struct {
		Values  []string `json:"values"`
		Total   *int     `json:"total"`
		HasMore bool     `json:"hasMore"`
	}
	if err := json.Unmarshal(fields["completion"], &c); err != nil || c == nil {
		return nil, nil, invalid(MethodCompletionComp, errors.New(`want {"completion": {"values": ["..."], "total": N, "hasMore": false}} with values an array of strings`))
	}
	res := &CompleteResult{Values: c.Values, HasMore: c.HasMore}
	if res.Values == nil {
		res.Values = []string{}
	}
	if c.Total != nil {
		if *c.Total < 0 {
			return nil, nil, invalid(MethodCompletionComp, fmt.Errorf("completion.total must not be negative, got %d", *c.Total))
		}
		res.Total = *c.Total
	}
	if len(res.Values) > MaxCompletionValues {
		res.Total = max(res.Total, len(res.Values))
		res.Values = res.Values[:MaxCompletionValues]
		res.HasMore = true
	}
	return res, nil, nil
}

// methodReply sorts a guest's reply to a method other than tools/call: a
// JSON object with the result's key (its fields), a JSON object with
// "error" (the guest's error, its code one a guest may use), or anything
// else, which is plain output (all nil) for the caller to wrap.
func methodReply(reply []byte, method, key string) (map[string]json.RawMessage, *GuestError, error) {
	if !utf8.Valid(reply) {
		return nil, nil, errors.New("the module's output is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(reply)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(trimmed, &fields) != nil {
		return nil, nil, nil
	}
	if e, ok := fields["error"]; ok {
		var g GuestError
		if err := json.Unmarshal(e, &g); err != nil || g.Message == "" {
			return nil, nil, fmt.Errorf(`the module's error must be {"error": {"code": N, "message": "..."}} with a message, got %s`, clipRaw(e))
		}
		switch g.Code {
		case ErrorCodeNotFound, ErrorCodeInvalidParams, ErrorCodeInternal:
		default:
			g.Code = ErrorCodeInternal
		}
		return nil, &g, nil
	}
	if _, ok := fields[key]; ok {
		return fields, nil, nil
	}
	return nil, nil, nil
}

func invalid(method string, err error) error {
	return fmt.Errorf("the module's output is not a valid %s result: %w", method, err)
}

// clipRaw quotes at most 60 bytes of a JSON value in a message.
func clipRaw(raw json.RawMessage) string {
	if len(raw) > 60 {
		return string(raw[:57]) + "..."
	}
	return string(raw)
}
