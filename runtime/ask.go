package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Client is the MCP client a call serves. The sample, elicit and ask host
// functions (package host/client) put the guest's questions to it.
type Client interface {
	// Ask sends questions to the client and returns its answers under the
	// same keys. Each question is an MCP request the server may send a
	// client: sampling/createMessage, elicitation/create or roots/list.
	// An Ask that cannot be answered during this request returns an error
	// wrapping ErrInputRequired: the answers come with a later request.
	Ask(ctx context.Context, questions map[string]Question) (map[string]json.RawMessage, error)
}

// Question is one request to the client: an MCP method and its params.
type Question struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// ErrInputRequired is returned (wrapped) by a Client whose answers must
// come in a later request: the MCP 2026-07-28 protocol, where a server asks
// its client by returning an input-required result. The call then ends with
// KindInputRequired and is run again, from the start, with the answers.
var ErrInputRequired = errors.New("the client's answer comes with a later request")

// Client returns the client of the current call, nil when the call has
// none.
func (h *HostCall) Client() Client { return h.st.client }

// Ask puts questions to the call's client. The time spent waiting for the
// answer does not count against the call's timeout; it is bounded by the
// call's ClientWait limit instead. When the client's answers come with a
// later request (ErrInputRequired), Ask does not return: the guest is
// stopped and the call ends with KindInputRequired.
func (h *HostCall) Ask(ctx context.Context, questions map[string]Question) (map[string]json.RawMessage, error) {
	if h.st.client == nil {
		return nil, errors.New("this call has no MCP client to ask")
	}
	st := h.st
	st.pauseClock()
	defer st.resumeClock()
	wctx, cancel := context.WithTimeout(ctx, st.limits.ClientWait)
	defer cancel()
	answers, err := st.client.Ask(wctx, questions)
	if errors.Is(err, ErrInputRequired) {
		st.mu.Lock()
		if st.reason == "" {
			st.reason = KindInputRequired
		}
		st.mu.Unlock()
		panic(errSuspend)
	}
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil, errClientWait{st.limits.ClientWait}
	}
	return answers, err
}

type errClientWait struct{ d time.Duration }

func (e errClientWait) Error() string {
	return "the client did not answer within " + e.d.String() + " (the ClientWait limit)"
}

type suspendError struct{}

func (suspendError) Error() string { return "call suspended until the client answers" }

// errSuspend unwinds a guest whose call waits for input from a later
// request.
var errSuspend error = suspendError{}

// clock is a call's deadline that can stop while the call waits for its
// client.
type clock struct {
	timer     *time.Timer
	remaining time.Duration
	started   time.Time
	paused    int
}

func (st *callState) pauseClock() {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := &st.clock
	c.paused++
	if c.paused > 1 || c.timer == nil {
		return
	}
	if c.timer.Stop() {
		c.remaining -= time.Since(c.started)
	} else {
		c.remaining = 0
	}
}

func (st *callState) resumeClock() {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := &st.clock
	c.paused--
	if c.paused > 0 || c.timer == nil || c.remaining <= 0 {
		return
	}
	c.started = time.Now()
	c.timer.Reset(c.remaining)
}
