package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
)

// Defaults of HTTPOptions.
const (
	// DefaultReadTimeout leaves 140 KB/s for the largest request body
	// (4 MiB); a client that sends slower is cut off.
	DefaultReadTimeout = 30 * time.Second
	// DefaultReadHeaderTimeout is the most a client may take to send a
	// request's header, if ReadTimeout is not shorter.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is longer than the 90 s after which Go's HTTP
	// client closes its idle connections, so the client closes first.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes is ample for MCP's headers and a bearer token.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultSessionTimeout ends a session its client left without a word;
	// a client that comes back later gets 404 and starts a new session, as
	// the MCP transport specification asks of it.
	DefaultSessionTimeout = 30 * time.Minute
	// DefaultMaxSessions bounds the memory idle sessions take, about
	// 10 KiB each.
	DefaultMaxSessions = 1000
)

// HTTPOptions configures NewHTTPServer. The zero value is ready to use.
type HTTPOptions struct {
	// Stateless serves every request without a session. If false,
	// requests of MCP revisions before 2026-07-28 get sessions (see
	// ByRevision), whose streams can be resumed from an in-memory event
	// store.
	Stateless bool

	// Token, if not empty, is the bearer token every /mcp and /sse request
	// must carry ("Authorization: Bearer <token>"); /healthz then answers
	// requests without it with its status alone. If empty, there is no
	// authentication.
	Token string

	// AllowedOrigins lists origins ("https://app.example.com", with a port
	// unless it is the scheme's default) whose requests are served besides
	// those whose host is "localhost", a loopback address or the address
	// the request came in on. A request with any other Origin header, as
	// a web page's script on another site sends (DNS rebinding), is
	// refused with 403 Forbidden; a request without one passes.
	// If nil, only those hosts are allowed.
	AllowedOrigins []string

	// MaxRequestBody caps the body of a request. If zero, defaults to
	// mcp.DefaultMaxRequestBodyBytes.
	MaxRequestBody int64

	// ReadTimeout is how long a client may take to send a request, header
	// and body. The response, and a stream, may last longer. If zero,
	// defaults to DefaultReadTimeout; the header must come within the
	// shorter of it and DefaultReadHeaderTimeout.
	ReadTimeout time.Duration

	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request. If zero, defaults to DefaultIdleTimeout.
	IdleTimeout time.Duration

	// MaxHeaderBytes caps a request's header. If zero, defaults to
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	// SessionTimeout is how long a session may stay idle (no request in
	// flight, no GET stream open, no call running) before it is closed.
	// If zero, defaults to DefaultSessionTimeout; if negative, sessions
	// never expire.
	SessionTimeout time.Duration

	// MaxSessions is how many sessions (streamable and legacy SSE) may be
	// open at once; a request that would open one more is refused with 503
	// Service Unavailable. If zero, defaults to DefaultMaxSessions; if
	// negative, there is no bound.
	MaxSessions int

	// Health is shown by /healthz besides the status and the counts of
	// modules, tools and sessions: a version, for instance. It is shown
	// only to authenticated requests when Token is set.
	Health map[string]any

	// Logger receives the HTTP server's errors (warn). If nil, defaults to
	// discarding them.
	Logger *slog.Logger

	// TransportLogger, if not nil, receives the go-sdk HTTP handlers'
	// logs.
	TransportLogger *slog.Logger
}

// HTTPServer serves one *mcp.Server over HTTP: streamable HTTP at /mcp,
// legacy SSE at /sse and health at /healthz, with the limits of
// HTTPOptions.
type HTTPServer struct {
	srv      *mcp.Server
	reg      *Registry
	http     *http.Server
	sessions *sessions
	token    [sha256.Size]byte // digest; zero without a token
	auth     bool
	origins  map[string]bool
	health   map[string]any
}

// NewHTTPServer prepares srv, with what reg registered on it (see Add),
// for serving over HTTP. opts may be nil. It fails only on an allowed
// origin that is not one.
func NewHTTPServer(srv *mcp.Server, reg *Registry, opts *HTTPOptions) (*HTTPServer, error) {
	if srv == nil || reg == nil {
		panic("server.NewHTTPServer: nil *mcp.Server or *Registry")
	}
	var o HTTPOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxRequestBody == 0 {
		o.MaxRequestBody = mcp.DefaultMaxRequestBodyBytes
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = DefaultSessionTimeout
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	h := &HTTPServer{srv: srv, reg: reg, origins: map[string]bool{}, health: maps.Clone(o.Health)}
	for _, origin := range o.AllowedOrigins {
		norm, ok := normalOrigin(origin)
		if !ok {
			return nil, fmt.Errorf("allowed origin %q is not an origin: want scheme://host[:port], such as https://app.example.com", origin)
		}
		h.origins[norm] = true
	}
	if o.Token != "" {
		h.token, h.auth = sha256.Sum256([]byte(o.Token)), true
	}
	h.sessions = newSessions(srv, reg, o.SessionTimeout, o.MaxSessions)

	get := func(*http.Request) *mcp.Server { return srv }
	hopts := mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          o.MaxRequestBody,
		PropagateRequestCancellation: true,
		Logger:                       o.TransportLogger,
	}
	// Requests of MCP 2026-07-28 and later are stateless by design; earlier
	// clients get sessions (which sampling and elicitation need), unless
	// Stateless, and their streams can be resumed from an event store.
	var streamable http.Handler = mcp.NewStreamableHTTPHandler(get, &hopts)
	if !o.Stateless {
		stateful := hopts
		stateful.Stateless = false
		stateful.EventStore = mcp.NewMemoryEventStore(nil)
		streamable = ByRevision(h.sessions.streamable(mcp.NewStreamableHTTPHandler(get, &stateful)), streamable)
	}
	sse := h.sessions.sse(mcp.NewSSEHandler(get, &mcp.SSEOptions{MaxRequestBodyBytes: o.MaxRequestBody}))
	mux := http.NewServeMux()
	mux.Handle("/mcp", h.checkOrigin(h.requireBearer(reg.CancelOnDisconnect(streamable))))
	mux.Handle("/sse", h.checkOrigin(h.requireBearer(sse)))
	mux.HandleFunc("/healthz", h.healthz)
	h.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: min(o.ReadTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       o.ReadTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return h, nil
}

// Handler is what Serve serves: streamable HTTP at /mcp, legacy SSE at
// /sse and health at /healthz, with the Origin and bearer token checks and
// the session limits. It is for a program that serves it with its own
// http.Server or mux; such a program should still call Shutdown, which ends
// the sessions, and set its server's timeouts itself.
func (h *HTTPServer) Handler() http.Handler { return h.http.Handler }

// Serve accepts connections on ln until Shutdown; it then returns
// http.ErrServerClosed.
func (h *HTTPServer) Serve(ln net.Listener) error { return h.http.Serve(ln) }

// Shutdown ends every session, which ends its streams, then waits for the
// requests in flight until ctx is done, and closes the connections left.
func (h *HTTPServer) Shutdown(ctx context.Context) error {
	h.sessions.stop()
	for ss := range h.srv.Sessions() {
		go ss.Close()
	}
	if err := h.http.Shutdown(ctx); err != nil {
		h.http.Close()
		return err
	}
	return nil
}

// Sessions is how many sessions are open, or being opened.
func (h *HTTPServer) Sessions() int { return h.sessions.count() }

// authorized reports whether r carries the token, in constant time, on
// digests so that the token's length does not show either. Without a token,
// every request is.
func (h *HTTPServer) authorized(r *http.Request) bool {
	if !h.auth {
		return true
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(got[:], h.token[:]) == 1
}

func (h *HTTPServer) requireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wasmgate"`)
			http.Error(w, "unauthorized: send the header Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkOrigin refuses a request whose Origin header names an origin not
// allowed, as the MCP transport specification requires against DNS
// rebinding.
func (h *HTTPServer) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if values := r.Header.Values("Origin"); len(values) > 0 && !h.originAllowed(r, values) {
			http.Error(w, fmt.Sprintf("forbidden: requests from origin %q are not allowed; a web page may call this server only from localhost, a loopback address, the server's own address or an origin its operator allows", strings.Join(values, ", ")), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *HTTPServer) originAllowed(r *http.Request, values []string) bool {
	if len(values) != 1 {
		return false
	}
	norm, ok := normalOrigin(values[0])
	if !ok {
		return false // "null", for instance
	}
	if h.origins[norm] {
		return true
	}
	u, _ := url.Parse(norm)
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// normalOrigin returns an origin as browsers send it: scheme and host in
// lower case, no default port, no path.
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// healthz answers 200 with what is served, or only the status to a request
// without the token.
func (h *HTTPServer) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.authorized(r) {
		w.Write([]byte(`{"status":"ok"}` + "\n"))
		return
	}
	body := maps.Clone(h.health)
	if body == nil {
		body = map[string]any{}
	}
	// A module counts when it serves something: tools, resources or
	// prompts.
	modules := map[*runtime.Module]bool{}
	for _, t := range h.reg.Tools() {
		modules[t.Module] = true
	}
	for _, r := range h.reg.Resources() {
		modules[r.Module] = true
	}
	for _, p := range h.reg.Prompts() {
		modules[p.Module] = true
	}
	body["status"] = "ok"
	body["modules"] = len(modules)
	body["tools"] = len(h.reg.Tools())
	body["sessions"] = h.Sessions()
	b, _ := json.Marshal(body)
	w.Write(append(b, '\n'))
}
