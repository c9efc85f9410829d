package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
)

func TestSealerRefusesTamperedAndForeignStates(t *testing.T) {
	a, b := newSealer(), newSealer()
	sealed, err := a.seal(state{Bind: "x", Rounds: []round{{Questions: "q"}}})
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := a.open(sealed, &st); err != nil || st.Bind != "x" || len(st.Rounds) != 1 {
		t.Fatalf("open = %+v, %v", st, err)
	}
	for name, text := range map[string]string{
		"tampered":       sealed + "-TAMPERED",
		"flipped":        sealed[:len(sealed)-2] + flip(sealed[len(sealed)-2]) + sealed[len(sealed)-1:],
		"other server":   mustSeal(t, b, state{Bind: "x"}),
		"not base64":     "%%%",
		"empty":          "",
		"only the nonce": "AAAAAAAAAAAAAAAA",
	} {
		if err := a.open(text, &st); err == nil {
			t.Errorf("%s: a state that was not sealed here opened", name)
		}
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func mustSeal(t *testing.T, s *sealer, v any) string {
	t.Helper()
	out, err := s.seal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func question(method, params string) runtime.Question {
	return runtime.Question{Method: method, Params: json.RawMessage(params)}
}

var everything = peer{version: "2026-07-28", caps: &mcp.ClientCapabilities{
	Sampling: &mcp.SamplingCapabilities{}, Elicitation: &mcp.ElicitationCapabilities{}, RootsV2: &mcp.RootCapabilities{},
}}

// rerun plays the client's side of one more round: the request again, with
// the answers and the state of the last result.
func rerun(t *testing.T, r *Registry, bind, reqState string, answers map[string]string) *asker {
	t.Helper()
	resp := mcp.InputResponseMap{}
	for k, v := range answers {
		var er mcp.ElicitResult
		if err := json.Unmarshal([]byte(v), &er); err != nil {
			t.Fatal(err)
		}
		resp[k] = &er
	}
	a, err := r.newAsker(nil, everything, bind, reqState, resp)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReplayAnswersEarlierRoundsInOrder(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	bind := bindRequest("tools/call", "t", map[string]any{"a": 1})
	step1 := map[string]runtime.Question{"step1": question("elicitation/create", `{"message":"name?"}`)}
	step2 := map[string]runtime.Question{"step2": question("elicitation/create", `{"message":"color?"}`)}

	// Round 1: the first question ends the request.
	a := rerun(t, r, bind, "", nil)
	if _, err := a.Ask(t.Context(), step1); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatalf("first ask: %v, want ErrInputRequired", err)
	}
	ir, err := a.replay.inputRequired()
	if err != nil || len(ir.requests) != 1 || ir.requests["step1"] == nil || ir.state == "" {
		t.Fatalf("input required = %+v, %v", ir, err)
	}

	// Round 2: step1 is answered from the response, step2 is asked.
	a = rerun(t, r, bind, ir.state, map[string]string{"step1": `{"action":"accept","content":{"name":"Ada"}}`})
	got, err := a.Ask(t.Context(), step1)
	if err != nil || !strings.Contains(string(got["step1"]), "Ada") {
		t.Fatalf("replayed step1 = %s, %v", got["step1"], err)
	}
	if _, err := a.Ask(t.Context(), step2); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatalf("step2: %v, want ErrInputRequired", err)
	}
	ir2, err := a.replay.inputRequired()
	if err != nil || ir2.requests["step2"] == nil || ir2.state == ir.state {
		t.Fatalf("second input required = %+v, %v", ir2, err)
	}

	// Round 3: both are answered, step1 from the state alone.
	a = rerun(t, r, bind, ir2.state, map[string]string{"step2": `{"action":"accept","content":{"color":"blue"}}`})
	if got, err := a.Ask(t.Context(), step1); err != nil || !strings.Contains(string(got["step1"]), "Ada") {
		t.Fatalf("step1 from the state = %s, %v", got["step1"], err)
	}
	if got, err := a.Ask(t.Context(), step2); err != nil || !strings.Contains(string(got["step2"]), "blue") {
		t.Fatalf("step2 = %s, %v", got["step2"], err)
	}

	// A guest that asks something else on the replay fails, rather than
	// getting an answer to another question.
	a = rerun(t, r, bind, ir2.state, nil)
	if _, err := a.Ask(t.Context(), step2); err == nil || errors.Is(err, runtime.ErrInputRequired) || !strings.Contains(err.Error(), "same questions in the same order") {
		t.Fatalf("changed question: %v", err)
	}
}

func TestReplayStateIsBoundToItsRequest(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	bind := bindRequest("tools/call", "t", map[string]any{"a": 1})
	a := rerun(t, r, bind, "", nil)
	if _, err := a.Ask(t.Context(), map[string]runtime.Question{"k": question("elicitation/create", `{"message":"?"}`)}); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatal(err)
	}
	ir, err := a.replay.inputRequired()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]string{
		"other arguments": bindRequest("tools/call", "t", map[string]any{"a": 2}),
		"other tool":      bindRequest("tools/call", "u", map[string]any{"a": 1}),
	} {
		_, err := r.newAsker(nil, everything, b, ir.state, nil)
		var je *jsonrpc.Error
		if !errors.As(err, &je) || je.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("%s: newAsker = %v, want an invalid-params error", name, err)
		}
	}
	if bindRequest("m", "t", map[string]any{"a": 1, "b": 2}) != bindRequest("m", "t", map[string]any{"b": 2, "a": 1}) {
		t.Error("the binding depends on the order of the arguments' keys")
	}
}

func TestReplayMissingAnswerAsksAgain(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	q := map[string]runtime.Question{"user_name": question("elicitation/create", `{"message":"?"}`)}
	a := rerun(t, r, "b", "", nil)
	_, _ = a.Ask(t.Context(), q)
	ir, _ := a.replay.inputRequired()
	a = rerun(t, r, "b", ir.state, map[string]string{"wrong_key": `{"action":"accept"}`})
	if _, err := a.Ask(t.Context(), q); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatalf("ask with the answer missing: %v, want the round asked again", err)
	}
}

func TestReplayMissingCapability(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	a, err := r.newAsker(nil, peer{version: "2026-07-28", caps: &mcp.ClientCapabilities{}}, "b", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ask(t.Context(), map[string]runtime.Question{"s": question("sampling/createMessage", `{"messages":[],"maxTokens":1}`)}); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatal(err)
	}
	_, err = a.replay.inputRequired()
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != mcp.CodeMissingRequiredClientCapabilities || !strings.Contains(string(je.Data), `"sampling"`) {
		t.Fatalf("inputRequired = %v, want -32021 naming sampling", err)
	}
}

func TestOlderClientsAreAskedDirectly(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	a, err := r.newAsker(nil, peer{version: "2025-11-25", caps: &mcp.ClientCapabilities{}}, "b", "", nil)
	if err != nil || a.replay != nil {
		t.Fatalf("newAsker = %+v, %v; want a direct asker", a, err)
	}
	_, err = a.Ask(t.Context(), map[string]runtime.Question{"e": question("elicitation/create", `{"message":"?"}`)})
	if err == nil || errors.Is(err, runtime.ErrInputRequired) {
		t.Fatalf("ask without a session: %v", err)
	}
}

func TestReplayFirstRoundWithoutState(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	q := map[string]runtime.Question{"user_name": question("elicitation/create", `{"message":"?"}`)}
	a := rerun(t, r, "b", "", map[string]string{"user_name": `{"action":"accept","content":{"name":"Alice"}}`, "extra": `{"action":"decline"}`})
	got, err := a.Ask(t.Context(), q)
	if err != nil || !strings.Contains(string(got["user_name"]), "Alice") {
		t.Fatalf("first round answered without a state: %s, %v", got["user_name"], err)
	}
	// A second round cannot be answered without the state of the first.
	if _, err := a.Ask(t.Context(), map[string]runtime.Question{"user_name": question("elicitation/create", `{"message":"again?"}`)}); !errors.Is(err, runtime.ErrInputRequired) {
		t.Fatalf("second round: %v, want ErrInputRequired", err)
	}
}

// FuzzRequestState: a request state a client made up is refused, never
// opened, and never panics the server.
func FuzzRequestState(f *testing.F) {
	s := newSealer()
	real, err := s.seal(state{Bind: "b", Rounds: []round{{Questions: "q", Answers: map[string]json.RawMessage{"k": json.RawMessage(`{}`)}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	f.Add(real + "-TAMPERED")
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, text string) {
		r := &Registry{sealer: s}
		a, err := r.newAsker(nil, everything, "b", text, nil)
		if text == real {
			if err != nil {
				t.Fatalf("the real state: %v", err)
			}
			return
		}
		if text != "" && err == nil {
			t.Fatalf("a made-up state %q was accepted", text)
		}
		if text == "" && (err != nil || a.replay == nil) {
			t.Fatalf("no state: %v", err)
		}
	})
}

func TestReplaySuppressesWhatTheClientSawBefore(t *testing.T) {
	r := &Registry{sealer: newSealer()}
	q1 := map[string]runtime.Question{"q1": question("elicitation/create", `{"message":"1?"}`)}
	q2 := map[string]runtime.Question{"q2": question("elicitation/create", `{"message":"2?"}`)}

	// The first request: everything the guest reports is new.
	a := rerun(t, r, "b", "", nil)
	if a.replay.replaying() {
		t.Error("the first run counts as a replay")
	}
	_, _ = a.Ask(t.Context(), q1)
	ir, _ := a.replay.inputRequired()

	// The second: what comes before q1 was sent with the first request.
	a = rerun(t, r, "b", ir.state, map[string]string{"q1": `{"action":"accept"}`})
	if !a.replay.replaying() {
		t.Error("before q1 the second run is not a replay")
	}
	if _, err := a.Ask(t.Context(), q1); err != nil {
		t.Fatal(err)
	}
	if a.replay.replaying() {
		t.Error("after q1 is answered the run is still a replay")
	}
	_, _ = a.Ask(t.Context(), q2)
	ir, _ = a.replay.inputRequired()

	// The third: up to q2.
	a = rerun(t, r, "b", ir.state, map[string]string{"q2": `{"action":"accept"}`})
	for i, q := range []map[string]runtime.Question{q1, q2} {
		if !a.replay.replaying() {
			t.Errorf("before question %d the third run is not a replay", i+1)
		}
		if _, err := a.Ask(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if a.replay.replaying() {
		t.Error("after q2 the third run is still a replay")
	}
}
