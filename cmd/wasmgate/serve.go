package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/policy"
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
		e.errorf("serve: %v", err)
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
	caps, err := f.grants.openCaps(pol)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	defer caps.Close()
	rt, err := runtime.New(ctx, caps.configure(f.cache.configure(f.budget.configure(runtime.NewConfig().WithLogger(logger).WithMaxConcurrency(f.perModule)))))
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	defer rt.Close(context.Background())

	mods := loadModules(ctx, e, rt, pos)
	if len(mods) == 0 {
		e.errorf("serve: no module loaded; nothing to serve")
		return exitUsage
	}
	grants, err := moduleGrants(pol, popts, false, mods...)
	if err != nil {
		e.errorf("serve: %v", err)
		return exitUsage
	}
	// The command line's limits win over the policy's, as in call.
	ceiling := func(m *runtime.Module) runtime.Limits { return f.limits.limits().Or(grants[m].Limits) }
	var reg *server.Registry
	sopts := &mcp.ServerOptions{
		SubscribeHandler: func(ctx context.Context, req *mcp.SubscribeRequest) error {
			return reg.Subscribe(ctx, req)
		},
		UnsubscribeHandler: func(ctx context.Context, req *mcp.UnsubscribeRequest) error {
			return reg.Unsubscribe(ctx, req)
		},
	}
	if slices.ContainsFunc(mods, func(m *runtime.Module) bool { return m.Manifest().Completions }) {
		sopts.CompletionHandler = func(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return reg.Complete(ctx, req)
		}
	}
	if f.verbose {
		sopts.Logger = logger
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "wasmgate", Title: "wasmgate", Version: versionNumber()}, sopts)
	// Refused modules and skipped tools are logged by Add; the rest is served.
	reg, _ = server.Add(srv, mods, &server.Options{
		Limits:    f.limits.limits(),
		Logger:    logger,
		PollAfter: f.pollAfter,
		Configure: func(t server.Tool) server.ToolConfig {
			return server.ToolConfig{Grant: grants[t.Module].Tools[t.Manifest.Name], Limits: ceiling(t.Module)}
		},
		ConfigureModule: func(m *runtime.Module) server.ToolConfig {
			return server.ToolConfig{Grant: grants[m].Module, Limits: ceiling(m)}
		},
		OnCall: func(_ context.Context, session string, t server.Tool, out *runtime.Outcome) {
			auditLog.Record(audit.EntryFor(session, t.Module, t.Manifest.Name, out))
		},
		OnRequest: func(_ context.Context, session string, r server.Request, out *runtime.Outcome) {
			auditLog.Record(audit.EntryForRequest(session, r.Module, r.Method, r.Name, out))
		},
	})
	if len(reg.Tools())+len(reg.Resources())+len(reg.Prompts()) == 0 {
		e.errorf("serve: no tool, resource or prompt to serve")
		return exitUsage
	}
	printServed(e.stderr, reg, ceiling, grants)
	// The watchers stop, and are waited for, before serve returns (and so
	// before the runtime closes and the logger's writer goes away).
	defer withdrawBroken(ctx, logger, reg, mods)()

	if f.addr == "" {
		return serveStdio(ctx, e, srv)
	}
	return serveHTTP(ctx, e, srv, reg, &f, token, logger)
}

// moduleGrants checks the policy against the loaded modules and computes
// each module's grants. They are keyed by module, not name: until
// server.Add refuses the second of two modules with the same name, both are
// loaded, and each must be granted by its own manifest.
//
// partial is for commands that load one module of the many a policy may
// cover (call, inspect): entries for other modules are then not an error.
func moduleGrants(p *policy.Policy, opts *policy.Options, partial bool, mods ...*runtime.Module) (map[*runtime.Module]*policy.ModuleGrants, error) {
	byName := map[string]*abi.Manifest{}
	for _, m := range mods {
		byName[m.Name()] = m.Manifest()
	}
	if err := p.Check(byName, partial); err != nil {
		return nil, err
	}
	out := map[*runtime.Module]*policy.ModuleGrants{}
	for _, m := range mods {
		g, err := p.Grants(m.Manifest(), opts)
		if err != nil {
			return nil, err
		}
		out[m] = g
	}
	return out, nil
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

// modulePaths expands the PATH arguments: files as given, directories
// walked in lexical order for *.wasm, skipping directories named testdata
// and dot-directories below the one given. A file found twice is served once.
func modulePaths(args []string) (paths []string, problems []error) {
	seen := map[string]bool{}
	add := func(p string) {
		key := p
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			paths = append(paths, p)
		}
	}
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if !info.IsDir() {
			add(arg)
			continue
		}
		n := len(paths)
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				problems = append(problems, err)
				return nil
			}
			if d.IsDir() && p != arg && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".wasm") {
				add(p)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err)
		}
		if len(paths) == n {
			problems = append(problems, fmt.Errorf("%s: no .wasm files (directories named testdata and dot-directories are skipped)", arg))
		}
	}
	return paths, problems
}

// withdrawBroken waits, in the background, for each module to finish
// compiling, and withdraws the ones that fail from reg: their manifests were
// served at once, before compiling, so that clients need not wait. The
// function it returns stops the waiting and returns when it has stopped.
func withdrawBroken(ctx context.Context, logger *slog.Logger, reg *server.Registry, mods []*runtime.Module) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, m := range mods {
		wg.Go(func() {
			if err := m.Ready(ctx); err != nil && ctx.Err() == nil {
				logger.Error("module withdrawn: it failed to compile, so its tools, resources and prompts are no longer served", "module", m.Name(), "err", err)
				reg.Withdraw(m)
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// loadModules opens every module it can, reporting the others. Modules
// compile in the background (runtime.Open).
func loadModules(ctx context.Context, e *env, rt *runtime.Runtime, args []string) []*runtime.Module {
	paths, problems := modulePaths(args)
	for _, err := range problems {
		e.errorf("serve: %v", err)
	}
	var mods []*runtime.Module
	for _, p := range paths {
		m, err := rt.Open(ctx, p)
		if err != nil {
			e.errorf("%v; not served", err)
			printFieldErrors(e, err)
			continue
		}
		mods = append(mods, m)
	}
	return mods
}

// printServed tells the operator what is served, with each module's limits
// and grants, before the transport details.
func printServed(w io.Writer, reg *server.Registry, ceiling func(*runtime.Module) runtime.Limits, grants map[*runtime.Module]*policy.ModuleGrants) {
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
		l := m.Limits(ceiling(m))
		fmt.Fprintf(tw, "  %s\t%s\t%s %s %s\t%s\n", m.Name(), strings.Join(served[m], ", "), l.Timeout, l.Memory, l.Output, m.Path())
		if g := grants[m]; g != nil && (len(g.Report) > 0 || len(g.Warnings) > 0) {
			granted = append(granted, m)
		}
	}
	tw.Flush()
	for _, m := range granted {
		fmt.Fprintf(w, "permissions of %s:\n", m.Name())
		printGrants(w, grants[m], "  ")
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

func serveHTTP(ctx context.Context, e *env, srv *mcp.Server, reg *server.Registry, f *serveFlags, token string, logger *slog.Logger) int {
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
	hs, err := server.NewHTTPServer(srv, reg, hopts)
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
