package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// slowClient answers each question with its params reversed, after delay,
// or fails with err.
type slowClient struct {
	delay time.Duration
	err   error
}

func (c slowClient) Ask(ctx context.Context, qs map[string]Question) (map[string]json.RawMessage, error) {
	select {
	case <-time.After(c.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		return nil, c.err
	}
	out := map[string]json.RawMessage{}
	for k, q := range qs {
		var s string
		_ = json.Unmarshal(q.Params, &s)
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		out[k], _ = json.Marshal(string(r))
	}
	return out, nil
}

func TestAskWaitDoesNotCountAgainstTimeout(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/respond.wasm")
		// The client takes three times the call's timeout to answer.
		out, _ := m.Call(context.Background(), Call{Tool: "respond", Limits: Limits{Timeout: 100 * time.Millisecond}, Client: slowClient{delay: 300 * time.Millisecond}})
		if out.Err != nil || text(out.Result) != "GNIP!" {
			t.Fatalf("err=%v text=%q, want GNIP! (the client's answer, upper-cased)", out.Err, text(out.Result))
		}
	})
}

func TestAskWaitIsBoundedByClientWait(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/respond.wasm")
		out, _ := m.Call(context.Background(), Call{Tool: "respond", Limits: Limits{ClientWait: 50 * time.Millisecond}, Client: slowClient{delay: time.Minute}})
		// respond.wasm exits with 10 when the host function fails.
		if out.Err == nil || out.Err.Kind != KindExit || out.Err.ExitCode != 10 {
			t.Fatalf("err=%v, want the guest's exit 10 after a failed ask", out.Err)
		}
		if out.Duration > 10*time.Second {
			t.Errorf("the call took %s", out.Duration)
		}
	})
}

func TestAskInputRequiredEndsTheCall(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/respond.wasm")
		out, _ := m.Call(context.Background(), Call{Tool: "respond", Client: slowClient{err: fmt.Errorf("round 1: %w", ErrInputRequired)}})
		if out.Err == nil || out.Err.Kind != KindInputRequired {
			t.Fatalf("err=%v, want %s", out.Err, KindInputRequired)
		}
		// The next call of the module is unaffected.
		out, _ = m.Call(context.Background(), Call{Tool: "respond"})
		if out.Err != nil || text(out.Result) != "PING!" {
			t.Fatalf("next call: err=%v text=%q", out.Err, text(out.Result))
		}
	})
}

func TestAskCancelledWhileWaiting(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/respond.wasm")
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		out, _ := m.Call(ctx, Call{Tool: "respond", Client: slowClient{delay: time.Minute}})
		if out.Err == nil || out.Err.Kind != KindCancelled || !errors.Is(out.Err, context.Canceled) {
			t.Fatalf("err=%v, want cancelled", out.Err)
		}
	})
}
