package sdk

import "fmt"

// Content is one MCP content item: Type "text" (Text), "image" or "audio"
// (Data, MIMEType), "resource_link" (URI, Name and optionally MIMEType,
// Title, Description) or "resource" (Resource). Build one with TextContent,
// Image, Audio, ResourceLink or EmbeddedResource. It is encoded with the
// fields its type requires, even when they are empty.
type Content struct {
	Type        string            `json:"type"`
	Text        string            `json:"text,omitempty"`
	Data        string            `json:"data,omitempty"` // base64, for image and audio
	MIMEType    string            `json:"mimeType,omitempty"`
	URI         string            `json:"uri,omitempty"`  // resource_link
	Name        string            `json:"name,omitempty"` // resource_link
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Resource    *ResourceContents `json:"resource,omitempty"` // resource
}

// MarshalJSON writes the fields c's type requires even when they are
// empty, so an empty text is still a valid text item.
func (c Content) MarshalJSON() ([]byte, error) {
	type plain Content
	switch c.Type {
	case "text":
		return marshal(struct {
			plain
			Text string `json:"text"`
		}{plain(c), c.Text})
	case "image", "audio":
		return marshal(struct {
			plain
			Data     string `json:"data"`
			MIMEType string `json:"mimeType"`
		}{plain(c), c.Data, c.MIMEType})
	case "resource_link":
		return marshal(struct {
			plain
			URI  string `json:"uri"`
			Name string `json:"name"`
		}{plain(c), c.URI, c.Name})
	case "resource":
		if c.Resource == nil {
			return nil, fmt.Errorf("sdk: a resource content item needs Resource")
		}
	}
	return marshal(plain(c))
}

// ResourceContents is the content of a resource: its text, or its bytes
// (Blob, sent as base64) when Blob is not nil. It is what resources/read
// returns and what an embedded resource holds. In a resources/read result
// an empty URI stands for the URI that was read.
type ResourceContents struct {
	URI      string `json:"uri,omitempty"`
	MIMEType string `json:"mimeType,omitempty"`
	Text     string `json:"text,omitempty"`
	Blob     []byte `json:"blob,omitempty"`
}

// MarshalJSON writes exactly one of text and blob.
func (r ResourceContents) MarshalJSON() ([]byte, error) {
	type head struct {
		URI      string `json:"uri,omitempty"`
		MIMEType string `json:"mimeType,omitempty"`
	}
	if r.Blob != nil {
		return marshal(struct {
			head
			Blob string `json:"blob"`
		}{head{r.URI, r.MIMEType}, encodeBase64(r.Blob)})
	}
	return marshal(struct {
		head
		Text string `json:"text"`
	}{head{r.URI, r.MIMEType}, r.Text})
}

// TextContent is a text content item.
func TextContent(text string) Content { return Content{Type: "text", Text: text} }

// Image is an image content item.
func Image(data []byte, mimeType string) Content {
	return Content{Type: "image", Data: encodeBase64(data), MIMEType: mimeType}
}

// Audio is an audio content item ("audio/wav", "audio/mpeg", ...).
func Audio(data []byte, mimeType string) Content {
	return Content{Type: "audio", Data: encodeBase64(data), MIMEType: mimeType}
}

// ResourceLink is a link to a resource the client may read; mimeType may be
// empty.
func ResourceLink(uri, name, mimeType string) Content {
	return Content{Type: "resource_link", URI: uri, Name: name, MIMEType: mimeType}
}

// EmbeddedResource is a content item holding a resource's contents (see
// TextResource and BlobResource); its URI must be set.
func EmbeddedResource(r ResourceContents) Content {
	return Content{Type: "resource", Resource: &r}
}

// TextResource is the text contents of the resource at uri.
func TextResource(uri, mimeType, text string) ResourceContents {
	return ResourceContents{URI: uri, MIMEType: mimeType, Text: text}
}

// BlobResource is the binary contents of the resource at uri.
func BlobResource(uri, mimeType string, data []byte) ResourceContents {
	if data == nil {
		data = []byte{}
	}
	return ResourceContents{URI: uri, MIMEType: mimeType, Blob: data}
}

// Message is one message of a prompt or of a sampling request: Role "user"
// or "assistant" and one content item.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// UserMessage is a message from the user.
func UserMessage(c Content) Message { return Message{Role: "user", Content: c} }

// AssistantMessage is a message from the assistant.
func AssistantMessage(c Content) Message { return Message{Role: "assistant", Content: c} }

// NewResult is a tool result with the given content items.
func NewResult(items ...Content) *Result {
	if items == nil {
		items = []Content{}
	}
	return &Result{Content: items}
}
