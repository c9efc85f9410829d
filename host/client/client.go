// Package client provides the host functions that put a guest's questions
// to the MCP client: sample (sampling/createMessage), elicit
// (elicitation/create) and ask (several at once, roots/list included), as
// abi/ABI.md describes them.
//
// Each kind of question needs its grant (Grant.Sampling, Elicitation,
// Roots); without it the function returns denied and the
// attempt is recorded. The call's runtime.Client carries the question to
// the client, by a request on protocol revisions up to 2025-11-25 and by an
// input-required result on 2026-07-28.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// Host function names.
const (
	FuncSample = abi.FuncSample
	FuncElicit = abi.FuncElicit
	FuncAsk    = abi.FuncAsk
)

// MCP methods a guest may ask its client.
const (
	MethodSample = abi.MethodSample
	MethodElicit = abi.MethodElicit
	MethodRoots  = abi.MethodRoots
)

// Bounds on one request.
const (
	// MaxRequest is the longest request sample, elicit or ask accepts.
	MaxRequest = 1 << 20
	// MaxQuestions is the most questions one ask may hold.
	MaxQuestions = 16
)

var keyRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// HostFuncs returns sample, elicit and ask, for
// runtime.Config.WithHostFunctions.
func HostFuncs() []runtime.HostFunc {
	i32 := engine.I32
	one := func(name, method string) runtime.HostFunc {
		return runtime.HostFunc{
			Name: name, Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32},
			Fn: func(ctx context.Context, h *runtime.HostCall, stack []uint64) {
				stack[0] = engine.EncodeI32(single(ctx, h, name, method, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
			},
		}
	}
	return []runtime.HostFunc{
		one(FuncSample, MethodSample),
		one(FuncElicit, MethodElicit),
		{
			Name: FuncAsk, Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32},
			Fn: func(ctx context.Context, h *runtime.HostCall, stack []uint64) {
				stack[0] = engine.EncodeI32(ask(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
			},
		},
	}
}

// single serves sample and elicit: the params of one question, answered
// with its result.
func single(ctx context.Context, h *runtime.HostCall, fn, method string, ptr, n uint32) int32 {
	if status, ok := granted(h, fn, method); !ok {
		return status
	}
	if n > MaxRequest {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the request is %d bytes, over the limit of %d", fn, n, MaxRequest))
	}
	params := h.Read(fn, ptr, n)
	if err := check(method, params); err != nil {
		return h.Fail(abi.ErrInvalid, fmt.Sprintf("%s: %v", fn, err))
	}
	key := fn // the question's key, on protocols that name questions
	answers, status := put(ctx, h, fn, map[string]runtime.Question{key: {Method: method, Params: params}})
	if status < 0 {
		return status
	}
	return h.Respond(answers[key])
}

// ask serves ask: an object of questions by key, answered with an object
// of results by the same keys.
func ask(ctx context.Context, h *runtime.HostCall, ptr, n uint32) int32 {
	if n > MaxRequest {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the request is %d bytes, over the limit of %d", FuncAsk, n, MaxRequest))
	}
	var qs map[string]runtime.Question
	if err := json.Unmarshal(h.Read(FuncAsk, ptr, n), &qs); err != nil {
		return h.Fail(abi.ErrInvalid, fmt.Sprintf(`%s: the request must be a JSON object of questions, {"key": {"method": "...", "params": {...}}}: %v`, FuncAsk, err))
	}
	switch {
	case len(qs) == 0:
		return h.Fail(abi.ErrInvalid, FuncAsk+": the request holds no questions")
	case len(qs) > MaxQuestions:
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: %d questions, over the limit of %d", FuncAsk, len(qs), MaxQuestions))
	}
	for _, k := range slices.Sorted(maps.Keys(qs)) {
		q := qs[k]
		if !keyRE.MatchString(k) {
			return h.Fail(abi.ErrInvalid, fmt.Sprintf("%s: key %q: use 1 to 64 of A-Z a-z 0-9 _ . -", FuncAsk, k))
		}
		if status, ok := granted(h, FuncAsk, q.Method); !ok {
			return status
		}
		if len(q.Params) == 0 || string(q.Params) == "null" {
			q.Params = json.RawMessage("{}")
			qs[k] = q
		}
		if err := check(q.Method, q.Params); err != nil {
			return h.Fail(abi.ErrInvalid, fmt.Sprintf("%s: question %q: %v", FuncAsk, k, err))
		}
	}
	answers, status := put(ctx, h, FuncAsk, qs)
	if status < 0 {
		return status
	}
	b, err := json.Marshal(answers)
	if err != nil {
		return h.Fail(abi.ErrFailed, fmt.Sprintf("%s: encode the answers: %v", FuncAsk, err))
	}
	return h.Respond(b)
}

// granted checks that the call may ask method, returning the status to
// give the guest when it may not.
func granted(h *runtime.HostCall, fn, method string) (int32, bool) {
	g, _ := runtime.Granted[*Grant](h, Name)
	var perm string
	switch method {
	case MethodSample:
		perm = Sampling
	case MethodElicit:
		perm = Elicitation
	case MethodRoots:
		perm = Roots
	default:
		return h.Fail(abi.ErrInvalid, fmt.Sprintf("%s: %q is not a question for the client: use %s, %s or %s", fn, method, MethodSample, MethodElicit, MethodRoots)), false
	}
	if g.allows(perm) {
		return 0, true
	}
	m := h.Module()
	return h.Deny(fmt.Sprintf("%s: %s is not granted to module %s: the module must ask for it in its manifest (permissions.%s: true) and the operator grant it in the policy (modules.%s.%s: true)", fn, method, m, perm, m, perm)), false
}

// check decodes params as method's MCP params, so that a malformed
// question is the guest's error and never reaches the client.
func check(method string, params json.RawMessage) error {
	switch method {
	case MethodSample:
		var p mcp.CreateMessageParams
		if err := json.Unmarshal(params, &p); err != nil {
			return fmt.Errorf("not sampling/createMessage params: %v", err)
		}
		if len(p.Messages) == 0 {
			return errors.New(`sampling/createMessage needs "messages"`)
		}
		if p.MaxTokens <= 0 {
			return errors.New(`sampling/createMessage needs "maxTokens" above 0`)
		}
	case MethodElicit:
		var p mcp.ElicitParams
		if err := json.Unmarshal(params, &p); err != nil {
			return fmt.Errorf("not elicitation/create params: %v", err)
		}
		if p.Message == "" {
			return errors.New(`elicitation/create needs "message"`)
		}
	case MethodRoots:
		var p map[string]any
		if err := json.Unmarshal(params, &p); err != nil {
			return fmt.Errorf("roots/list params must be an object: %v", err)
		}
	}
	return nil
}

// put asks the client and turns its failure into a status for the guest.
func put(ctx context.Context, h *runtime.HostCall, fn string, qs map[string]runtime.Question) (map[string]json.RawMessage, int32) {
	answers, err := h.Ask(ctx, qs)
	switch {
	case err == nil:
		for k := range qs {
			if _, ok := answers[k]; !ok {
				return nil, h.Fail(abi.ErrFailed, fmt.Sprintf("%s: the client gave no answer to %q", fn, k))
			}
		}
		return answers, 0
	case ctx.Err() != nil:
		return nil, h.Fail(abi.ErrCancelled, fmt.Sprintf("%s: the call was cancelled or ran out of time while waiting for the client", fn))
	}
	return nil, h.Fail(abi.ErrFailed, fmt.Sprintf("%s: %v", fn, err))
}
