package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	tokenFile string
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
	fs.StringVar(&f.tokenFile, "auth-token-file", "", "with --http: require \"Authorization: Bearer TOKEN\" on /mcp and /sse, TOKEN read from `FILE` (default: no authentication)")
	f.limits.register(fs)
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
	if f.addr == "" && (f.stateless || f.tokenFile != "" || f.pollAfter != 0) {
		e.errorf("serve: --stateless, --poll-after and --auth-token-file need --http ADDR")
		return exitUsage
	}
	if f.perModule == 0 {
		f.perModule = runtime.DefaultMaxConcurrency
	}
	if f.perModule < 1 {
		e.errorf("serve: --concurrency must be at least 1, got %d", f.perModule)
		return exitUsage
	}
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
	rt, err := runtime.New(ctx, caps.configure(runtime.NewConfig().WithLogger(logger).WithMaxConcurrency(f.perModule)))
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

// loadModules loads every module it can, reporting the others.
func loadModules(ctx context.Context, e *env, rt *runtime.Runtime, args []string) []*runtime.Module {
	paths, problems := modulePaths(args)
	for _, err := range problems {
		e.errorf("serve: %v", err)
	}
	var mods []*runtime.Module
	for _, p := range paths {
		m, err := rt.Load(ctx, p)
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
		extra = fmt.Sprintf(", %d resources and templates, %d prompts", n, p)
	}
	fmt.Fprintf(w, "%s\nserving %d tools%s from %d modules (limits per call: time, memory, output):\n", versionString(), len(reg.Tools()), extra, len(served))
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
	get := func(*http.Request) *mcp.Server { return srv }
	var sdkLogger *slog.Logger
	if f.verbose {
		sdkLogger = logger
	}
	hopts := mcp.StreamableHTTPOptions{
		Stateless:                    true,
		MaxRequestBodyBytes:          maxRequestBody,
		PropagateRequestCancellation: true,
		Logger:                       sdkLogger,
	}
	// Requests of MCP 2026-07-28 and later are stateless by design; earlier
	// clients get sessions (which sampling and elicitation need), unless
	// --stateless, and their streams can be resumed from an event store.
	var streamable http.Handler = mcp.NewStreamableHTTPHandler(get, &hopts)
	if !f.stateless {
		sessions := hopts
		sessions.Stateless = false
		sessions.EventStore = mcp.NewMemoryEventStore(nil)
		streamable = server.ByRevision(mcp.NewStreamableHTTPHandler(get, &sessions), streamable)
	}
	sse := mcp.NewSSEHandler(get, &mcp.SSEOptions{MaxRequestBodyBytes: maxRequestBody})
	protect := func(h http.Handler) http.Handler { return h }
	if token != "" {
		protect = func(h http.Handler) http.Handler { return requireBearer(token, h) }
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", protect(reg.CancelOnDisconnect(streamable)))
	mux.Handle("/sse", protect(sse))
	mux.HandleFunc("/healthz", healthz(reg))
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
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
	// Ending the sessions ends their open streams, so Shutdown can finish.
	for ss := range srv.Sessions() {
		go ss.Close()
	}
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return exitOK
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

// requireBearer lets a request through only with "Authorization: Bearer
// <token>". The comparison is in constant time, on digests so that the
// token's length does not show either.
func requireBearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wasmgate"`)
			http.Error(w, "unauthorized: send the header Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// healthz answers 200 with what is served.
func healthz(reg *server.Registry) http.HandlerFunc {
	modules := map[string]bool{}
	for _, t := range reg.Tools() {
		modules[t.Module.Name()] = true
	}
	body, _ := json.Marshal(map[string]any{
		"status":  "ok",
		"version": versionNumber(),
		"modules": len(modules),
		"tools":   len(reg.Tools()),
	})
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(body, '\n'))
	}
}
