package security

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// The HTTP front end's limits in these tests: short, so that the attacks
// they cut off end quickly. No test asserts how long anything took; a
// deadline only bounds the wait for what must happen sooner or later.
const (
	testReadTimeout    = 300 * time.Millisecond
	testIdleTimeout    = 300 * time.Millisecond
	testSessionTimeout = 300 * time.Millisecond
	// eventually bounds the wait for something that must happen, however
	// busy the machine.
	eventually = 60 * time.Second
)

// front is wasmgate's HTTP front end on a loopback port, serving the hash
// module and the hostile sleep, whose calls last their time limit.
type front struct {
	hs   *server.HTTPServer
	base string // http://127.0.0.1:PORT
	addr string // 127.0.0.1:PORT
}

func newFront(t *testing.T, opts *server.Options, hopts *server.HTTPOptions) *front {
	t.Helper()
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	var mods []*runtime.Module
	for _, p := range []string{"../guests/c/hash/hash.wasm", hostileDir + "sleep.wasm"} {
		m, err := rt.Load(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m)
	}
	if opts == nil {
		opts = &server.Options{}
	}
	if opts.Limits.Timeout == 0 {
		// Longer than every HTTP limit: a call's stream outlives them.
		opts.Limits.Timeout = 5 * testReadTimeout
	}
	srv, reg, err := server.New(nil, mods, opts)
	if err != nil {
		t.Fatal(err)
	}
	o := server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: testSessionTimeout}
	if hopts != nil {
		o = *hopts
	}
	hs, err := server.NewHTTPServer(srv, reg, &o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		hs.Shutdown(ctx)
		<-served
	})
	return &front{hs: hs, base: "http://" + ln.Addr().String(), addr: ln.Addr().String()}
}

// headerTransport sets headers on every request, on a connection of its
// own: a normal client that no idle-connection limit can race with.
type headerTransport struct{ header http.Header }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header[k] = v
	}
	return noKeepAlive.RoundTrip(r)
}

var noKeepAlive = &http.Transport{DisableKeepAlives: true}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// normalCall is a client's whole session: connect, call sha256, close.
func (f *front) normalCall(t *testing.T, header http.Header) {
	t.Helper()
	if err := f.tryNormalCall(header); err != nil {
		t.Fatal(err)
	}
}

func (f *front) tryNormalCall(header http.Header) error {
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	cs, err := f.connect(ctx, header)
	if err != nil {
		return fmt.Errorf("normal client: connect: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": "abc"}})
	if err != nil {
		return fmt.Errorf("normal client: call: %v", err)
	}
	if text := httpToolText(res); res.IsError || !strings.Contains(text, "ba7816bf") {
		return fmt.Errorf("normal client: sha256 answered %q (isError %v)", clip(text), res.IsError)
	}
	return nil
}

// connect connects a go-sdk client over streamable HTTP, with a session.
func (f *front) connect(ctx context.Context, header http.Header) (*mcp.ClientSession, error) {
	transport := &mcp.StreamableClientTransport{Endpoint: f.base + "/mcp", HTTPClient: &http.Client{Transport: headerTransport{header}}}
	return mcp.NewClient(&mcp.Implementation{Name: "normal"}, nil).Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
}

func httpToolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// settle waits until the goroutines are back near their baseline and the
// server holds no session.
func (f *front) settle(t *testing.T, goroutines int) {
	t.Helper()
	noKeepAlive.CloseIdleConnections()
	waitUntil(t, "the sessions to end", func() bool { return f.hs.Sessions() == 0 })
	for deadline := time.Now().Add(eventually); goruntime.NumGoroutine() > goroutines+2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after\n%s", goroutines, goruntime.NumGoroutine(), buf[:goruntime.Stack(buf, true)])
		}
	}
}

// waitUntil polls cond until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(eventually); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", eventually, what)
		}
	}
}

// dial opens a raw connection to the front end; the connection's reads
// fail after eventually, so that no test waits forever.
func (f *front) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(eventually))
	t.Cleanup(func() { c.Close() })
	return c
}

// cutOff sends head, then trickles drip, one byte every 10 ms, until the
// server closes the connection. It reports what the server answered and
// how long it held the connection.
func cutOff(c net.Conn, head, drip string) (answer string, held time.Duration) {
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		return "write: " + err.Error(), time.Since(start)
	}
	done := make(chan string, 1)
	go func() {
		b, err := io.ReadAll(c) // until the server closes the connection
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			b = append(b, "(still open after "+eventually.String()+")"...)
		}
		done <- string(b)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case answer = <-done:
			return answer, time.Since(start)
		case <-tick.C:
			if drip != "" {
				c.Write([]byte{drip[i%len(drip)]}) // fails once the server has closed it
			}
		}
	}
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// postHead is the start of a POST to /mcp, up to its body.
func postHead(extra string) string {
	return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" + extra + "\r\n"
}

// initialize opens a session the way a client does, and leaves it.
func (f *front) initialize(t *testing.T, header http.Header) (*http.Response, string) {
	t.Helper()
	// The tests' read timeout is short, to cut attacks off quickly; on a
	// busy machine it can also cut off a good request the server was not
	// scheduled to read in time. A good client that loses its connection
	// tries again, for as long as a wait may last; an answer, whatever its
	// status, is the verdict.
	for deadline := time.Now().Add(eventually); ; time.Sleep(10 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/mcp", strings.NewReader(initializeBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := noKeepAlive.RoundTrip(req)
		if err != nil {
			if time.Now().Before(deadline) {
				continue
			}
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil && time.Now().Before(deadline) {
			continue
		}
		return resp, string(body)
	}
}

// TestHTTPSlowClients: clients that send a request slowly, or never
// finish it, are cut off by the read timeout while a normal client keeps
// working; responses and streams that last longer than the read timeout
// are not cut.
func TestHTTPSlowClients(t *testing.T) {
	f := newFront(t, nil, nil)
	sessionID := func() string {
		resp, _ := f.initialize(t, nil)
		return resp.Header.Get("Mcp-Session-Id")
	}
	attacks := []struct {
		name, head, drip string
	}{
		{"slow body", postHead("Content-Length: 100000\r\n"), initializeBody},
		{"body that stops", postHead("Content-Length: 100000\r\n") + `{"jsonrpc":"2.0",`, ""},
		{"chunked body that never ends", postHead("Transfer-Encoding: chunked\r\n"), "1\r\nx\r\n"},
		{"slow header", "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ", "abcdefgh"},
		{"silent connection", "", ""},
		{"slow body on a live session", "", initializeBody},
		{"slow body to the SSE endpoint", "POST /sse?sessionid=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", "x"},
	}
	var worst time.Duration
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			goroutines := goruntime.NumGoroutine()
			head := a.head
			if a.name == "slow body on a live session" {
				head = postHead("Content-Length: 100000\r\nMcp-Protocol-Version: 2025-11-25\r\nMcp-Session-Id: " + sessionID() + "\r\n")
			}
			c := f.dial(t)
			normal := make(chan error, 1)
			go func() { normal <- f.tryNormalCall(nil) }() // while the attack holds its connection
			answer, held := cutOff(c, head, a.drip)
			if err := <-normal; err != nil {
				t.Fatal(err)
			}
			if strings.Contains(answer, "still open") || strings.Contains(answer, "200 OK") {
				t.Fatalf("not cut off: %q", clip(answer))
			}
			t.Logf("cut off after %v: %q", held.Round(time.Millisecond), clip(strings.SplitN(answer, "\r\n", 2)[0]))
			worst = max(worst, held)
			f.normalCall(t, nil)
			f.settle(t, goroutines)
		})
	}
	t.Run("many slow bodies at once", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		var wg sync.WaitGroup
		for range 64 {
			c := f.dial(t)
			wg.Go(func() {
				if answer, _ := cutOff(c, postHead("Content-Length: 100000\r\n"), "x"); strings.Contains(answer, "still open") {
					t.Errorf("not cut off: %q", clip(answer))
				}
			})
		}
		f.normalCall(t, nil)
		wg.Wait()
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	t.Logf("a slow request is held at most %v with a read timeout of %v", worst.Round(time.Millisecond), testReadTimeout)

	// What may last longer than the read timeout does.
	t.Run("a call's stream outlives the read timeout", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		cs, err := f.connect(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep"})
		if err != nil || !res.IsError || !strings.Contains(httpToolText(res), "time limit") {
			t.Fatalf("a call running past the read timeout: %v %+v", err, res)
		}
		cs.Close()
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	for _, endpoint := range []string{"/mcp", "/sse"} {
		t.Run("a GET stream outlives the read timeout at "+endpoint, func(t *testing.T) {
			goroutines := goruntime.NumGoroutine()
			c := f.dial(t)
			session := ""
			if endpoint == "/mcp" {
				session = "Mcp-Protocol-Version: 2025-11-25\r\nMcp-Session-Id: " + sessionID() + "\r\n"
			}
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s\r\n", endpoint, session)
			r := bufio.NewReader(c)
			status, err := r.ReadString('\n')
			if err != nil || !strings.Contains(status, "200") {
				t.Fatalf("GET stream: %q %v", status, err)
			}
			// Three read timeouts later the stream is still open: a read
			// waits for data rather than meeting the end of the stream.
			c.SetReadDeadline(time.Now().Add(3 * testReadTimeout))
			for {
				if _, err = r.ReadString('\n'); err != nil {
					break
				}
			}
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("the GET stream ended: %v", err)
			}
			c.Close()
			f.normalCall(t, nil)
			f.settle(t, goroutines)
		})
	}
}

// TestHTTPPollAfterOutlivesTimeouts: a call that gives its stream back
// (PollAfter) and is picked up on a GET stream, with the read and session
// timeouts shorter than the call.
func TestHTTPPollAfterOutlivesTimeouts(t *testing.T) {
	f := newFront(t, &server.Options{PollAfter: testReadTimeout / 3}, nil)
	goroutines := goruntime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), eventually)
	defer cancel()
	cs, err := f.connect(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep"})
	if err != nil || !res.IsError || !strings.Contains(httpToolText(res), "time limit") {
		t.Fatalf("a resumed call running past the read and session timeouts: %v %+v", err, res)
	}
	cs.Close()
	f.normalCall(t, nil)
	f.settle(t, goroutines)
}

// TestHTTPIdleConnections: keep-alive connections left idle are closed.
func TestHTTPIdleConnections(t *testing.T) {
	f := newFront(t, nil, nil)
	health := "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	for _, n := range []int{1, 64} {
		t.Run(fmt.Sprintf("%d idle after a request", n), func(t *testing.T) {
			goroutines := goruntime.NumGoroutine()
			var wg sync.WaitGroup
			for range n {
				c := f.dial(t)
				wg.Go(func() {
					// The answer to the request, then nothing until the
					// server closes the connection.
					answer, _ := cutOff(c, health, "")
					if !strings.Contains(answer, `"status":"ok"`) || strings.Contains(answer, "still open") {
						t.Errorf("idle connection: %q", clip(answer))
					}
				})
			}
			f.normalCall(t, nil)
			wg.Wait()
			f.normalCall(t, nil)
			f.settle(t, goroutines)
		})
	}
	t.Run("idle after a session's requests", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		c := f.dial(t)
		answer, _ := cutOff(c, postHead(fmt.Sprintf("Content-Length: %d\r\n", len(initializeBody)))+initializeBody, "")
		if !strings.Contains(answer, "200 OK") || strings.Contains(answer, "still open") {
			t.Errorf("idle connection: %q", clip(answer))
		}
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
}

// TestHTTPSessions: sessions left by their clients expire, their number is
// bounded, and a client that stays keeps its session.
func TestHTTPSessions(t *testing.T) {
	const max = 40
	f := newFront(t, nil, &server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: testSessionTimeout, MaxSessions: max})
	t.Run("abandoned sessions expire", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		if ids, refused := f.open(t, max, max); len(ids) != max || refused != 0 {
			t.Fatalf("%d sessions opened, %d refused; want %d and 0", len(ids), refused, max)
		}
		waitUntil(t, "the abandoned sessions to expire", func() bool { return f.hs.Sessions() == 0 })
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	t.Run("sessions over the bound are refused", func(t *testing.T) {
		// Sessions that never expire, all asked for at once: the bound
		// holds however the requests interleave.
		f := newFront(t, nil, &server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: -1, MaxSessions: max})
		goroutines := goruntime.NumGoroutine()
		ids, refused := f.open(t, 3*max, max)
		if len(ids) != max || refused != 2*max {
			t.Fatalf("%d sessions opened, %d refused; want %d and %d", len(ids), refused, max, 2*max)
		}
		if n := f.hs.Sessions(); n != max {
			t.Fatalf("%d sessions open, want the bound of %d", n, max)
		}
		// Clients that end their sessions make room at once.
		for _, id := range ids {
			req, _ := http.NewRequest(http.MethodDelete, f.base+"/mcp", nil)
			req.Header.Set("Mcp-Session-Id", id)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
			resp, err := noKeepAlive.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE: %s", resp.Status)
			}
		}
		if n := f.hs.Sessions(); n != 0 {
			t.Fatalf("%d sessions left after they were all deleted", n)
		}
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	t.Run("SSE streams count towards the bound", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		var conns []net.Conn
		for range max {
			c := f.dial(t)
			fmt.Fprintf(c, "GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
			if status, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(status, "200") {
				t.Fatalf("SSE stream: %q %v", status, err)
			}
			conns = append(conns, c)
		}
		if resp, body := f.initialize(t, nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a session over the bound: %s %q", resp.Status, clip(body))
		}
		for _, c := range conns {
			c.Close()
		}
		// The server sees the streams close when it next reads them: until
		// then the bound is still full, however briefly on an idle machine.
		waitUntil(t, "the closed streams to end", func() bool { return f.hs.Sessions() == 0 })
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	t.Run("a client that stays keeps its session", func(t *testing.T) {
		goroutines := goruntime.NumGoroutine()
		ctx, cancel := context.WithTimeout(context.Background(), eventually)
		defer cancel()
		var listening atomic.Bool
		transport := &mcp.StreamableClientTransport{Endpoint: f.base + "/mcp", HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := noKeepAlive.RoundTrip(r)
			if err == nil && r.Method == http.MethodGet && resp.StatusCode == http.StatusOK {
				listening.Store(true) // the server counts the stream before it answers
			}
			return resp, err
		})}}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "stays"}, nil).Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		// Idle but for its GET stream, for three session timeouts.
		waitUntil(t, "the client's GET stream", listening.Load)
		time.Sleep(3 * testSessionTimeout)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": "abc"}})
		if err != nil || res.IsError {
			t.Fatalf("the session of a client listening on its stream expired: %v %+v", err, res)
		}
		cs.Close() // deletes the session
		f.normalCall(t, nil)
		f.settle(t, goroutines)
	})
	t.Run("memory per session", func(t *testing.T) {
		// A larger bound, to measure: abandoned sessions hold memory and
		// goroutines until they expire, and give them all back.
		const n = 1000
		f := newFront(t, nil, &server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: 20 * testSessionTimeout, MaxSessions: n})
		goroutines := goruntime.NumGoroutine()
		heap := func() int64 {
			goruntime.GC()
			var m goruntime.MemStats
			goruntime.ReadMemStats(&m)
			return int64(m.HeapAlloc)
		}
		before := heap()
		f.open(t, n, n)
		during, g, live := heap(), goruntime.NumGoroutine(), f.hs.Sessions()
		if live > 0 {
			t.Logf("%d idle sessions: %d KiB of heap and %.1f goroutines each", live, (during-before)/int64(live)>>10, float64(g-goroutines)/float64(live))
		}
		waitUntil(t, "the sessions to expire", func() bool { return f.hs.Sessions() == 0 })
		f.normalCall(t, nil)
		f.settle(t, goroutines)
		t.Logf("heap after they expired: %+d KiB", (heap()-before)>>10)
	})
}

// open opens n sessions, 8 at a time, and leaves them; max is the bound
// the refusals must name. It returns the sessions' IDs and how many were
// refused.
func (f *front) open(t *testing.T, n, max int) (ids []string, refused int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 8 {
		wg.Go(func() {
			for range next {
				resp, body := f.initialize(t, nil)
				mu.Lock()
				switch id := resp.Header.Get("Mcp-Session-Id"); {
				case resp.StatusCode == http.StatusOK && id != "":
					ids = append(ids, id)
				case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, fmt.Sprintf("maximum of %d sessions", max)):
					refused++
				default:
					t.Errorf("initialize: %s %q", resp.Status, clip(body))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ids, refused
}

// TestHTTPOrigin: a request whose Origin is not allowed is refused before
// anything else (DNS rebinding), on every endpoint and method; requests
// from allowed origins and without one are served.
func TestHTTPOrigin(t *testing.T) {
	f := newFront(t, nil, &server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: testSessionTimeout, AllowedOrigins: []string{"https://app.example.com"}})
	_, port, _ := net.SplitHostPort(f.addr)
	refused := [][]string{
		{"http://evil.example"},
		{"http://evil.example:" + port},
		{"http://127.0.0.1.evil.example:" + port},
		{"http://localhost.evil.example"},
		{"http://[::1].evil.example"},
		{"http://10.0.0.1:" + port},
		{"null"},
		{"file://"},
		{"chrome-extension://abcdef"},
		{"https://app.example.com:8443"},
		{"http://app.example.com"},
		{"https://app.example.com/path"},
		{"http://localhost:" + port, "http://evil.example"}, // two Origin headers
	}
	requests := []struct{ method, path, body string }{
		{http.MethodPost, "/mcp", initializeBody},
		{http.MethodGet, "/mcp", ""},
		{http.MethodDelete, "/mcp", ""},
		{http.MethodGet, "/sse", ""},
		{http.MethodPost, "/sse?sessionid=x", "{}"},
	}
	goroutines := goruntime.NumGoroutine()
	for _, origin := range refused {
		for _, r := range requests {
			req, _ := http.NewRequest(r.method, f.base+r.path, strings.NewReader(r.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Session-Id", "x")
			req.Header["Origin"] = origin
			resp, err := noKeepAlive.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not allowed") {
				t.Errorf("%s %s from %q: %s %q", r.method, r.path, origin, resp.Status, clip(string(body)))
			}
		}
	}
	if n := f.hs.Sessions(); n != 0 {
		t.Errorf("refused requests opened %d sessions", n)
	}
	f.normalCall(t, nil)
	f.settle(t, goroutines)

	accepted := []string{"", "http://127.0.0.1:" + port, "http://localhost:" + port, "http://localhost:3000", "http://[::1]:" + port, "https://app.example.com", "HTTPS://App.Example.COM:443"}
	for _, origin := range accepted {
		header := http.Header{}
		if origin != "" {
			header.Set("Origin", origin)
		}
		if resp, body := f.initialize(t, header); resp.StatusCode != http.StatusOK {
			t.Errorf("initialize from %q: %s %q", origin, resp.Status, clip(body))
		}
		f.normalCall(t, header)
	}
	f.settle(t, goroutines)
}

// TestHTTPHealthz: with a token, /healthz tells a request without it that
// the server is up, and nothing else.
func TestHTTPHealthz(t *testing.T) {
	const token = "s3cret-health-token"
	f := newFront(t, nil, &server.HTTPOptions{ReadTimeout: testReadTimeout, IdleTimeout: testIdleTimeout, SessionTimeout: testSessionTimeout, Token: token, Health: map[string]any{"version": "v9.9.9"}})
	goroutines := goruntime.NumGoroutine()
	get := func(auth string, origin string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, f.base+"/healthz", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noKeepAlive.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x", "Bearer"} {
		if code, body := get(auth, ""); code != http.StatusOK || body != `{"status":"ok"}`+"\n" {
			t.Errorf("healthz with %q: %d %q, want only the status", auth, code, body)
		}
	}
	code, body := get("Bearer "+token, "")
	var h struct {
		Status, Version          string
		Modules, Tools, Sessions *int
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != http.StatusOK || h.Version != "v9.9.9" || h.Tools == nil || *h.Tools != 4 || h.Sessions == nil {
		t.Errorf("healthz with the token: %d %q", code, body)
	}
	f.normalCall(t, http.Header{"Authorization": {"Bearer " + token}})
	f.settle(t, goroutines)
}

// TestClosedStdio: a client that closes wasmgate's stderr or stdout (at its
// shutdown, say) does not kill it with SIGPIPE, and the audit log gets the
// line of every call, including one whose result can no longer be sent.
func TestClosedStdio(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("no SIGPIPE on Windows")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wasmgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wasmgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	start := func(t *testing.T) (*exec.Cmd, string, io.WriteCloser, *bufio.Reader, *os.File, *os.File) {
		auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
		cmd := exec.Command(bin, "serve", "-v", "--audit", auditFile, "--timeout", "200ms", "../guests/c/hash/hash.wasm", hostileDir+"loop.wasm")
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdoutR, stdoutW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stderrR, stderrW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = stdoutW, stderrW
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdoutW.Close()
		stderrW.Close()
		t.Cleanup(func() {
			stdin.Close()
			stdoutR.Close()
			stderrR.Close()
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		out := bufio.NewReader(stdoutR)
		stdioSend(t, stdin, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"stdio","version":"1"}}}`)
		if line := stdioReceive(t, stdoutR, out); !strings.Contains(line, `"id":0`) {
			t.Fatalf("initialize: %q", line)
		}
		stdioSend(t, stdin, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		return cmd, auditFile, stdin, out, stdoutR, stderrR
	}
	call := func(id int, tool string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"text":"abc"}}}`, id, tool)
	}
	auditLines := func(path string) int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n")
	}
	// exited waits for the process to end once its stdin is closed, and
	// checks it was not killed.
	exited := func(t *testing.T, cmd *exec.Cmd, stdin io.Closer) {
		t.Helper()
		stdin.Close()
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("wasmgate was killed by %v", ws.Signal())
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("wasmgate exited %d", code)
		}
	}

	t.Run("stderr closed", func(t *testing.T) {
		cmd, auditFile, stdin, out, stdoutR, stderrR := start(t)
		stderrR.Close()
		// Every call is logged (-v) to the closed stderr: good ones,
		// failed ones, and a normal one last.
		for i, tool := range []string{"sha256", "loop", "sha256", "loop", "sha256"} {
			stdioSend(t, stdin, call(i+1, tool))
			line := stdioReceive(t, stdoutR, out)
			if want := fmt.Sprintf(`"id":%d`, i+1); !strings.Contains(line, want) {
				t.Fatalf("call %d (%s): %q", i+1, tool, line)
			}
			if tool == "sha256" && !strings.Contains(line, "ba7816bf") {
				t.Fatalf("call %d: %q", i+1, line)
			}
		}
		if n := auditLines(auditFile); n != 5 {
			t.Errorf("%d audit lines, want 5", n)
		}
		exited(t, cmd, stdin)
	})
	t.Run("stdout closed before a call", func(t *testing.T) {
		cmd, auditFile, stdin, _, stdoutR, _ := start(t)
		stdoutR.Close()
		stdioSend(t, stdin, call(1, "sha256"))
		waitUntil(t, "the call's audit line", func() bool { return auditLines(auditFile) == 1 })
		exited(t, cmd, stdin)
	})
	t.Run("stdout and stderr closed during a call", func(t *testing.T) {
		cmd, auditFile, stdin, _, stdoutR, stderrR := start(t)
		stdioSend(t, stdin, call(1, "loop")) // runs its 200 ms
		stdoutR.Close()
		stderrR.Close()
		stdioSend(t, stdin, call(2, "sha256"))
		waitUntil(t, "the calls' audit lines", func() bool { return auditLines(auditFile) == 2 })
		exited(t, cmd, stdin)
	})
}

func stdioSend(t *testing.T, w io.Writer, line string) {
	t.Helper()
	if _, err := io.WriteString(w, line+"\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// stdioReceive reads the next response (a line with an id), skipping
// notifications.
func stdioReceive(t *testing.T, f *os.File, r *bufio.Reader) string {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(eventually))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("receive: %v (%q)", err, line)
		}
		if strings.Contains(line, `"id"`) {
			return line
		}
	}
}
