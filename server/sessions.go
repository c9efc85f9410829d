package server

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// sessionHeader carries the ID of a streamable HTTP session.
const sessionHeader = "Mcp-Session-Id"

// sessions bounds and expires the HTTP sessions of one *mcp.Server.
//
// A streamable session is idle while none of its HTTP requests is in
// flight (a POST being answered, a GET stream open) and none of its calls
// runs (a call that gave its stream back, see Options.PollAfter, runs on
// while the client reconnects). The go-sdk's own
// StreamableHTTPOptions.SessionTimeout counts only POSTs, and would end a
// session whose client listens on its GET stream for resource updates.
//
// A legacy SSE session lasts as long as its GET stream: it counts towards
// the bound and ends with its stream, so it needs no timeout.
type sessions struct {
	srv     *mcp.Server
	reg     *Registry
	timeout time.Duration // <= 0: never
	max     int           // <= 0: no bound

	mu    sync.Mutex
	live  map[string]*liveSession // streamable sessions by ID
	other int                     // sessions being created, and SSE streams
}

type liveSession struct {
	active int         // HTTP requests in flight
	timer  *time.Timer // nil without a timeout
}

func newSessions(srv *mcp.Server, reg *Registry, timeout time.Duration, max int) *sessions {
	return &sessions{srv: srv, reg: reg, timeout: timeout, max: max, live: map[string]*liveSession{}}
}

// count is how many sessions are open or being opened.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	return len(s.live) + s.other
}

// streamable wraps a stateful streamable HTTP handler.
func (s *sessions) streamable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get(sessionHeader); id != "" {
			// A request of an unknown session is left to the SDK (404). A
			// session the client deleted is dropped from the count by
			// the next prune.
			if s.enter(id) {
				defer s.leave(id)
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r) // the SDK refuses it
			return
		}
		if !s.reserve() {
			refuseSession(w, s.max)
			return
		}
		// The session is counted from the moment the SDK names it in the
		// response header, before the client can send its next request.
		sw := &sessionWriter{ResponseWriter: w}
		sw.onHeader = func() {
			if id := w.Header().Get(sessionHeader); id != "" {
				sw.id = id
				s.admit(id)
			}
		}
		defer func() {
			if sw.id != "" {
				s.leave(sw.id)
			} else {
				s.release()
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// sse wraps a legacy SSE handler: each GET stream is a session.
func (s *sessions) sse(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		if !s.reserve() {
			refuseSession(w, s.max)
			return
		}
		defer s.release()
		next.ServeHTTP(w, r)
	})
}

func refuseSession(w http.ResponseWriter, max int) {
	sessions := fmt.Sprintf("%d sessions", max)
	if max == 1 {
		sessions = "1 session"
	}
	http.Error(w, "service unavailable: this server already holds its maximum of "+sessions+"; try again when one ends", http.StatusServiceUnavailable)
}

// reserve counts a session about to be created, if the bound allows it.
func (s *sessions) reserve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && len(s.live)+s.other >= s.max {
		s.pruneLocked()
		if len(s.live)+s.other >= s.max {
			return false
		}
	}
	s.other++
	return true
}

// release gives back a reservation that did not become a session.
func (s *sessions) release() {
	s.mu.Lock()
	s.other--
	s.mu.Unlock()
}

// admit turns a reservation into a live session with one request (the
// one creating it) in flight.
func (s *sessions) admit(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.other--
	ls := &liveSession{active: 1}
	if s.timeout > 0 {
		ls.timer = time.AfterFunc(s.timeout, func() { s.expire(id, ls) })
		ls.timer.Stop()
	}
	s.live[id] = ls
}

// enter counts a request of session id in flight; it reports whether the
// session is known.
func (s *sessions) enter(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.live[id]
	if ls == nil {
		return false
	}
	ls.active++
	if ls.timer != nil {
		ls.timer.Stop()
	}
	return true
}

// leave ends a request of session id; the session's idle time starts
// when its last request ends.
func (s *sessions) leave(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.live[id]
	if ls == nil {
		return
	}
	if ls.active--; ls.active == 0 && ls.timer != nil {
		ls.timer.Reset(s.timeout)
	}
}

// expire closes an idle session, unless a request or call began meanwhile.
func (s *sessions) expire(id string, ls *liveSession) {
	s.mu.Lock()
	if s.live[id] != ls || ls.active > 0 {
		s.mu.Unlock()
		return
	}
	if s.reg != nil && s.reg.running.busy(id) {
		ls.timer.Reset(s.timeout)
		s.mu.Unlock()
		return
	}
	delete(s.live, id)
	s.mu.Unlock()
	for ss := range s.srv.Sessions() {
		if ss.ID() == id {
			ss.Close()
		}
	}
}

// pruneLocked drops the sessions that ended without this table seeing it
// (deleted by the client, closed by the SDK after a failed
// initialization).
func (s *sessions) pruneLocked() {
	open := map[string]bool{}
	for ss := range s.srv.Sessions() {
		open[ss.ID()] = true
	}
	for id, ls := range s.live {
		if !open[id] && ls.active == 0 {
			s.dropLocked(id, ls)
		}
	}
}

func (s *sessions) dropLocked(id string, ls *liveSession) {
	if ls.timer != nil {
		ls.timer.Stop()
	}
	delete(s.live, id)
}

// stop stops every timer, for shutdown.
func (s *sessions) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, ls := range s.live {
		s.dropLocked(id, ls)
	}
}

// sessionWriter calls onHeader once, just before the response header is
// written.
type sessionWriter struct {
	http.ResponseWriter
	onHeader func()
	id       string
	wrote    bool
}

func (w *sessionWriter) header() {
	if !w.wrote {
		w.wrote = true
		w.onHeader()
	}
}

func (w *sessionWriter) WriteHeader(code int) {
	w.header()
	w.ResponseWriter.WriteHeader(code)
}

func (w *sessionWriter) Write(b []byte) (int, error) {
	w.header()
	return w.ResponseWriter.Write(b)
}

func (w *sessionWriter) Flush() {
	w.header()
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// runningCalls counts the guest calls running per session ID.
type runningCalls struct {
	mu sync.Mutex
	n  map[string]int
}

// start counts a call of session id until the returned function is called.
func (c *runningCalls) start(id string) func() {
	if id == "" {
		return func() {}
	}
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[id]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		if c.n[id]--; c.n[id] == 0 {
			delete(c.n, id)
		}
		c.mu.Unlock()
	}
}

func (c *runningCalls) busy(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id] > 0
}
