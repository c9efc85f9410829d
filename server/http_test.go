package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// serveHTTP serves mods over streamable HTTP at URL/mcp and legacy SSE at
// URL/sse, as wasmgate serve --http does.
func serveHTTP(t *testing.T, stateless bool, opts *server.Options, mods ...string) string {
	t.Helper()
	s, reg, err := server.New(nil, modules(t, mods...), opts)
	if err != nil {
		t.Fatal(err)
	}
	get := func(*http.Request) *mcp.Server { return s }
	mux := http.NewServeMux()
	mux.Handle("/mcp", reg.CancelOnDisconnect(mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{Stateless: stateless})))
	mux.Handle("/sse", mcp.NewSSEHandler(get, nil))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL
}

func httpClient(t testing.TB, transport mcp.Transport, copts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-client"}, copts).Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestHTTP(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(fmt.Sprintf("stateless=%t", stateless), func(t *testing.T) {
			url := serveHTTP(t, stateless, &server.Options{Limits: hostileLimits}, "textstats", "hash", "echo", "trap", "loop", "notify")
			var n notes
			cs := httpClient(t, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, n.options())
			t.Logf("protocol %s", cs.InitializeResult().ProtocolVersion)

			res, err := cs.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Tools) != 9 {
				t.Errorf("listed %d tools, want 9", len(res.Tools))
			}
			checkWordCount(t, cs, "over HTTP")
			checkSHA256(t, cs, "over HTTP")
			wantError(t, call(t, cs, "sha256", map[string]any{}), `invalid arguments: "text": missing (required)`)
			wantError(t, call(t, cs, "trap", nil), "the tool crashed")
			wantError(t, call(t, cs, "loop", nil), "did not finish within its time limit")
			checkSHA256(t, cs, "after hostile calls")

			// 2026-07-28 (stateless only) takes the log level in _meta,
			// earlier revisions from logging/setLevel.
			params := &mcp.CallToolParams{Name: "notify", Meta: mcp.Meta{mcp.MetaKeyLogLevel: "info"}}
			params.SetProgressToken(42)
			if cs.InitializeResult().ProtocolVersion < "2026-07-28" {
				if err := cs.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := cs.CallTool(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			wantOK(t, r)
			logs, progress := n.take(2, 3)
			if d := diff([]string{"notify info notify: info", "notify warning notify: warning"}, logs); d != "" {
				t.Errorf("logs %s", d)
			}
			if d := diff([]string{"42 1/3 step 1", "42 2/3 step 2", "42 3/3 step 3"}, progress); d != "" {
				t.Errorf("progress %s", d)
			}
		})
	}
}

func TestSSE(t *testing.T) {
	url := serveHTTP(t, false, nil, "textstats", "hash")
	cs := httpClient(t, &mcp.SSEClientTransport{Endpoint: url + "/sse"}, nil)
	checkWordCount(t, cs, "over SSE")
	checkSHA256(t, cs, "over SSE")
}

// checkSHA256 and checkWordCount call a tool and check its answer. They
// report with t.Errorf only, so goroutines may use them.
func checkSHA256(t testing.TB, cs *mcp.ClientSession, input string) {
	t.Helper()
	var got struct{ SHA256 string }
	if err := callDecode(cs, "sha256", input, &got); err != nil || got.SHA256 != sha256Hex(input) {
		t.Errorf("sha256(%q) = %q, %v", input, got.SHA256, err)
	}
}

func checkWordCount(t testing.TB, cs *mcp.ClientSession, input string) {
	t.Helper()
	var got struct{ Words int }
	if err := callDecode(cs, "word_count", input, &got); err != nil || got.Words != len(strings.Fields(input)) {
		t.Errorf("word_count(%q) = %d, %v", input, got.Words, err)
	}
}

func callDecode(cs *mcp.ClientSession, tool, input string, v any) error {
	// No deadline of the test's own: the server's limits bound every call.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": input}})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("tool error: %s", text(res))
	}
	return decode(res, v)
}

// Many sessions at once, each with several calls in flight, while a hostile
// call runs (stateful case): every answer is right and the hostile call
// holds nothing up. The hostile call's time limit is an hour, so it is
// still running when the others are done however slow the machine; it is
// then cancelled.
func TestHTTPManySessions(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(fmt.Sprintf("stateless=%t", stateless), func(t *testing.T) {
			url := serveHTTP(t, stateless, &server.Options{Limits: runtime.Limits{Timeout: time.Hour}}, "textstats", "hash", "loop")
			hostileDone := make(chan error, 1)
			cancelHostile := func() {}
			if !stateless {
				hostile := httpClient(t, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, nil)
				ctx, cancel := context.WithCancel(context.Background())
				cancelHostile = cancel
				go func() {
					_, err := hostile.CallTool(ctx, &mcp.CallToolParams{Name: "loop"})
					hostileDone <- err
				}()
			}
			defer cancelHostile()

			const sessions, perSession = 20, 10
			start := time.Now()
			var wg sync.WaitGroup
			for s := range sessions {
				cs := httpClient(t, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, nil)
				for c := range perSession {
					wg.Go(func() {
						input := fmt.Sprintf("session %d call %d%s", s, c, strings.Repeat(" x", c))
						if c%2 == 0 {
							checkSHA256(t, cs, input)
						} else {
							checkWordCount(t, cs, input)
						}
					})
				}
			}
			wg.Wait()
			t.Logf("%d calls over %d sessions took %s", sessions*perSession, sessions, time.Since(start))
			if stateless {
				return
			}
			select {
			case err := <-hostileDone:
				t.Fatalf("the looping call, which cannot finish, ended before it was cancelled: %v", err)
			default:
			}
			cancelHostile()
			if err := <-hostileDone; !errors.Is(err, context.Canceled) {
				t.Errorf("the cancelled looping call returned %v", err)
			}
		})
	}
}

// rawSession speaks streamable HTTP by hand, as curl would.
type rawSession struct {
	t       *testing.T
	url, id string
}

func (r *rawSession) post(ctx context.Context, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if r.id != "" {
		req.Header.Set("Mcp-Session-Id", r.id)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	return http.DefaultClient.Do(req)
}

func (r *rawSession) initialize() {
	r.t.Helper()
	resp, err := r.post(context.Background(), `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	if err != nil {
		r.t.Fatal(err)
	}
	readEvent(r.t, resp)
	r.id = resp.Header.Get("Mcp-Session-Id")
	if r.id == "" {
		r.t.Fatal("no Mcp-Session-Id")
	}
	resp, err = r.post(context.Background(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		r.t.Fatalf("notifications/initialized: %s", resp.Status)
	}
}

// readEvent returns the data of the first SSE event (or the JSON body).
func readEvent(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return data
		}
		if strings.HasPrefix(sc.Text(), "{") {
			return sc.Text()
		}
	}
	t.Fatalf("no event in response: %v", sc.Err())
	return ""
}

// A client that drops the HTTP request carrying a call, without sending
// notifications/cancelled, gets its guest stopped: the stateful session
// would otherwise run it to its time limit.
func TestHTTPDisconnectCancels(t *testing.T) {
	rec := &logRecorder{}
	url := serveHTTP(t, false, &server.Options{Limits: runtime.Limits{Timeout: time.Minute}, Logger: slog.New(rec)}, "sleep", "hash")
	r := &rawSession{t: t, url: url + "/mcp"}
	r.initialize()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	resp, err := r.post(ctx, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{}}}`)
	if err == nil {
		// Headers may come before the result; the body read then fails.
		_, err = bufio.NewReader(resp.Body).ReadString('\x00')
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("the call was answered")
	}
	s := rec.waitFor(t, time.Minute, "call failed", "tool=sleep", "kind=cancelled")
	t.Log(s)

	// The session goes on.
	resp, err = r.post(context.Background(), `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sha256","arguments":{"text":"hello"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if data := readEvent(t, resp); !strings.Contains(data, sha256Hex("hello")) {
		t.Errorf("sha256 after the dropped call: %s", data)
	}
}

// /healthz counts every module served, whether it serves tools, resources
// or prompts.
func TestHealthzCountsEveryModule(t *testing.T) {
	s, reg, err := server.New(nil, modules(t, "echo", "confresources"), nil)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := server.NewHTTPServer(s, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Shutdown(context.Background()) })
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Modules, Tools int
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Modules != 2 || got.Tools != 1 {
		t.Errorf("healthz: %d modules and %d tools, want 2 modules (one serves no tool) and 1 tool", got.Modules, got.Tools)
	}
}
