package security

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/engine"
)

// leakedSecret is the value the policy grants leakescaped as TOKEN; the
// module writes it in every result with JSON \u escapes.
const leakedSecret = "leaked-secret-5e9b"

// TestSecretsRedactedInEveryMethod: a secret spelled with JSON escapes is
// redacted from the result of every method a module serves, not only
// tools/call.
func TestSecretsRedactedInEveryMethod(t *testing.T) {
	name, _ := engine.Default()
	s := newSuite(t, name)
	ctx := context.Background()
	results := map[string]func() (any, error){
		"tools/call": func() (any, error) {
			return s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "leakescaped"})
		},
		"resources/read": func() (any, error) {
			return s.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "leak://secret"})
		},
		"prompts/get": func() (any, error) {
			return s.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "leak"})
		},
		"completion/complete": func() (any, error) {
			return s.cs.Complete(ctx, &mcp.CompleteParams{
				Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "leak"},
				Argument: mcp.CompleteParamsArgument{Name: "topic", Value: "x"},
			})
		},
	}
	for method, get := range results {
		t.Run(method, func(t *testing.T) {
			res, err := get()
			if err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			// The client decoded the escapes: a leak shows in plain text.
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), leakedSecret) {
				t.Fatalf("%s leaked the secret: %s", method, b)
			}
			if !strings.Contains(string(b), "[REDACTED]") {
				t.Fatalf("%s: no redaction marker in %s", method, b)
			}
		})
	}
}
