package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// SamplingArgs are test_sampling's arguments.
type SamplingArgs struct {
	Prompt string `json:"prompt" jsonschema:"The prompt to send to the client's model."`
}

// ElicitationArgs are test_elicitation's arguments.
type ElicitationArgs struct {
	Message string `json:"message" jsonschema:"The message to show the user."`
}

// answered describes an elicitation answer: its action and content.
func answered(r *sdk.ElicitResult) string {
	content := "{}"
	if r.Content != nil {
		b, _ := json.Marshal(r.Content)
		content = string(b)
	}
	return fmt.Sprintf("action=%s, content=%s", r.Action, content)
}

// The tools that put a question to the client while they run: a request
// to the client on MCP up to 2025-11-25, an input-required result on
// 2026-07-28.
func registerQuestions() {
	sdk.Tool("test_sampling", func(ctx context.Context, a SamplingArgs) (string, error) {
		if !sdk.Client(ctx).Has(sdk.CapabilitySampling) {
			return "", sdk.Errorf("the client did not declare the sampling capability: connect with a client that supports sampling/createMessage")
		}
		r, err := sdk.Sample(sdk.SampleParams{
			Messages:  []sdk.Message{sdk.UserMessage(sdk.TextContent(a.Prompt))},
			MaxTokens: 100,
		})
		if err != nil {
			return "", sdk.Errorf("asking the client's model: %w", err)
		}
		return "LLM response: " + r.Content.Text, nil
	}, sdk.Description("Asks the client's model to answer the prompt (sampling/createMessage) and returns its answer."))

	sdk.Tool("test_elicitation", func(ctx context.Context, a ElicitationArgs) (string, error) {
		if !sdk.Client(ctx).Has(sdk.CapabilityElicitation) {
			return "", sdk.Errorf("the client did not declare the elicitation capability: connect with a client that supports elicitation/create")
		}
		r, err := sdk.Elicit(sdk.ElicitParams{Message: a.Message, RequestedSchema: &sdk.ElicitSchema{
			Properties: map[string]sdk.ElicitProperty{
				"username": {Type: "string", Description: "User's response"},
				"email":    {Type: "string", Description: "User's email address"},
			},
			Required: []string{"username", "email"},
		}})
		if err != nil {
			return "", sdk.Errorf("asking the user: %w", err)
		}
		return "User response: " + answered(r), nil
	}, sdk.Description("Asks the user for a username and an email address (elicitation/create) and returns the answer."))

	sdk.Tool("test_elicitation_sep1034_defaults", func(ctx context.Context, _ None) (string, error) {
		r, err := sdk.Elicit(sdk.ElicitParams{Message: "Please review your profile (every field has a default).", RequestedSchema: &sdk.ElicitSchema{
			Properties: map[string]sdk.ElicitProperty{
				"name":     {Type: "string", Description: "Your name", Default: "John Doe"},
				"age":      {Type: "integer", Description: "Your age", Default: 30},
				"score":    {Type: "number", Description: "Your score", Default: 95.5},
				"status":   {Type: "string", Description: "Your status", Enum: []string{"active", "inactive", "pending"}, Default: "active"},
				"verified": {Type: "boolean", Description: "Whether you are verified", Default: true},
			},
		}})
		if err != nil {
			return "", sdk.Errorf("asking the user: %w", err)
		}
		return "Elicitation completed: " + answered(r), nil
	}, sdk.Description("Asks the user to fill in a form whose string, integer, number, enum and boolean fields have defaults (SEP-1034)."))

	sdk.Tool("test_elicitation_sep1330_enums", func(ctx context.Context, _ None) (string, error) {
		r, err := sdk.Elicit(sdk.ElicitParams{Message: "Please make your choices.", RequestedSchema: &sdk.ElicitSchema{
			Properties: map[string]sdk.ElicitProperty{
				"untitledSingle": {Type: "string", Description: "Pick one", Enum: []string{"option1", "option2", "option3"}},
				"titledSingle": {Type: "string", Description: "Pick one", OneOf: []sdk.EnumOption{
					{Const: "value1", Title: "First Option"}, {Const: "value2", Title: "Second Option"}, {Const: "value3", Title: "Third Option"},
				}},
				"legacyEnum": {Type: "string", Description: "Pick one", Enum: []string{"opt1", "opt2", "opt3"},
					EnumNames: []string{"Option One", "Option Two", "Option Three"}},
				"untitledMulti": {Type: "array", Description: "Pick any", Items: &sdk.ElicitItems{Type: "string", Enum: []string{"option1", "option2", "option3"}}},
				"titledMulti": {Type: "array", Description: "Pick any", Items: &sdk.ElicitItems{AnyOf: []sdk.EnumOption{
					{Const: "value1", Title: "First Choice"}, {Const: "value2", Title: "Second Choice"}, {Const: "value3", Title: "Third Choice"},
				}}},
			},
		}})
		if err != nil {
			return "", sdk.Errorf("asking the user: %w", err)
		}
		return "Elicitation completed: " + answered(r), nil
	}, sdk.Description("Asks the user to choose in each kind of enum field: untitled and titled single and multiple choices, and legacy enumNames (SEP-1330)."))

	// Diagnostic tools of the stateless (2026-07-28) scenario.
	sdk.Tool("test_missing_capability", func(ctx context.Context, _ None) (string, error) {
		// Asks without checking the client's capabilities: on 2026-07-28
		// the server refuses the request with -32021 when the client did
		// not declare sampling.
		r, err := sdk.Sample(sdk.SampleParams{
			Messages:  []sdk.Message{sdk.UserMessage(sdk.TextContent("Say hello."))},
			MaxTokens: 20,
		})
		if err != nil {
			return "", sdk.Errorf("asking the client's model: %w", err)
		}
		return "The client declared sampling; its model said: " + r.Content.Text, nil
	}, sdk.Description("Needs the client's sampling capability: it asks the client's model without checking that the client declared it."))

	sdk.Tool("test_streaming_elicitation", func(ctx context.Context, _ None) (string, error) {
		r, err := sdk.Elicit(sdk.ElicitParams{Message: "Please confirm.", RequestedSchema: &sdk.ElicitSchema{
			Properties: map[string]sdk.ElicitProperty{"ok": {Type: "boolean", Description: "Confirm"}},
			Required:   []string{"ok"},
		}})
		if err != nil {
			return "", sdk.Errorf("asking the user: %w", err)
		}
		return "Elicitation completed: " + answered(r), nil
	}, sdk.Description("Asks the user for a confirmation (elicitation/create) while the call is in flight."))

	sdk.Tool("test_logging_tool", func(ctx context.Context, _ None) (string, error) {
		sdk.Log(sdk.LevelInfo, "test_logging_tool executed")
		return "Sent one log message at level info.", nil
	}, sdk.Description("Sends one log message at level info."))
}
