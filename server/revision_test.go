package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/server"
)

// serveBoth serves the conformance modules as wasmgate serve --http does:
// one URL, sessions with an event store for clients before 2026-07-28 and
// stateless requests after.
func serveBoth(t *testing.T, opts *server.Options) string {
	return serveBothWith(t, opts, func(h http.Handler) http.Handler { return h })
}

func serveBothWith(t *testing.T, opts *server.Options, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	s, reg, err := server.New(nil, modules(t, "conftools", "confresources"), opts)
	if err != nil {
		t.Fatal(err)
	}
	get := func(*http.Request) *mcp.Server { return s }
	sessions := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{EventStore: mcp.NewMemoryEventStore(nil)})
	stateless := mcp.NewStreamableHTTPHandler(get, &mcp.StreamableHTTPOptions{Stateless: true})
	hs := httptest.NewServer(wrap(reg.CancelOnDisconnect(server.ByRevision(sessions, stateless))))
	t.Cleanup(hs.Close)
	return hs.URL
}

func connectHTTP(t *testing.T, url, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "http-client"}, opts).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect at %s: %v", version, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestOneURLForBothRevisions(t *testing.T) {
	url := serveBoth(t, surfaceOptions())
	for _, version := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			a := &answering{}
			cs := connectHTTP(t, url, version, a.options())
			// Older clients are asked by a request on their session, newer
			// ones by an input-required result; the tool is the same.
			got := text(call(t, cs, "test_elicitation", map[string]any{"message": "Who?"}))
			if !strings.Contains(got, "ada@example.com") {
				t.Errorf("test_elicitation = %q", got)
			}
			r, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "test://template/7/data"})
			if err != nil || !strings.Contains(r.Contents[0].Text, "Data for ID: 7") {
				t.Errorf("read = %+v, %v", r, err)
			}
		})
	}
}

// With PollAfter a long call gives its stream back, and the client gets the
// result when it reconnects.
func TestPollAfter(t *testing.T) {
	logs := &logRecorder{}
	opts := surfaceOptions()
	opts.PollAfter = 200 * time.Millisecond
	opts.Logger = slog.New(logs)
	var resumed atomic.Int32
	url := serveBothWith(t, opts, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.Header.Get("Last-Event-ID") != "" {
				resumed.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	cs := connectHTTP(t, url, "2025-11-25", nil)
	res := call(t, cs, "test_reconnection", nil)
	if res.IsError || !strings.Contains(text(res), "closed and resumed") {
		t.Fatalf("test_reconnection = %+v", res)
	}
	if resumed.Load() == 0 {
		t.Error("the client never resumed a stream: the server did not close it")
	}
	if _, ok := logs.find("call failed"); ok {
		t.Error("the call was cancelled when the server closed its stream")
	}
}
