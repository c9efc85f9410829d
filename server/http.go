package server

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ErrClientGone is the cause of a call cancelled because the HTTP request
// that carried it ended before its result was sent.
var ErrClientGone = errors.New("the client closed the HTTP request that carried the call")

// tagHeader carries a request's tag from CancelOnDisconnect to the tool
// handler, which sees the HTTP headers of the request that carried the call.
const tagHeader = "Wasmgate-Call-Tag"

// CancelOnDisconnect wraps a streamable HTTP handler
// (mcp.NewStreamableHTTPHandler) so that a tools/call whose HTTP request
// ends before its result is written, because the client went away, is
// cancelled and its guest stopped.
//
// Without it a stateful streamable session keeps running such calls to the
// end, as the SDK expects the client might resume the stream (SDK sessions
// without an event store cannot). Stateless sessions end with their request
// and cancel their calls anyway. Do not wrap the SSE handler
// (mcp.NewSSEHandler): its POSTs return before the calls they carry have run.
func (r *Registry) CancelOnDisconnect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			next.ServeHTTP(w, req)
			return
		}
		tag := r.calls.open()
		defer r.calls.close(tag)
		req = req.Clone(req.Context())
		req.Header.Set(tagHeader, tag) // replaces any value the client sent
		next.ServeHTTP(w, req)
	})
}

// tracker maps the tag of each HTTP request in flight to the calls it
// carries.
type tracker struct {
	prefix string // unguessable, so a client cannot name another's request

	mu   sync.Mutex
	next uint64
	live map[string]map[*trackedCall]struct{}
}

type trackedCall struct{ cancel context.CancelCauseFunc }

func newTracker() *tracker {
	return &tracker{prefix: rand.Text() + "-", live: map[string]map[*trackedCall]struct{}{}}
}

func (t *tracker) open() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	tag := t.prefix + strconv.FormatUint(t.next, 10)
	t.live[tag] = map[*trackedCall]struct{}{}
	return tag
}

// close cancels the calls of a request that has ended. Calls that finished
// have already removed themselves.
func (t *tracker) close(tag string) {
	t.mu.Lock()
	calls := t.live[tag]
	delete(t.live, tag)
	t.mu.Unlock()
	for c := range calls {
		c.cancel(ErrClientGone)
	}
}

// track returns a context cancelled when the HTTP request that carried the
// call ends, and a function to call when the call is done. Calls that did
// not come through CancelOnDisconnect are not tracked.
func (t *tracker) track(ctx context.Context, extra *mcp.RequestExtra) (context.Context, func()) {
	ctx, release, _ := t.trackDetachable(ctx, extra)
	return ctx, release
}

// trackDetachable is track, with a function that stops tracking the call
// without ending it: for a stream the server closes itself, which the
// client resumes.
func (t *tracker) trackDetachable(ctx context.Context, extra *mcp.RequestExtra) (context.Context, func(), func()) {
	if extra == nil || extra.Header == nil {
		return ctx, func() {}, func() {}
	}
	tag := extra.Header.Get(tagHeader)
	if !strings.HasPrefix(tag, t.prefix) {
		return ctx, func() {}, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	c := &trackedCall{cancel: cancel}
	t.mu.Lock()
	calls, ok := t.live[tag]
	if ok {
		calls[c] = struct{}{}
	}
	t.mu.Unlock()
	if !ok {
		cancel(ErrClientGone) // the request ended before the call started
	}
	detach := func() {
		t.mu.Lock()
		delete(t.live[tag], c)
		t.mu.Unlock()
	}
	return ctx, func() { detach(); cancel(nil) }, detach
}

// ProtocolRevisionHeader is the HTTP header that names the MCP revision of
// a request.
const ProtocolRevisionHeader = "Mcp-Protocol-Version"

// ByRevision serves requests of MCP revision 2026-07-28 and later, which
// carry their revision in the Mcp-Protocol-Version header and need no
// session, with current (a stateless streamable handler), and all others
// (initialize, and requests of sessions on earlier revisions) with legacy
// (a stateful one). Both should serve the same *mcp.Server, so one URL
// answers clients of either generation.
func ByRevision(legacy, current http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(ProtocolRevisionHeader); v != "" && v >= protocolInputRequired {
			current.ServeHTTP(w, r)
			return
		}
		legacy.ServeHTTP(w, r)
	})
}
