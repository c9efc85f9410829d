package runtime

import (
	"encoding/json"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// redactor replaces secret values with a marker wherever the guest could
// echo them: the result, the log, stderr.
type redactor struct{ r *strings.Replacer }

const redacted = "[REDACTED]"

func newRedactor(secrets map[string]string) *redactor {
	var pairs []string
	for _, v := range secrets {
		if len(v) < 4 { // shorter values would redact ordinary text
			continue
		}
		pairs = append(pairs, v, redacted)
		if q, _ := json.Marshal(v); string(q[1:len(q)-1]) != v {
			pairs = append(pairs, string(q[1:len(q)-1]), redacted) // as it appears inside JSON
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return &redactor{strings.NewReplacer(pairs...)}
}

func (r *redactor) String(s string) string {
	if r == nil {
		return s
	}
	return r.r.Replace(s)
}

// redactResult replaces secret values anywhere in a result, in their plain
// and JSON-escaped forms.
func redactResult(r *redactor, res *mcp.CallToolResult) *mcp.CallToolResult {
	if res == nil {
		return nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return res
	}
	clean := r.String(string(b))
	if clean == string(b) {
		return res
	}
	var out mcp.CallToolResult
	if err := json.Unmarshal([]byte(clean), &out); err != nil {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "the result was withheld: it contained a secret value that could not be redacted"}}}
	}
	return &out
}
