// Package server serves wasmgate modules to MCP clients through the
// official Go SDK, github.com/modelcontextprotocol/go-sdk: their tools,
// resources, resource templates, prompts and completions.
//
// [Add] registers everything every module declares on an existing
// *mcp.Server, so a Go program that already serves its own tools adds
// sandboxed ones in a few lines; [New] creates a server and adds them. The
// server then runs on any go-sdk transport: stdio, streamable HTTP, the
// legacy SSE transport or in memory. Completions and resource subscriptions
// need handlers in the server's options, which New sets: with Add, set
// mcp.ServerOptions.CompletionHandler, SubscribeHandler and
// UnsubscribeHandler to the Registry's Complete, Subscribe and Unsubscribe
// (the Registry can be assigned after the server is created). Over HTTP,
// [ByRevision] serves clients of MCP 2026-07-28 (stateless) and of earlier
// revisions (sessions) on one URL.
//
// # Questions for the client
//
// A guest's sample, elicit and ask (package host/client) reach the client
// as requests on the call's session up to protocol 2025-11-25, and as an
// input-required result from 2026-07-28 on, after which the guest runs
// again with the answers (abi/ABI.md describes the replay).
//
// A program that runs modules imports an engine (package engine/wazero
// registers the default one) besides the runtime:
//
//	import _ "github.com/wasmgate/wasmgate/engine/wazero"
//	...
//	rt, err := runtime.New(ctx, nil)
//	...
//	mod, err := rt.Load(ctx, "hash.wasm")
//	...
//	s := mcp.NewServer(&mcp.Implementation{Name: "my-server"}, nil)
//	reg, err := server.Add(s, []*runtime.Module{mod}, nil)
//	...
//	err = s.Run(ctx, &mcp.StdioTransport{})
//
// # A call
//
// Before a guest runs, its arguments are checked against the tool's
// inputSchema and the schema's defaults are filled in; a violation is a tool
// error (a result with isError set) that names the field, such as
// `invalid arguments: "text": missing (required)`, and the guest does not
// run. The guest then runs in a fresh sandbox under the limits of
// [Options.Limits], narrowed by its manifest. Every way it can fail (time,
// memory, output, trap, exit, a malformed result, a panic in wasmgate) comes
// back as a tool error that says what happened; the handler never returns a
// protocol error for a guest's failure. When the tool declares an
// outputSchema, a successful result's structuredContent must match it, else
// the result is a tool error saying so; a result with structuredContent and
// no text content also gets the JSON as a text item, for older clients.
//
// The guest's log and progress reports reach the client as MCP logging
// notifications (logger name: the module's name, filtered by the level the
// client set) and progress notifications (only when the request carried a
// progress token). They are queued, never waited for: a slow client cannot
// hold a guest. The tail of the guest's stderr goes to [Options.Logger].
//
// # Cancellation
//
// A call is cancelled, and its guest stopped at its next loop head or host
// call, when the client sends notifications/cancelled, when the session ends
// (stdio EOF, SSE stream closed, session deleted) and, over streamable HTTP,
// when the client drops the HTTP request that carries the call: wrap the
// streamable handler with [Registry.CancelOnDisconnect] for that last case.
//
// # Tool names
//
// A tool is served under the name in its manifest. When two or more modules
// declare the same tool name, every one of them is served as
// "<module>_<tool>" (so the names do not depend on the order modules are
// given in) and a warning naming the modules is logged. If such a prefixed
// name is still taken, by another tool's own name or another prefixed name,
// the prefixed tool is skipped with an error naming both. A module whose
// name is already used by an earlier module in the list is refused whole.
// The go-sdk replaces a tool of the same name without a word, so do not
// reuse the modules' tool names for tools of your own.
//
// # Changing what is served
//
// [Registry.Add], [Registry.Remove] and [Registry.Replace] change the
// modules served while clients are connected; the go-sdk tells them that
// the lists of tools, resources and prompts changed (a client of MCP
// 2026-07-28 hears of it on its subscriptions/listen stream). After each
// change the names are those the rules above give the modules served, as
// if they had all been given to Add at once, so a server started with the
// same modules serves the same names. Calls running on a module removed or
// replaced finish on it; Replace swaps the items both versions serve in
// place, so that a client never finds them missing (see its
// documentation). [Registry.Withdraw] stops serving a module and leaves
// the other names as they are.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Options configures how modules are served. The zero value is ready to use.
type Options struct {
	// Limits is the operator's ceiling for every call: a module's manifest
	// may ask for less, never more. If a field is zero, it defaults to the
	// Runtime's limit (runtime.DefaultLimits unless the Runtime was
	// configured otherwise).
	Limits runtime.Limits

	// Logger receives what the server does: renamed and refused tools
	// (warn, error), failed calls (info), every call (debug) and the tail of
	// each call's guest stderr (info).
	// If nil, defaults to discarding everything.
	Logger *slog.Logger

	// StderrLog is how many bytes of a call's guest stderr, from the end, are
	// written to Logger. If zero, defaults to DefaultStderrLog; a negative
	// value logs none.
	StderrLog int

	// Configure, if not nil, is called once for each tool Add registers and
	// says how its calls run: what they may use beyond the bare sandbox and
	// their limits (an operator's policy, for instance).
	// If nil, nothing is granted and every call runs under Limits.
	Configure func(Tool) ToolConfig

	// PollAfter, if positive, is how long a tools/call may hold the HTTP
	// stream that carries it: past it the server closes the stream with a
	// retry hint of the same length, and the client reconnects with
	// Last-Event-ID to get the result (SEP-1699 polling). The call goes on
	// meanwhile. It needs a streamable HTTP handler with an event store
	// and clients of protocol 2025-11-25 (earlier ones are not asked to
	// reconnect). If zero, streams stay open until the result.
	PollAfter time.Duration

	// ConfigureModule, if not nil, is called once for each module Add
	// serves and says how its resources/read, prompts/get and
	// completion/complete requests run. If nil, nothing is granted and
	// they run under Limits.
	ConfigureModule func(*runtime.Module) ToolConfig

	// OnRequest, if not nil, is called after each resources/read,
	// prompts/get or completion/complete that ran a guest, as OnCall is
	// for tool calls.
	OnRequest func(ctx context.Context, session string, r Request, out *runtime.Outcome)

	// OnCall, if not nil, is called after each call that ran a guest, with
	// the ID of the client's session ("" on transports without one) and
	// what the call did: for an audit log, for instance. It runs before
	// the call is logged and its result sent, so it should be quick.
	OnCall func(ctx context.Context, session string, t Tool, out *runtime.Outcome)
}

// ToolConfig is how the calls of one tool run.
type ToolConfig struct {
	// Grant is what the calls may use beyond the bare sandbox; nil grants
	// nothing.
	Grant *runtime.Grant
	// Limits is the ceiling of the calls' limits; zero fields take
	// Options.Limits.
	Limits runtime.Limits
}

// DefaultStderrLog is the default for Options.StderrLog.
const DefaultStderrLog = 4 << 10

// MaxToolName is the longest tool name served: MCP clients expect 1 to 128
// characters.
const MaxToolName = 128

// Tool is a tool Add registered.
type Tool struct {
	// Name is the name clients call the tool by: the name in the manifest,
	// or "<module>_<tool>" when several modules declare that name.
	Name string
	// Module is the module that runs it.
	Module *runtime.Module
	// Manifest is the tool's entry in the module's manifest.
	Manifest *abi.Tool
}

// Registry is what is served on one server: the modules, their tools,
// resources and prompts, the warnings about renamed items, and the calls in
// flight (see CancelOnDisconnect). Add creates it; its Add, Remove, Replace
// and Withdraw change what is served while clients are connected.
type Registry struct {
	server *mcp.Server
	// change serializes Add, Remove, Replace and Withdraw.
	change sync.Mutex
	// mu guards st, which a change replaces while requests are served.
	mu        sync.RWMutex
	st        *snapshot
	logger    *slog.Logger
	opts      Options
	stderrLog int
	calls     *tracker
	running   runningCalls
	inflight  moduleCalls
	sealer    *sealer
}

// current is the state served now.
func (r *Registry) current() *snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.st
}

// Tools lists the tools served, module by module in the order the modules
// were given, each module's tools in manifest order.
func (r *Registry) Tools() []Tool {
	st := r.current()
	out := make([]Tool, len(st.tools))
	for i, t := range st.tools {
		out[i] = t.info
	}
	return out
}

// Modules lists the modules served (those not refused, removed or
// withdrawn), in the order given.
func (r *Registry) Modules() []*runtime.Module {
	return slices.Clone(r.current().modules)
}

// Warnings lists what is served differently from its manifest: each tool
// or prompt name declared by several modules and the names it is served
// under.
func (r *Registry) Warnings() []string { return slices.Clone(r.current().warnings) }

// Add registers every tool of mods on s, using mcp.Server.AddTool with
// wasmgate's own argument validation, output checks and limits. opts may be
// nil.
//
// Add serves everything it can. The Registry is never nil and says what is
// served; the error, when not nil, joins one error per module refused or
// tool skipped (see the package documentation for the naming rules). Both
// are also logged to opts.Logger.
func Add(s *mcp.Server, mods []*runtime.Module, opts *Options) (*Registry, error) {
	if s == nil {
		panic("server.Add: nil *mcp.Server")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StderrLog == 0 {
		o.StderrLog = DefaultStderrLog
	}
	r := &Registry{server: s, logger: o.Logger, opts: o, stderrLog: o.StderrLog, calls: newTracker(), sealer: newSealer(), st: emptySnapshot()}
	return r, r.Add(mods...)
}

// New creates a server (mcp.NewServer with default options) and adds the
// tools of mods to it, as Add does. If impl is nil, it defaults to
// {Name: "wasmgate", Version: the wasmgate module's version}.
func New(impl *mcp.Implementation, mods []*runtime.Module, opts *Options) (*mcp.Server, *Registry, error) {
	if impl == nil {
		impl = &mcp.Implementation{Name: "wasmgate", Version: moduleVersion()}
	}
	var r *Registry
	s := mcp.NewServer(impl, &mcp.ServerOptions{
		CompletionHandler: func(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return r.Complete(ctx, req)
		},
		SubscribeHandler: func(ctx context.Context, req *mcp.SubscribeRequest) error {
			return r.Subscribe(ctx, req)
		},
		UnsubscribeHandler: func(ctx context.Context, req *mcp.UnsubscribeRequest) error {
			return r.Unsubscribe(ctx, req)
		},
	})
	r, err := Add(s, mods, opts)
	return s, r, err
}

// moduleVersion is wasmgate's version as recorded in the build, or "dev".
func moduleVersion() string {
	const path = "github.com/wasmgate/wasmgate"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := ""
	if bi.Main.Path == path {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			v = d.Version
		}
	}
	if v == "" || v == "(devel)" {
		return "dev"
	}
	return v
}

// tool is one served tool with everything its calls need, prepared once.
type tool struct {
	reg    *Registry
	info   Tool
	name   string // served name
	mod    *runtime.Module
	man    *abi.Tool
	limits runtime.Limits
	grant  *runtime.Grant
	in     *abi.InputSchema
	out    *jsonschema.Resolved
	def    *mcp.Tool
}

// newTool resolves the tool's schemas and builds its MCP definition.
func (r *Registry) newTool(e entry) (*tool, error) {
	t := &tool{reg: r, info: Tool{Name: e.name, Module: e.mod, Manifest: e.item}, name: e.name, mod: e.mod, man: e.item, limits: r.opts.Limits}
	if r.opts.Configure != nil {
		cfg := r.opts.Configure(t.info)
		t.grant, t.limits = cfg.Grant, cfg.Limits.Or(r.opts.Limits)
	}
	var err error
	if t.in, err = abi.NewInputSchema(e.item.InputSchema); err != nil {
		return nil, fmt.Errorf("inputSchema: %w", err)
	}
	if len(e.item.OutputSchema) > 0 {
		var s jsonschema.Schema
		if err := json.Unmarshal(e.item.OutputSchema, &s); err != nil {
			return nil, fmt.Errorf("outputSchema: %w", err)
		}
		if t.out, err = s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true}); err != nil {
			return nil, fmt.Errorf("outputSchema: %w", err)
		}
	}
	t.def = mcpTool(e.name, e.mod, e.item)
	t.def.Annotations = r.annotations(t)
	return t, nil
}

// annotations makes a tool's hints agree with its grant, so a client never
// sees a safety claim the sandbox does not back: each granted capability
// says whether it reaches the open world (the network does) and what it
// lets the tool change (a writable mount, key-value storage). A manifest
// claim that says otherwise is overridden, with a warning.
func (r *Registry) annotations(t *tool) *mcp.ToolAnnotations {
	a := t.def.Annotations
	if a == nil {
		a = &mcp.ToolAnnotations{}
	}
	network, writes := capability.EffectsOf(t.grant)
	claims := t.man.Annotations
	if claims == nil {
		claims = &abi.ToolAnnotations{}
	}
	override := func(hint string, claimed, served bool, why string) {
		r.logger.Warn(fmt.Sprintf("tool %s (module %s): the manifest claims %s %t, but %s: serving %t", t.name, t.mod.Name(), hint, claimed, why, served))
	}
	if !network {
		if claims.OpenWorldHint != nil && *claims.OpenWorldHint {
			override("openWorldHint", true, false, "it has no network grant")
		}
		a.OpenWorldHint = ptr(false)
	}
	if len(writes) > 0 {
		if claims.ReadOnlyHint != nil && *claims.ReadOnlyHint {
			override("readOnlyHint", true, false, "it is granted "+strings.Join(writes, " and "))
		}
		a.ReadOnlyHint = false
	} else {
		a.ReadOnlyHint = true
		a.DestructiveHint = nil // meaningful only for tools that write
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// addTool registers t on s, turning the SDK's panics on a schema it does
// not accept into an error.
func addTool(s *mcp.Server, t *tool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the MCP SDK refused it: %v", p)
		}
	}()
	s.AddTool(t.def, t.handle)
	return nil
}

// mcpTool maps a manifest tool to its MCP definition.
func mcpTool(name string, m *runtime.Module, t *abi.Tool) *mcp.Tool {
	def := &mcp.Tool{
		Name:        name,
		Title:       t.Title,
		Description: t.Description,
		InputSchema: objectSchema(t.InputSchema),
		Meta:        mcp.Meta{"wasmgate/module": m.Name(), "wasmgate/tool": t.Name},
	}
	if len(t.OutputSchema) > 0 {
		def.OutputSchema = t.OutputSchema
	}
	if a := t.Annotations; a != nil {
		def.Annotations = &mcp.ToolAnnotations{
			Title:           a.Title,
			DestructiveHint: a.DestructiveHint,
			OpenWorldHint:   a.OpenWorldHint,
			ReadOnlyHint:    a.ReadOnlyHint != nil && *a.ReadOnlyHint,
			IdempotentHint:  a.IdempotentHint != nil && *a.IdempotentHint,
		}
	}
	for _, ic := range t.Icons {
		def.Icons = append(def.Icons, mcp.Icon{Source: ic.Src, MIMEType: ic.MIMEType, Sizes: ic.Sizes, Theme: mcp.IconTheme(ic.Theme)})
	}
	return def
}

// objectSchema returns the input schema as the SDK wants it: a manifest may
// write "type": ["object"], which the SDK rejects, so that becomes
// "type": "object".
func objectSchema(raw json.RawMessage) any {
	var probe struct {
		Type json.RawMessage `json:"type"`
	}
	if json.Unmarshal(raw, &probe) != nil || bytes.HasPrefix(bytes.TrimSpace(probe.Type), []byte(`"`)) {
		return raw
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	m["type"] = "object"
	return m
}

// entry is one tool to register under name.
type entry = named[abi.Tool]

type plan struct {
	modules  []*runtime.Module
	entries  []entry
	warnings []string
	errs     []error
}

// planNames applies the naming rules of the package documentation.
func planNames(mods []*runtime.Module) plan {
	var p plan
	byName := map[string]*runtime.Module{}
	for i, m := range mods {
		if m == nil {
			p.errs = append(p.errs, fmt.Errorf("module %d of %d is nil", i+1, len(mods)))
			continue
		}
		if first, dup := byName[m.Name()]; dup {
			p.errs = append(p.errs, fmt.Errorf("module %s (%s) refused: module %s (%s) has the same name; module names must be unique, rename one in its manifest", m.Name(), m.Path(), first.Name(), first.Path()))
			continue
		}
		byName[m.Name()] = m
		p.modules = append(p.modules, m)
	}
	var errs []error
	p.entries, p.warnings, errs = nameAll(p.modules, "tool",
		func(m *abi.Manifest) []abi.Tool { return m.Tools },
		func(t *abi.Tool) string { return t.Name })
	p.errs = append(p.errs, errs...)
	return p
}

// named is an item of a module's manifest (a tool, a prompt) and the name
// it is served under.
type named[T any] struct {
	name string
	mod  *runtime.Module
	item *T
}

// nameAll applies the naming rules of the package documentation to one
// kind of item: a name several modules declare is served as
// "<module>_<name>" for each of them (with a warning), and an item whose
// prefixed name is still taken, or too long, is skipped (with an error).
func nameAll[T any](mods []*runtime.Module, kind string, items func(*abi.Manifest) []T, nameOf func(*T) string) (out []named[T], warnings []string, errs []error) {
	declarers := map[string][]string{} // name -> module names
	for _, m := range mods {
		for i := range items(m.Manifest()) {
			n := nameOf(&items(m.Manifest())[i])
			declarers[n] = append(declarers[n], m.Name())
		}
	}
	warned := map[string]bool{}
	for _, m := range mods {
		list := items(m.Manifest())
		for i := range list {
			it := &list[i]
			own := nameOf(it)
			name := own
			if ds := declarers[own]; len(ds) > 1 {
				name = m.Name() + "_" + own
				if !warned[own] {
					warned[own] = true
					sorted := slices.Sorted(slices.Values(ds))
					served := make([]string, len(sorted))
					for k, mn := range sorted {
						served[k] = mn + "_" + own
					}
					warnings = append(warnings, fmt.Sprintf("%s name %q is declared by modules %s: serving them as %s", kind, own, strings.Join(sorted, ", "), strings.Join(served, ", ")))
				}
			}
			out = append(out, named[T]{name: name, mod: m, item: it})
		}
	}

	// A prefixed name may still be taken; such items are skipped.
	taken := map[string][]int{}
	for i, e := range out {
		taken[e.name] = append(taken[e.name], i)
	}
	kept := out[:0:0]
	for i, e := range out {
		own := nameOf(e.item)
		if len(e.name) > MaxToolName {
			errs = append(errs, fmt.Errorf("%s %s of module %s (%s) skipped: its prefixed name %q is longer than %d characters; rename the %s or the module", kind, own, e.mod.Name(), e.mod.Path(), e.name, MaxToolName, kind))
			continue
		}
		if e.name != own && len(taken[e.name]) > 1 {
			for _, j := range taken[e.name] {
				if j != i {
					o := out[j]
					errs = append(errs, fmt.Errorf("%s %s of module %s (%s) skipped: its prefixed name %q is also the name of %s %s of module %s (%s)", kind, own, e.mod.Name(), e.mod.Path(), e.name, kind, nameOf(o.item), o.mod.Name(), o.mod.Path()))
					break
				}
			}
			continue
		}
		kept = append(kept, e)
	}
	return kept, warnings, errs
}

// errorResult is a tool error with one text item.
func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}
