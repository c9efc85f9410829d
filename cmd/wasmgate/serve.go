package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate"
	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// maxRequestBody caps one MCP request on every transport: a POST body over
// HTTP, a line over stdio.
const maxRequestBody = 4 << 20

// shutdownGrace is how long running calls get to finish after SIGINT or
// SIGTERM before wasmgate exits anyway.
const shutdownGrace = 5 * time.Second

type serveFlags struct {
	addr      string
	stateless bool
	pollAfter time.Duration
	perModule int
	budget    budgetFlags
	cache     cacheFlag
	engine    engineFlag
	tokenFile string
	http      httpFlags
	limits    limitFlags
	grants    grantFlags
	auditFile string
	verbose   bool
}

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "serve")
	var f serveFlags
	fs.StringVar(&f.addr, "http", "", "serve over HTTP at `ADDR` (host:port): streamable HTTP at /mcp, legacy SSE at /sse, health at /healthz (default: stdio)")
	fs.BoolVar(&f.stateless, "stateless", false, "with --http: stateless streamable HTTP, no sessions; each request stands alone (default false)")
	fs.IntVar(&f.perModule, "concurrency", 0, fmt.Sprintf("how many calls of one module may run at once; more wait for a free slot (default %d)", runtime.DefaultMaxConcurrency))
	fs.DurationVar(&f.pollAfter, "poll-after", 0, "with --http, sessions: a tool call that runs longer than `duration` gives its HTTP stream back and the client picks the result up when it reconnects (SEP-1699), for proxies that cut long responses (default: streams stay open)")
	fs.StringVar(&f.tokenFile, "auth-token-file", "", "with --http: require \"Authorization: Bearer TOKEN\" on /mcp and /sse, TOKEN read from `FILE`; /healthz then shows only its status without it (default: no authentication)")
	f.http.register(fs)
	f.limits.register(fs)
	f.budget.register(fs)
	f.cache.register(fs)
	f.engine.register(fs)
	f.grants.register(fs)
	fs.StringVar(&f.auditFile, "audit", "", "append one JSON line per call to `FILE` (default: no audit log)")
	fs.BoolVar(&f.verbose, "v", false, "log every call and the MCP SDK's activity to stderr (default false)")
	showDefaults(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		e.errorf("serve needs at least one .wasm file or directory; see 'wasmgate serve -h'")
		return exitUsage
	}
	if f.addr == "" && (f.stateless || f.tokenFile != "" || f.pollAfter != 0 || f.http.set(fs)) {
		e.errorf("serve: --stateless, --poll-after, --auth-token-file and the HTTP limits need --http ADDR")
		return exitUsage
	}
	if err := f.http.check(f.pollAfter); err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	if f.perModule == 0 {
		f.perModule = runtime.DefaultMaxConcurrency
	}
	if f.perModule < 1 {
		e.errorf("serve: --concurrency must be at least 1, got %d", f.perModule)
		return exitUsage
	}
	if err := f.budget.check(); err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	setMemoryLimit(f.budget.budget())
	if f.pollAfter < 0 || f.pollAfter != 0 && f.stateless {
		e.errorf("serve: --poll-after needs a positive duration and sessions (not --stateless)")
		return exitUsage
	}
	var token string
	if f.tokenFile != "" {
		if token, err = readToken(f.tokenFile); err != nil {
			e.errorf("serve: %v", err)
			return exitUsage
		}
	}
	pol, popts, err := f.grants.load()
	if err != nil {
		e.errorf("serve: %v%s", err, engineHint(err))
		return exitUsage
	}
	cfg, err := f.engine.configure(f.cache.configure(f.budget.configure(runtime.NewConfig().WithMaxConcurrency(f.perModule))))
	if err != nil {
		e.errorf("serve: %v%s", err, engineHint(err))
		return exitUsage
	}
	auditLog, err := openAudit(f.auditFile)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	defer auditLog.Close()

	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	opts := wasmgate.Options{
		Sources:        []wasmgate.Source{wasmgate.Files(pos...)},
		Policy:         pol,
		PolicyOptions:  popts,
		StateDir:       f.grants.stateDir,
		Config:         cfg,
		Limits:         f.limits.limits(), // the command line's limits win over the policy's, as in call
		PollAfter:      f.pollAfter,
		Implementation: &mcp.Implementation{Name: "wasmgate", Title: "wasmgate", Version: versionNumber()},
		Logger:         logger,
		OnLoadError:    func(err error) { printLoadError(e, "serve", err) },
	}
	if auditLog != nil {
		opts.Audit = auditLog
	}
	if f.verbose {
		opts.ProtocolLogger = logger
	}
	g, err := wasmgate.Open(ctx, opts)
	if err != nil {
		e.errorf("serve: %v%s%s", err, stateDirHint(err), engineHint(err))
		return exitUsage
	}
	// The compile watchers stop, and are waited for, before serve returns
	// (and so before the logger's writer goes away).
	defer g.Close()
	reg := g.Registry()
	if len(g.Modules()) == 0 {
		e.errorf("serve: no module loaded; nothing to serve")
		return exitUsage
	}
	if len(reg.Tools())+len(reg.Resources())+len(reg.Prompts()) == 0 {
		e.errorf("serve: no tool, resource or prompt to serve")
		return exitUsage
	}
	printServed(e.stderr, g)

	if f.addr == "" {
		return serveStdio(ctx, e, g.Server())
	}
	return serveHTTP(ctx, e, g, &f, token, logger)
}

// printLoadError reports a module that is not served: the runtime's
// refusal with the manifest's field errors, or a path's problem.
func printLoadError(e *env, cmd string, err error) {
	var me *wasmgate.ModuleError
	if errors.As(err, &me) {
		e.errorf("%v; not served", err)
		printFieldErrors(e, err)
		return
	}
	e.errorf("%s: %v", cmd, err)
}

// stateDirHint names the flag that gives key-value storage a directory.
func stateDirHint(err error) string {
	if errors.Is(err, wasmgate.ErrNoStateDir) {
		return "; set --state-dir"
	}
	return ""
}

// readToken reads a bearer token from a file, refusing an empty one.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("auth token file %s is empty", path)
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("auth token file %s must hold one token without spaces", path)
	}
	return token, nil
}

// modulePaths expands the PATH arguments as serve does (wasmgate.Files):
// files as given, directories walked in lexical order for *.wasm, skipping
// directories named testdata and dot-directories below the one given. A
// file found twice is served once.
func modulePaths(args []string) (paths []string, problems []error) {
	found, err := wasmgate.Files(args...).Modules(context.Background())
	for _, f := range found {
		paths = append(paths, f.Path)
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		problems = j.Unwrap()
	} else if err != nil {
		problems = []error{err}
	}
	return paths, problems
}

// printServed tells the operator what is served, with each module's limits
// and grants, before the transport details.
func printServed(w io.Writer, g *wasmgate.Gateway) {
	reg := g.Registry()
	served := map[*runtime.Module][]string{}
	for _, t := range reg.Tools() {
		served[t.Module] = append(served[t.Module], t.Name)
	}
	for _, r := range reg.Resources() {
		served[r.Module] = append(served[r.Module], r.URI)
	}
	for _, p := range reg.Prompts() {
		served[p.Module] = append(served[p.Module], "prompt "+p.Name)
	}
	extra := ""
	if n, p := len(reg.Resources()), len(reg.Prompts()); n+p > 0 {
		extra = fmt.Sprintf(", %s, %s", plural(n, "resource or template", "resources and templates"), plural(p, "prompt"))
	}
	fmt.Fprintf(w, "%s\nserving %s%s from %s (limits per call: time, memory, output):\n", versionString(), plural(len(reg.Tools()), "tool"), extra, plural(len(served), "module"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var granted []*runtime.Module
	for _, m := range reg.Modules() {
		if len(served[m]) == 0 {
			continue
		}
		l := m.Limits(g.Limits(m))
		fmt.Fprintf(tw, "  %s\t%s\t%s %s %s\t%s\n", m.Name(), strings.Join(served[m], ", "), l.Timeout, l.Memory, l.Output, m.Path())
		if mg := g.Grants(m); mg != nil && (len(mg.Report) > 0 || len(mg.Warnings) > 0) {
			granted = append(granted, m)
		}
	}
	tw.Flush()
	for _, m := range granted {
		fmt.Fprintf(w, "permissions of %s:\n", m.Name())
		printGrants(w, g.Grants(m), "  ")
	}
}

// showDefaults completes the usage of flags that do not say their default,
// so that serve -h shows every one.
func showDefaults(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Contains(f.Usage, "(default") || strings.Contains(f.Usage, "default: ") {
			return
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Usage += " (default false)"
		} else {
			f.Usage += " (default: none)"
		}
	})
}

func versionNumber() string {
	v, _, _ := strings.Cut(strings.TrimPrefix(versionString(), "wasmgate "), " ")
	return v
}

// nopWriteCloser keeps the transport from closing stdout.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func serveStdio(ctx context.Context, e *env, srv *mcp.Server) int {
	fmt.Fprintf(e.stderr, "serving MCP over stdio\n")
	in, ok := e.stdin.(io.ReadCloser)
	if !ok {
		in = io.NopCloser(e.stdin)
	}
	ss, err := srv.Connect(ctx, &mcp.IOTransport{Reader: in, Writer: nopWriteCloser{e.stdout}, MaxLineLength: maxRequestBody}, nil)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	ended := make(chan error, 1)
	go func() { ended <- ss.Wait() }()
	select {
	case err := <-ended:
		if err != nil && !errors.Is(err, io.EOF) {
			e.errorf("serve: session ended: %v", err)
		}
		return exitOK
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "shutting down: letting running calls finish (at most %s)\n", shutdownGrace)
	go ss.Close()
	select {
	case <-ended:
	case <-time.After(shutdownGrace):
	}
	return exitOK
}

func serveHTTP(ctx context.Context, e *env, g *wasmgate.Gateway, f *serveFlags, token string, logger *slog.Logger) int {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	hopts := &server.HTTPOptions{
		Stateless:      f.stateless,
		Token:          token,
		AllowedOrigins: append(listenOrigins(f.addr, ln.Addr()), f.http.origins...),
		MaxRequestBody: maxRequestBody,
		ReadTimeout:    f.http.readTimeout,
		IdleTimeout:    f.http.idleTimeout,
		MaxHeaderBytes: int(f.http.maxHeader),
		SessionTimeout: f.http.sessionTimeout,
		MaxSessions:    f.http.maxSessions,
		Health:         map[string]any{"version": versionNumber()},
		Logger:         logger,
	}
	if f.verbose {
		hopts.TransportLogger = logger
	}
	hs, err := g.HTTPServer(hopts)
	if err != nil {
		ln.Close()
		e.errorf("serve: --allow-origin: %v", err)
		return exitUsage
	}

	base := "http://" + displayAddr(ln.Addr())
	printHTTP(e.stderr, base, f, token != "", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		e.errorf("serve: %v", err)
		return exitUsage
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "shutting down: letting running calls finish (at most %s)\n", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	hs.Shutdown(sctx)
	return exitOK
}

// listenOrigins are the origins of the host name serve listens on, when it
// is a name: browsers on the server's own address are allowed, and the
// HTTP server sees only the IP address.
func listenOrigins(addr string, ln net.Addr) []string {
	host, _, err := net.SplitHostPort(addr)
	tcp, ok := ln.(*net.TCPAddr)
	if err != nil || !ok || host == "" || net.ParseIP(host) != nil {
		return nil
	}
	hp := net.JoinHostPort(host, strconv.Itoa(tcp.Port))
	return []string{"http://" + hp, "https://" + hp}
}

// httpFlags are the limits of serve --http.
type httpFlags struct {
	readTimeout    time.Duration
	idleTimeout    time.Duration
	sessionTimeout time.Duration
	maxSessions    int
	maxHeader      sizeFlag
	origins        listFlag
}

func (h *httpFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&h.readTimeout, "read-timeout", 0, fmt.Sprintf("with --http: how long a client may take to send a request, header and body; a slower one is cut off, while responses and streams may last longer (default %s; the header alone within %s)", server.DefaultReadTimeout, server.DefaultReadHeaderTimeout))
	fs.DurationVar(&h.idleTimeout, "idle-timeout", 0, fmt.Sprintf("with --http: how long a keep-alive connection may wait for its next request (default %s)", server.DefaultIdleTimeout))
	fs.DurationVar(&h.sessionTimeout, "session-timeout", 0, fmt.Sprintf("with --http: close a session after `duration` without a request, open stream or running call; its client then starts a new one (default %s)", server.DefaultSessionTimeout))
	fs.IntVar(&h.maxSessions, "max-sessions", 0, fmt.Sprintf("with --http: how many sessions (streamable and SSE) may be open at once; a request for one more gets 503 (default %d)", server.DefaultMaxSessions))
	fs.Var(&h.maxHeader, "max-header-size", fmt.Sprintf("with --http: `size` of a request's header (default %s)", abi.Size(server.DefaultMaxHeaderBytes)))
	fs.Var(&h.origins, "allow-origin", "with --http: also serve requests whose Origin header is `ORIGIN` (scheme://host[:port]), such as a reverse proxy's public address; others from browsers get 403; repeatable (default: only localhost, loopback addresses and the address listened on)")
}

// set reports whether any of the flags was given.
func (h *httpFlags) set(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "read-timeout", "idle-timeout", "session-timeout", "max-sessions", "max-header-size", "allow-origin":
			given = true
		}
	})
	return given
}

func (h *httpFlags) check(pollAfter time.Duration) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read-timeout", h.readTimeout}, {"idle-timeout", h.idleTimeout}, {"session-timeout", h.sessionTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("--%s must be positive, got %s", d.name, d.v)
		}
	}
	if h.maxSessions < 0 {
		return fmt.Errorf("--max-sessions must be at least 1, got %d", h.maxSessions)
	}
	if session := cmp.Or(h.sessionTimeout, server.DefaultSessionTimeout); pollAfter > 0 && session <= pollAfter {
		return fmt.Errorf("--session-timeout (%s) must be longer than --poll-after (%s): the client comes back for its result after that long", session, pollAfter)
	}
	return nil
}

// displayAddr is the address clients should use: a wildcard listen address
// is shown as localhost.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}

func printHTTP(w io.Writer, base string, f *serveFlags, auth bool, addr net.Addr) {
	mode := "sessions"
	if f.stateless {
		mode = "stateless"
	}
	fmt.Fprintf(w, "serving MCP over HTTP (%s):\n", mode)
	fmt.Fprintf(w, "  streamable HTTP  %s/mcp\n", base)
	fmt.Fprintf(w, "  legacy SSE       %s/sse\n", base)
	fmt.Fprintf(w, "  health           %s/healthz\n", base)
	header := ""
	if auth {
		fmt.Fprintf(w, "every /mcp and /sse request needs the header \"Authorization: Bearer <token from %s>\"\n", f.tokenFile)
		header = ` --header "Authorization: Bearer $TOKEN"`
	} else if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(w, "warning: no --auth-token-file: anyone who can reach %s can call these tools\n", addr)
	}
	fmt.Fprintf(w, "connect:\n")
	fmt.Fprintf(w, "  Claude Code     claude mcp add --transport http wasmgate %s/mcp%s\n", base, header)
	fmt.Fprintf(w, "  MCP Inspector   npx @modelcontextprotocol/inspector   (transport Streamable HTTP, URL %s/mcp)\n", base)
	fmt.Fprintf(w, "  curl            see docs/clients.md\n")
}
