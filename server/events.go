package server

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
)

// eventQueue is how many reports of one call may wait for the client. The
// runtime caps a call at 1000 reports; past the queue they are dropped
// rather than making the guest wait on a slow client.
const eventQueue = 256

// events forwards a call's log and progress reports to the client's session
// as notifications. The guest only queues them: a goroutine, started on the
// first report, sends them with the request's context so they travel with
// the call (on its HTTP stream, for instance) and arrive before its result.
type events struct {
	ctx     context.Context
	srv     *mcp.Server
	session *mcp.ServerSession
	logger  string
	token   any // progress token of the request; nil drops progress reports

	mu      sync.Mutex // guards the fields below
	queue   chan *notification
	done    chan struct{}
	closed  bool
	dropped int
}

type notification struct {
	log      *mcp.LoggingMessageParams
	progress *mcp.ProgressNotificationParams
	updated  *mcp.ResourceUpdatedNotificationParams
}

// newEvents forwards reports to session; token is the request's progress
// token, nil when it has none.
func newEvents(ctx context.Context, srv *mcp.Server, session *mcp.ServerSession, token any, module string) *events {
	return &events{ctx: ctx, srv: srv, session: session, logger: module, token: token}
}

// ResourceUpdated implements runtime.ResourceEvents: the clients
// subscribed to uri are told it changed, whether or not the call's own
// client is still there.
func (e *events) ResourceUpdated(uri string) {
	if e.srv != nil {
		e.send(&notification{updated: &mcp.ResourceUpdatedNotificationParams{URI: uri}})
	}
}

// Log implements runtime.Events.
func (e *events) Log(level abi.LogLevel, msg string) {
	e.send(&notification{log: &mcp.LoggingMessageParams{Level: mcp.LoggingLevel(level.String()), Logger: e.logger, Data: msg}})
}

// Progress implements runtime.Events.
func (e *events) Progress(progress, total float64, msg string) {
	if e.token == nil {
		return
	}
	p := &mcp.ProgressNotificationParams{ProgressToken: e.token, Progress: progress, Message: msg}
	if total > 0 {
		p.Total = total
	}
	e.send(&notification{progress: p})
}

func (e *events) send(n *notification) {
	if e.session == nil && n.updated == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.queue == nil {
		e.queue = make(chan *notification, eventQueue)
		e.done = make(chan struct{})
		go e.run(e.queue, e.done)
	}
	select {
	case e.queue <- n:
	default:
		e.dropped++
	}
}

func (e *events) run(queue <-chan *notification, done chan<- struct{}) {
	defer close(done)
	for n := range queue {
		if n.updated != nil {
			_ = e.srv.ResourceUpdated(context.WithoutCancel(e.ctx), n.updated)
			continue
		}
		if e.ctx.Err() != nil {
			continue // the call is over for the client; drain
		}
		switch {
		case n.log != nil:
			_ = e.session.Log(e.ctx, n.log)
		case n.progress != nil:
			_ = e.session.NotifyProgress(e.ctx, n.progress)
		}
	}
}

// finish waits until the queued reports are sent (or dropped, if the call
// was cancelled) and returns how many were dropped for a slow client.
func (e *events) finish() int {
	e.mu.Lock()
	e.closed = true
	done, dropped := e.done, e.dropped
	if e.queue != nil {
		close(e.queue)
	}
	e.mu.Unlock()
	if done != nil {
		<-done
	}
	return dropped
}
