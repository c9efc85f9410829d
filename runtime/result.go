package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// parseResult turns the guest's stdout into a CallToolResult. A JSON object
// with content, structuredContent or isError must be a valid result; any
// other output becomes one text item.
func parseResult(stdout []byte) (*mcp.CallToolResult, *CallError) {
	if !utf8.Valid(stdout) {
		return nil, &CallError{Kind: KindInvalidOutput, Message: "the tool's output is not valid UTF-8"}
	}
	trimmed := bytes.TrimSpace(stdout)
	if len(trimmed) == 0 {
		return &mcp.CallToolResult{Content: []mcp.Content{}}, nil
	}
	if trimmed[0] == '{' {
		var fields map[string]json.RawMessage
		if json.Unmarshal(trimmed, &fields) == nil && isResultShaped(fields) {
			if err := checkResult(fields); err != nil {
				return nil, &CallError{Kind: KindInvalidOutput, Message: "the tool's output is not a valid CallToolResult: " + err.Error()}
			}
			var res mcp.CallToolResult
			if err := json.Unmarshal(trimmed, &res); err != nil {
				return nil, &CallError{Kind: KindInvalidOutput, Message: "the tool's output is not a valid CallToolResult: " + err.Error(), Err: err}
			}
			if res.Content == nil {
				res.Content = []mcp.Content{}
			}
			return &res, nil
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(stdout)}}}, nil
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

// checkResult explains, with a JSON path, why fields is not a CallToolResult.
func checkResult(fields map[string]json.RawMessage) error {
	if raw, ok := fields["isError"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return fmt.Errorf("isError must be true or false, got %s", clip(raw))
		}
	}
	raw, ok := fields["content"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return fmt.Errorf("content must be an array of content items, got %s", clip(raw))
	}
	for i, item := range items {
		if err := checkContent(item); err != nil {
			return fmt.Errorf("content[%d]: %w", i, err)
		}
	}
	return nil
}

// required fields (with JSON type) of each content type.
var contentFields = map[string]map[string]string{
	"text":          {"text": "string"},
	"image":         {"data": "string", "mimeType": "string"},
	"audio":         {"data": "string", "mimeType": "string"},
	"resource_link": {"uri": "string", "name": "string"},
	"resource":      {"resource": "object"},
}

func checkContent(item json.RawMessage) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(item, &obj) != nil {
		return fmt.Errorf("must be an object, got %s", clip(item))
	}
	var typ string
	if json.Unmarshal(obj["type"], &typ) != nil {
		return fmt.Errorf(`"type" must be a string: one of text, image, audio, resource_link, resource`)
	}
	want, ok := contentFields[typ]
	if !ok {
		return fmt.Errorf("unknown content type %q: use text, image, audio, resource_link or resource", typ)
	}
	if typ == "resource" {
		var inner map[string]json.RawMessage
		if json.Unmarshal(obj["resource"], &inner) != nil {
			return fmt.Errorf(`"resource" must be an object, got %s`, clip(obj["resource"]))
		}
		if _, err := parseResourceContents(inner, ""); err != nil {
			return fmt.Errorf("resource: %w", err)
		}
	}
	for name, kind := range want {
		v, ok := obj[name]
		if !ok {
			return fmt.Errorf("%s content needs %q", typ, name)
		}
		switch kind {
		case "string":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return fmt.Errorf("%q must be a string, got %s", name, clip(v))
			}
		case "object":
			var o map[string]json.RawMessage
			if json.Unmarshal(v, &o) != nil {
				return fmt.Errorf("%q must be an object, got %s", name, clip(v))
			}
		}
	}
	return nil
}

func clip(raw json.RawMessage) string {
	if len(raw) > 60 {
		return string(raw[:57]) + "..."
	}
	return string(raw)
}
