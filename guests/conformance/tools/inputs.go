package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// The questions of the input-required scenarios (SEP-2322), under the
// keys the suite suggests.

func askName(message string) sdk.Question {
	return sdk.ElicitQuestion(sdk.ElicitParams{Message: message, RequestedSchema: &sdk.ElicitSchema{
		Properties: map[string]sdk.ElicitProperty{"name": {Type: "string"}},
		Required:   []string{"name"},
	}})
}

func askConfirm() sdk.Question {
	return sdk.ElicitQuestion(sdk.ElicitParams{Message: "Please confirm", RequestedSchema: &sdk.ElicitSchema{
		Properties: map[string]sdk.ElicitProperty{"ok": {Type: "boolean"}},
		Required:   []string{"ok"},
	}})
}

func askModel(prompt string, maxTokens int) sdk.Question {
	return sdk.SampleQuestion(sdk.SampleParams{
		Messages:  []sdk.Message{sdk.UserMessage(sdk.TextContent(prompt))},
		MaxTokens: maxTokens,
	})
}

// ask puts questions to the client; its failure is a tool error.
func ask(qs map[string]sdk.Question) (sdk.Answers, error) {
	a, err := sdk.Ask(qs)
	if err != nil {
		return nil, sdk.Errorf("asking the client: %w", err)
	}
	return a, nil
}

// field is an accepted elicitation's field as text, or says how the user
// answered.
func field(a sdk.Answers, key, name string) (string, error) {
	r, err := a.Elicit(key)
	if err != nil {
		return "", err
	}
	if !r.Accepted() {
		return "(" + r.Action + ")", nil
	}
	return fmt.Sprint(r.Content[name]), nil
}

func modelText(a sdk.Answers, key string) (string, error) {
	r, err := a.Sample(key)
	if err != nil {
		return "", err
	}
	return r.Content.Text, nil
}

func rootList(a sdk.Answers, key string) (string, error) {
	roots, err := a.Roots(key)
	if err != nil {
		return "", err
	}
	s := make([]string, len(roots))
	for i, r := range roots {
		s[i] = r.URI
		if r.Name != "" {
			s[i] += " (" + r.Name + ")"
		}
	}
	if len(s) == 0 {
		return "none", nil
	}
	return strings.Join(s, ", "), nil
}

func registerInputRequired() {
	sdk.Tool("test_input_required_result_elicitation", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"user_name": askName("What is your name?")})
		if err != nil {
			return "", err
		}
		name, err := field(a, "user_name", "name")
		if err != nil {
			return "", err
		}
		return "Hello, " + name + "!", nil
	}, sdk.Description("Asks the user for their name (user_name) and greets them."))

	sdk.Tool("test_input_required_result_sampling", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"capital_question": askModel("What is the capital of France?", 100)})
		if err != nil {
			return "", err
		}
		text, err := modelText(a, "capital_question")
		if err != nil {
			return "", err
		}
		return "The client's model answered: " + text, nil
	}, sdk.Description("Asks the client's model for the capital of France (capital_question)."))

	sdk.Tool("test_input_required_result_list_roots", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"client_roots": sdk.RootsQuestion()})
		if err != nil {
			return "", err
		}
		roots, err := rootList(a, "client_roots")
		if err != nil {
			return "", err
		}
		return "The client's roots: " + roots, nil
	}, sdk.Description("Asks the client for its roots (client_roots) and lists them."))

	sdk.Tool("test_input_required_result_request_state", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"confirm": askConfirm()})
		if err != nil {
			return "", err
		}
		ok, err := field(a, "confirm", "ok")
		if err != nil {
			return "", err
		}
		return "state-ok: the request state came back intact; confirmed: " + ok, nil
	}, sdk.Description("Asks the user to confirm (confirm); the answer comes back with the request state."))

	sdk.Tool("test_input_required_result_multiple_inputs", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{
			"user_name":    askName("What is your name?"),
			"greeting":     askModel("Generate a greeting", 50),
			"client_roots": sdk.RootsQuestion(),
		})
		if err != nil {
			return "", err
		}
		name, err := field(a, "user_name", "name")
		if err != nil {
			return "", err
		}
		greeting, err := modelText(a, "greeting")
		if err != nil {
			return "", err
		}
		roots, err := rootList(a, "client_roots")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("name: %s; greeting: %s; roots: %s", name, greeting, roots), nil
	}, sdk.Description("Asks the user for their name (user_name), the client's model for a greeting (greeting) and the client for its roots (client_roots), all at once."))

	sdk.Tool("test_input_required_result_multi_round", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"step1": askName("Step 1: What is your name?")})
		if err != nil {
			return "", err
		}
		name, err := field(a, "step1", "name")
		if err != nil {
			return "", err
		}
		a, err = ask(map[string]sdk.Question{"step2": sdk.ElicitQuestion(sdk.ElicitParams{
			Message: "Step 2: What is your favorite color?",
			RequestedSchema: &sdk.ElicitSchema{
				Properties: map[string]sdk.ElicitProperty{"color": {Type: "string"}},
				Required:   []string{"color"},
			},
		})})
		if err != nil {
			return "", err
		}
		color, err := field(a, "step2", "color")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s's favorite color is %s.", name, color), nil
	}, sdk.Description("Asks the user two questions, one after the other: their name (step1), then their favorite color (step2)."))

	sdk.Tool("test_input_required_result_tampered_state", func(ctx context.Context, _ None) (string, error) {
		a, err := ask(map[string]sdk.Question{"confirm": askConfirm()})
		if err != nil {
			return "", err
		}
		ok, err := field(a, "confirm", "ok")
		if err != nil {
			return "", err
		}
		return "confirmed: " + ok, nil
	}, sdk.Description("Asks the user to confirm (confirm); the server refuses a request state that was changed."))

	sdk.Tool("test_input_required_result_capabilities", func(ctx context.Context, _ None) (string, error) {
		c := sdk.Client(ctx)
		qs := map[string]sdk.Question{}
		if c.Has(sdk.CapabilityElicitation) {
			qs["user_name"] = askName("What is your name?")
		}
		if c.Has(sdk.CapabilitySampling) {
			qs["greeting"] = askModel("Generate a short greeting", 50)
		}
		if c.Has(sdk.CapabilityRoots) {
			qs["client_roots"] = sdk.RootsQuestion()
		}
		if len(qs) == 0 {
			return "The client declared neither elicitation, sampling nor roots: there is nothing to ask it.", nil
		}
		a, err := ask(qs)
		if err != nil {
			return "", err
		}
		var got []string
		if _, ok := qs["user_name"]; ok {
			name, err := field(a, "user_name", "name")
			if err != nil {
				return "", err
			}
			got = append(got, "name: "+name)
		}
		if _, ok := qs["greeting"]; ok {
			greeting, err := modelText(a, "greeting")
			if err != nil {
				return "", err
			}
			got = append(got, "greeting: "+greeting)
		}
		if _, ok := qs["client_roots"]; ok {
			roots, err := rootList(a, "client_roots")
			if err != nil {
				return "", err
			}
			got = append(got, "roots: "+roots)
		}
		return strings.Join(got, "; "), nil
	}, sdk.Description("Asks the client only what its declared capabilities allow: the user's name (elicitation), a greeting (sampling), its roots (roots)."))
}
