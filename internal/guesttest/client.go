package guesttest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// Answer answers one question of an ask: the question's key and what it asks.
type Answer func(key string, q runtime.Question) (json.RawMessage, error)

// Client is a runtime.Client that stands for the MCP client: it records
// each ask it is given and answers its questions, in the order of their
// keys, with Answer.
type Client struct {
	// Answer answers each question; an error fails the whole ask.
	Answer Answer
	// Err, when set, is what the client returns for every ask instead of
	// answers, once the questions are recorded: a client that fails, or
	// runtime.ErrInputRequired for one whose answers come with a later
	// request (MCP 2026-07-28).
	Err error

	mu   sync.Mutex
	asks []map[string]runtime.Question
}

// Ask implements runtime.Client.
func (c *Client) Ask(ctx context.Context, qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	c.mu.Lock()
	c.asks = append(c.asks, qs)
	c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	answers := map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(qs)) {
		a, err := c.Answer(k, qs[k])
		if err != nil {
			return nil, err
		}
		answers[k] = a
	}
	return answers, nil
}

// Asks returns the asks the client was given, in order.
func (c *Client) Asks() []map[string]runtime.Question {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.asks)
}

// Questions returns every question the client was asked, in order (by key
// within one ask), each as "key method params".
func (c *Client) Questions() []string {
	var qs []string
	for _, ask := range c.Asks() {
		for _, k := range slices.Sorted(maps.Keys(ask)) {
			qs = append(qs, k+" "+ask[k].Method+" "+string(ask[k].Params))
		}
	}
	return qs
}

// Asked returns each ask the client was given as its questions' "key
// method", by key, joined with ", ".
func (c *Client) Asked() []string {
	var asks []string
	for _, ask := range c.Asks() {
		var qs []string
		for _, k := range slices.Sorted(maps.Keys(ask)) {
			qs = append(qs, k+" "+ask[k].Method)
		}
		asks = append(asks, strings.Join(qs, ", "))
	}
	return asks
}

// Answering answers every question with answer.
func Answering(answer string) Answer {
	return func(string, runtime.Question) (json.RawMessage, error) { return json.RawMessage(answer), nil }
}

// ByMethod answers each question with the answer given for its method; a
// question of another method fails the ask.
func ByMethod(answers map[string]string) Answer {
	return func(key string, q runtime.Question) (json.RawMessage, error) {
		a, ok := answers[q.Method]
		if !ok {
			return nil, fmt.Errorf("unexpected question %s %s", key, q.Method)
		}
		return json.RawMessage(a), nil
	}
}

// ClientInfo describes a client on MCP 2025-11-25 that declares the
// capabilities named: sampling and elicitation as {}, roots as
// {"listChanged":true}.
func ClientInfo(capabilities ...string) *abi.ClientInfo {
	info := &abi.ClientInfo{ProtocolVersion: "2025-11-25", Capabilities: map[string]json.RawMessage{}}
	for _, c := range capabilities {
		info.Capabilities[c] = json.RawMessage(`{}`)
		if c == "roots" {
			info.Capabilities[c] = json.RawMessage(`{"listChanged":true}`)
		}
	}
	return info
}
