package server

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// The runtime answers with abi's results, parsed once from the guest's
// reply; these turn them into the SDK's types field for field, without
// encoding anything again.

// CallToolResult is what a client receives for a tools/call outcome: the
// guest's result, or for a call that failed an isError result whose text
// says what failed (with the wasm stack of a trap). The output schema is
// applied by the server, not here. wasmgate call prints the same.
func CallToolResult(out *runtime.Outcome) *mcp.CallToolResult {
	if out.Result == nil {
		msg := "the call produced no result"
		if out.Err != nil {
			msg = out.Err.Detail()
		}
		return errorResult(msg)
	}
	return toolResult(out.Result)
}

func toolResult(r *abi.ToolResult) *mcp.CallToolResult {
	res := &mcp.CallToolResult{Content: make([]mcp.Content, len(r.Content)), StructuredContent: r.StructuredContent, IsError: r.IsError, Meta: r.Meta}
	for i, c := range r.Content {
		res.Content[i] = content(c)
	}
	return res
}

// content is the SDK's form of one content item.
func content(c *abi.Content) mcp.Content {
	switch c.Type {
	case abi.ContentImage:
		return &mcp.ImageContent{Data: c.Data, MIMEType: c.MIMEType, Meta: c.Meta, Annotations: annotations(c.Annotations)}
	case abi.ContentAudio:
		return &mcp.AudioContent{Data: c.Data, MIMEType: c.MIMEType, Meta: c.Meta, Annotations: annotations(c.Annotations)}
	case abi.ContentResourceLink:
		l := &mcp.ResourceLink{URI: c.URI, Name: c.Name, Title: c.Title, Description: c.Description, MIMEType: c.MIMEType, Size: c.Size, Meta: c.Meta, Annotations: annotations(c.Annotations)}
		for _, ic := range c.Icons {
			l.Icons = append(l.Icons, mcp.Icon{Source: ic.Src, MIMEType: ic.MIMEType, Sizes: ic.Sizes, Theme: mcp.IconTheme(ic.Theme)})
		}
		return l
	case abi.ContentResource:
		return &mcp.EmbeddedResource{Resource: resourceContents(c.Resource), Meta: c.Meta, Annotations: annotations(c.Annotations)}
	}
	return &mcp.TextContent{Text: c.Text, Meta: c.Meta, Annotations: annotations(c.Annotations)}
}

func annotations(a *abi.Annotations) *mcp.Annotations {
	if a == nil {
		return nil
	}
	m := &mcp.Annotations{LastModified: a.LastModified, Priority: a.Priority}
	for _, r := range a.Audience {
		m.Audience = append(m.Audience, mcp.Role(r))
	}
	return m
}

func resourceContents(rc *abi.ResourceContents) *mcp.ResourceContents {
	if rc == nil {
		return nil
	}
	return &mcp.ResourceContents{URI: rc.URI, MIMEType: rc.MIMEType, Text: rc.Text, Blob: rc.Blob, Meta: rc.Meta}
}

// ReadResourceResult is the SDK's form of a resources/read result.
func ReadResourceResult(r *abi.ReadResult) *mcp.ReadResourceResult {
	res := &mcp.ReadResourceResult{Contents: make([]*mcp.ResourceContents, len(r.Contents))}
	for i, rc := range r.Contents {
		res.Contents[i] = resourceContents(rc)
	}
	return res
}

// GetPromptResult is the SDK's form of a prompts/get result.
func GetPromptResult(r *abi.PromptResult) *mcp.GetPromptResult {
	res := &mcp.GetPromptResult{Description: r.Description, Messages: make([]*mcp.PromptMessage, len(r.Messages))}
	for i, m := range r.Messages {
		res.Messages[i] = &mcp.PromptMessage{Role: mcp.Role(m.Role), Content: content(m.Content)}
	}
	return res
}

// CompleteResult is the SDK's form of a completion/complete result.
func CompleteResult(r *abi.CompleteResult) *mcp.CompleteResult {
	return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: r.Values, Total: r.Total, HasMore: r.HasMore}}
}
