// Package wasmgate serves sandboxed WebAssembly tool modules over the Model
// Context Protocol, with the capabilities an operator's policy grants them.
// It puts together what the packages below it provide: [Open] loads the
// modules of one or more [Source]s into a runtime (package runtime) with
// the host functions of the capabilities (packages host/...), computes
// each module's grants from the policy (package policy), serves their
// tools, resources and prompts on an MCP server of the official Go SDK
// (package server) and records every call in an audit sink (package
// audit). The wasmgate command is this package behind command-line flags.
//
// A Gateway serves over any go-sdk transport: [Gateway.Server] is the
// *mcp.Server to run, [Gateway.HTTPServer] serves streamable HTTP (with
// health, Origin checks and session limits). [Gateway.Add],
// [Gateway.Remove] and [Gateway.Replace] change the modules served while
// clients are connected, and clients are told that the lists changed.
//
// Errors say what failed and which capability or limit is missing, in
// terms of this package's options and the policy; they name no
// command-line flag.
package wasmgate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	goruntime "runtime"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// Options configures a Gateway. The zero value serves nothing and grants
// nothing.
type Options struct {
	// Sources are where Open finds the modules to serve.
	Sources []Source

	// Policy grants capabilities and limits per module, and may run a
	// module on another engine than Config's (its entry's engine); nil
	// grants nothing beyond the bare sandbox.
	Policy *policy.Policy
	// PolicyOptions are grants given to every module besides the policy's
	// (policy.Options.Flags) and how the policy's secrets are resolved. If
	// nil, or if its ResolveSecret is nil, secrets are resolved by
	// secret.Resolve.
	PolicyOptions *policy.Options
	// PolicyNamesLater lets the policy grant modules that Open's sources
	// do not provide, because they are added later. If false, such an
	// entry is an error, so that a misspelt module name does not leave the
	// module it meant ungranted without a word.
	PolicyNamesLater bool
	// StateDir is where key-value storage is kept, when the policy grants
	// it. If empty, defaults to DefaultStateDir().
	StateDir string

	// Config configures the runtime: call limits, concurrency, memory
	// budget, compilation cache. If nil, defaults to runtime.NewConfig().
	// The gateway adds the capabilities' host functions, and Logger when
	// it is not nil.
	Config *runtime.Config
	// Limits is the ceiling of every call; a zero field takes the policy's
	// limit for the module, then the runtime's. A module's manifest may
	// ask for less, never more.
	Limits runtime.Limits
	// PollAfter is server.Options.PollAfter: over streamable HTTP, how
	// long a tool call may hold its stream before the client is asked to
	// come back for the result.
	PollAfter time.Duration

	// Server, if not nil, is the MCP server the modules are added to, next
	// to its own tools. For completions and resource subscriptions its
	// options must call the Gateway's Complete, Subscribe and Unsubscribe.
	// If nil, Open creates one, named by Implementation.
	Server *mcp.Server
	// Implementation names the server Open creates. If nil, it is
	// {Name: "wasmgate"}.
	Implementation *mcp.Implementation
	// Completions makes the server Open creates offer completions even
	// when no module loaded by Open declares them, for modules added
	// later. (A server's capabilities are fixed when it is created.)
	Completions bool

	// Audit, if not nil, receives one entry per tool call, resource read,
	// prompt and completion that ran a guest. *audit.Log is one.
	Audit AuditSink
	// Logger receives what the gateway does: modules served, withdrawn,
	// refused; failed calls; guests' stderr. If nil, nothing is logged.
	Logger *slog.Logger
	// ProtocolLogger, if not nil, receives the MCP SDK's own activity, and
	// that of its HTTP transports.
	ProtocolLogger *slog.Logger
	// OnLoadError, if not nil, is called by Open for each module a source
	// could not find or read, and each the runtime refused; they are not
	// served, and Open goes on with the others. If nil, they are logged to
	// Logger.
	OnLoadError func(error)
}

// AuditSink receives the audit log's entries. Record is called once a
// call has run and before its result is sent, so it should be quick.
type AuditSink interface {
	Record(audit.Entry)
}

// Gateway serves modules to MCP clients. Its methods are safe for
// concurrent use.
type Gateway struct {
	opts   Options
	popts  *policy.Options
	logger *slog.Logger
	caps   *caps
	rt     *runtime.Runtime
	srv    *mcp.Server
	reg    *server.Registry

	// change serializes Add, Remove and Replace.
	change sync.Mutex
	mu     sync.Mutex
	grants map[*runtime.Module]*policy.ModuleGrants
	https  []*server.HTTPServer

	// background is the compile watchers and the closing of modules
	// removed; stop ends them.
	background sync.WaitGroup
	bgCtx      context.Context
	stop       context.CancelFunc
	closeOnce  sync.Once
}

// Open creates the runtime, loads the modules of opts.Sources and serves
// them. It returns once every module's manifest is read: modules compile
// in the background, and calls wait for them. A module that fails to
// compile is withdrawn (clients are told the lists changed) with the
// reason logged. Modules that cannot be found or opened are reported to
// opts.OnLoadError and skipped; a policy that does not fit the modules,
// a capability that cannot be opened or a runtime that cannot be created
// is an error. Close the Gateway to release what it holds.
func Open(ctx context.Context, opts Options) (_ *Gateway, err error) {
	g := &Gateway{opts: opts, grants: map[*runtime.Module]*policy.ModuleGrants{}}
	g.logger = opts.Logger
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	g.popts = &policy.Options{ResolveSecret: secret.Resolve}
	if opts.PolicyOptions != nil {
		po := *opts.PolicyOptions
		if po.ResolveSecret == nil {
			po.ResolveSecret = secret.Resolve
		}
		g.popts = &po
	}
	g.bgCtx, g.stop = context.WithCancel(context.WithoutCancel(ctx))
	if g.caps, err = openCaps(opts.Policy, opts.StateDir, g.logger); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	cfg := opts.Config
	if cfg == nil {
		cfg = runtime.NewConfig()
	}
	if opts.Logger != nil {
		cfg = cfg.WithLogger(opts.Logger)
	}
	// A policy entry's engine runs its module on that engine.
	for module, eng := range opts.Policy.Engines() {
		cfg = cfg.WithModuleEngine(module, eng)
	}
	if g.rt, err = runtime.New(ctx, g.caps.configure(cfg)); err != nil {
		return nil, err
	}

	var mods []*runtime.Module
	for _, src := range opts.Sources {
		ms, errs := g.open(ctx, src)
		mods = append(mods, ms...)
		for _, err := range errs {
			if opts.OnLoadError != nil {
				opts.OnLoadError(err)
			} else {
				g.logger.Error(err.Error())
			}
		}
	}
	byName := map[string]*abi.Manifest{}
	for _, m := range mods {
		byName[m.Name()] = m.Manifest()
	}
	if err := opts.Policy.Check(byName, opts.PolicyNamesLater); err != nil {
		return nil, err
	}
	for _, m := range mods {
		mg, err := opts.Policy.Grants(m.Manifest(), g.popts)
		if err != nil {
			return nil, err
		}
		g.grants[m] = mg
	}

	g.srv = opts.Server
	if g.srv == nil {
		impl := opts.Implementation
		if impl == nil {
			impl = &mcp.Implementation{Name: "wasmgate"}
		}
		sopts := &mcp.ServerOptions{SubscribeHandler: g.Subscribe, UnsubscribeHandler: g.Unsubscribe, Logger: opts.ProtocolLogger}
		if opts.Completions || slices.ContainsFunc(mods, func(m *runtime.Module) bool { return m.Manifest().Completions }) {
			sopts.CompletionHandler = g.Complete
		}
		g.srv = mcp.NewServer(impl, sopts)
	}
	// Refused modules and skipped items are logged by Add; the rest is
	// served.
	// (A refused module may still be compiling: the runtime releases it
	// when the gateway closes.)
	g.reg, _ = server.Add(g.srv, mods, g.serverOptions())
	for _, m := range mods {
		if !slices.Contains(g.reg.Modules(), m) {
			g.forget(m)
		}
	}
	for _, m := range g.reg.Modules() {
		g.watch(m)
	}
	return g, nil
}

// serverOptions wires the grants, limits and audit sink into the server.
func (g *Gateway) serverOptions() *server.Options {
	return &server.Options{
		Limits:    g.opts.Limits,
		Logger:    g.logger,
		PollAfter: g.opts.PollAfter,
		Configure: func(t server.Tool) server.ToolConfig {
			mg := g.Grants(t.Module)
			return server.ToolConfig{Grant: mg.Tools[t.Manifest.Name], Limits: g.Limits(t.Module)}
		},
		ConfigureModule: func(m *runtime.Module) server.ToolConfig {
			return server.ToolConfig{Grant: g.Grants(m).Module, Limits: g.Limits(m)}
		},
		OnCall: func(_ context.Context, session string, t server.Tool, out *runtime.Outcome) {
			if g.opts.Audit != nil {
				g.opts.Audit.Record(audit.EntryFor(session, t.Module, t.Manifest.Name, out))
			}
		},
		OnRequest: func(_ context.Context, session string, r server.Request, out *runtime.Outcome) {
			if g.opts.Audit != nil {
				g.opts.Audit.Record(audit.EntryForRequest(session, r.Module, r.Method, r.Name, out))
			}
		},
	}
}

// open opens the modules of src; they compile in the background.
func (g *Gateway) open(ctx context.Context, src Source) ([]*runtime.Module, []error) {
	found, err := src.Modules(ctx)
	errs := unjoin(err)
	// Reading, hashing and checking modules is independent work: one per
	// CPU at once, the results kept in the source's order.
	opened := make([]*runtime.Module, len(found))
	failed := make([]error, len(found))
	var wg sync.WaitGroup
	slots := make(chan struct{}, goruntime.GOMAXPROCS(0))
	for i, f := range found {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			if f.Path != "" {
				opened[i], failed[i] = g.rt.Open(ctx, f.Path)
			} else {
				opened[i], failed[i] = g.rt.OpenBytes(ctx, f.Origin, f.Wasm, f.Manifest)
			}
		}()
	}
	wg.Wait()
	var mods []*runtime.Module
	for i, f := range found {
		if failed[i] != nil {
			errs = append(errs, &ModuleError{Module: f.name(), Err: failed[i]})
			continue
		}
		mods = append(mods, opened[i])
	}
	return mods, errs
}

// ModuleError is a module that a source found and the runtime refused:
// its file cannot be read, or its code, manifest or imports are not
// acceptable. Errors about a source itself (a path that does not exist, a
// directory without modules) are not ModuleErrors.
type ModuleError struct {
	// Module is the module's path or origin.
	Module string
	// Err is the runtime's error, which names the module.
	Err error
}

func (e *ModuleError) Error() string { return e.Err.Error() }
func (e *ModuleError) Unwrap() error { return e.Err }

// unjoin splits an error made by errors.Join into its errors.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// watch waits, in the background, for m to finish compiling, and
// withdraws it if it fails: its manifest was served at once, before
// compiling, so that clients need not wait. A module that compiled gets
// the snapshots its tools' calls start from (runtime.Module.Prepare), so
// that no first call waits for one.
func (g *Gateway) watch(m *runtime.Module) {
	g.background.Go(func() {
		if err := m.Ready(g.bgCtx); err != nil {
			if g.bgCtx.Err() == nil {
				g.logger.Error("module withdrawn: it failed to compile, so its tools, resources and prompts are no longer served", "module", m.Name(), "err", err)
				g.reg.Withdraw(m)
			}
			return
		}
		mg := g.Grants(m)
		if mg == nil {
			return
		}
		seen := map[*runtime.Grant]bool{}
		for _, t := range m.Manifest().Tools {
			grant := mg.Tools[t.Name]
			if seen[grant] {
				continue
			}
			seen[grant] = true
			if err := m.Prepare(g.bgCtx, runtime.Call{Grant: grant, Limits: g.Limits(m)}); err != nil && g.bgCtx.Err() == nil {
				g.logger.Debug("snapshot not prepared; the first call takes it", "module", m.Name(), "err", err)
			}
		}
	})
}

// prepare opens the modules of src, waits for them to compile and computes
// their grants. On an error it closes them and returns nothing.
func (g *Gateway) prepare(ctx context.Context, src Source) ([]*runtime.Module, map[*runtime.Module]*policy.ModuleGrants, error) {
	mods, errs := g.open(ctx, src)
	grants := map[*runtime.Module]*policy.ModuleGrants{}
	for _, m := range mods {
		if err := m.Ready(ctx); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := g.opts.Policy.Check(map[string]*abi.Manifest{m.Name(): m.Manifest()}, true); err != nil {
			errs = append(errs, fmt.Errorf("module %s (%s): %w", m.Name(), m.Path(), err))
			continue
		}
		mg, err := g.opts.Policy.Grants(m.Manifest(), g.popts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		grants[m] = mg
	}
	if len(mods) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no module found", src))
	}
	if len(errs) > 0 {
		for _, m := range mods {
			m.Close(context.WithoutCancel(ctx))
		}
		return nil, nil, errors.Join(errs...)
	}
	return mods, grants, nil
}

// Add loads the modules of src and serves them besides those served,
// while clients are connected: they are told that the lists of tools,
// resources and prompts changed. Unlike Open, Add returns once the modules
// are compiled, and serves none of them if one cannot be found, compiled
// or granted. Names follow the rules of package server: a tool name
// several modules declare is served as "<module>_<tool>" for each of them,
// those served already included. A module whose name is served already is
// refused; use Replace.
func (g *Gateway) Add(ctx context.Context, src Source) error {
	g.change.Lock()
	defer g.change.Unlock()
	mods, grants, err := g.prepare(ctx, src)
	if err != nil {
		return err
	}
	g.remember(grants)
	err = g.reg.Add(mods...)
	served := g.reg.Modules()
	for _, m := range mods {
		if !slices.Contains(served, m) {
			g.forget(m)
			m.Close(context.WithoutCancel(ctx))
		}
	}
	return err
}

// Remove stops serving the module named name. Its calls already running
// finish, after which it is closed; clients are told that the lists
// changed. Items of other modules that were served as "<module>_<name>"
// because of it get their own names back.
func (g *Gateway) Remove(name string) error {
	g.change.Lock()
	defer g.change.Unlock()
	m := g.served(name)
	if m == nil {
		return fmt.Errorf("no module named %q is served", name)
	}
	idle, ok := g.reg.Remove(m)
	if ok {
		g.retire(m, idle)
	}
	return nil
}

// Replace serves the modules of src in place of the served modules of the
// same names, such as new versions of them. Every module of src must
// replace one that is served, and all must be found, compiled and granted,
// or nothing is replaced. What clients see is what server.Registry.Replace
// guarantees: an item both versions serve under one name is swapped in
// place, never missing; calls of the old version already running finish
// on it; clients are told that the lists changed.
func (g *Gateway) Replace(ctx context.Context, src Source) error {
	g.change.Lock()
	defer g.change.Unlock()
	mods, grants, err := g.prepare(ctx, src)
	if err != nil {
		return err
	}
	var errs []error
	olds := map[*runtime.Module]*runtime.Module{}
	for _, m := range mods {
		old := g.served(m.Name())
		if old == nil {
			errs = append(errs, fmt.Errorf("module %s (%s): no module of that name is served to replace", m.Name(), m.Path()))
		}
		olds[m] = old
	}
	if len(errs) > 0 {
		for _, m := range mods {
			m.Close(context.WithoutCancel(ctx))
		}
		return errors.Join(errs...)
	}
	g.remember(grants)
	for _, m := range mods {
		idle, err := g.reg.Replace(olds[m], m)
		if err != nil {
			errs = append(errs, err)
		}
		if idle != nil {
			g.retire(olds[m], idle)
		} else {
			g.forget(m)
			m.Close(context.WithoutCancel(ctx))
		}
	}
	return errors.Join(errs...)
}

// served is the module named name that is served, or nil.
func (g *Gateway) served(name string) *runtime.Module {
	for _, m := range g.reg.Modules() {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

func (g *Gateway) remember(grants map[*runtime.Module]*policy.ModuleGrants) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for m, mg := range grants {
		g.grants[m] = mg
	}
}

func (g *Gateway) forget(m *runtime.Module) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.grants, m)
}

// retire closes m once its running calls have ended (idle), or when the
// gateway closes.
func (g *Gateway) retire(m *runtime.Module, idle <-chan struct{}) {
	g.background.Go(func() {
		select {
		case <-idle:
		case <-g.bgCtx.Done():
			return
		}
		// A module removed while it compiles is closed once compiled (or
		// released with the runtime).
		if m.Ready(g.bgCtx); g.bgCtx.Err() != nil {
			return
		}
		m.Close(context.Background())
		g.forget(m)
	})
}

// Modules lists the modules served, in the order they were given.
func (g *Gateway) Modules() []*runtime.Module { return g.reg.Modules() }

// Grants is what the policy grants m, or nil if m was not loaded by the
// gateway.
func (g *Gateway) Grants(m *runtime.Module) *policy.ModuleGrants {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.grants[m]
}

// Limits is the ceiling of m's calls: Options.Limits, with each zero field
// taken from the policy's limits for m. The runtime's defaults and m's
// manifest then narrow it (runtime.Module.Limits).
func (g *Gateway) Limits(m *runtime.Module) runtime.Limits {
	l := g.opts.Limits
	if mg := g.Grants(m); mg != nil {
		l = l.Or(mg.Limits)
	}
	return l
}

// Ready waits until every module served is compiled, and returns the
// errors of those that failed (which are withdrawn), or ctx's error.
func (g *Gateway) Ready(ctx context.Context) error {
	var errs []error
	for _, m := range g.reg.Modules() {
		if err := m.Ready(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Server is the MCP server the modules are served on.
func (g *Gateway) Server() *mcp.Server { return g.srv }

// Registry is what is served on Server, for the server package's finer
// controls (CancelOnDisconnect, Warnings).
func (g *Gateway) Registry() *server.Registry { return g.reg }

// Runtime is the runtime the modules run in.
func (g *Gateway) Runtime() *runtime.Runtime { return g.rt }

// Complete answers completion/complete; see server.Registry.Complete. A
// server created by Open calls it; a server given in Options.Server should
// set its CompletionHandler to it.
func (g *Gateway) Complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	return g.reg.Complete(ctx, req)
}

// Subscribe accepts resources/subscribe; see server.Registry.Subscribe.
func (g *Gateway) Subscribe(ctx context.Context, req *mcp.SubscribeRequest) error {
	return g.reg.Subscribe(ctx, req)
}

// Unsubscribe accepts resources/unsubscribe.
func (g *Gateway) Unsubscribe(ctx context.Context, req *mcp.UnsubscribeRequest) error {
	return g.reg.Unsubscribe(ctx, req)
}

// HTTPServer serves the gateway over HTTP: streamable HTTP at /mcp, legacy
// SSE at /sse, health at /healthz, with opts' limits, Origin checks and
// bearer token (see server.NewHTTPServer). opts may be nil; its
// TransportLogger defaults to Options.ProtocolLogger. Close shuts it down
// if its own Shutdown was not called.
func (g *Gateway) HTTPServer(opts *server.HTTPOptions) (*server.HTTPServer, error) {
	var o server.HTTPOptions
	if opts != nil {
		o = *opts
	}
	if o.TransportLogger == nil {
		o.TransportLogger = g.opts.ProtocolLogger
	}
	if o.Logger == nil {
		o.Logger = g.opts.Logger
	}
	hs, err := server.NewHTTPServer(g.srv, g.reg, &o)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.https = append(g.https, hs)
	g.mu.Unlock()
	return hs, nil
}

// Handler is HTTPServer(opts).Handler(): the gateway over HTTP, for a
// program that serves it with its own http.Server or mux.
func (g *Gateway) Handler(opts *server.HTTPOptions) (http.Handler, error) {
	hs, err := g.HTTPServer(opts)
	if err != nil {
		return nil, err
	}
	return hs.Handler(), nil
}

// Close stops the compile watchers, ends the HTTP servers' sessions and
// releases the runtime, its modules and the capabilities' resources (the
// key-value store). It does not close Options.Audit.
func (g *Gateway) Close() error {
	var err error
	g.closeOnce.Do(func() {
		g.stop()
		g.background.Wait()
		g.mu.Lock()
		https := g.https
		g.mu.Unlock()
		for _, hs := range https {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the sessions end; requests in flight are not waited for
			hs.Shutdown(ctx)
		}
		if g.rt != nil {
			err = g.rt.Close(context.Background())
		}
		g.caps.close()
	})
	return err
}
