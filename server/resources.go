package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/yosida95/uritemplate/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// Request is a resources/read, prompts/get or completion/complete that a
// module served, as reported to Options.OnRequest.
type Request struct {
	// Method is the MCP method: abi.MethodResourcesRead,
	// abi.MethodPromptsGet or abi.MethodCompletionComp.
	Method string
	// Name is the resource URI read, the prompt's name in the manifest, or
	// what was completed ("prompt NAME argument ARG" or "template
	// URITEMPLATE argument ARG").
	Name string
	// Module is the module that served it.
	Module *runtime.Module
}

// served is one module's resources, templates and prompts, with how their
// requests run.
type served struct {
	reg    *Registry
	mod    *runtime.Module
	grant  *runtime.Grant
	limits runtime.Limits
}

// template is a resource template and the module that serves it.
type template struct {
	srv *served
	man *abi.ResourceTemplate
	tpl *uritemplate.Template
}

// prompt is a served prompt: name is what clients ask for.
type prompt struct {
	srv  *served
	name string
	man  *abi.Prompt
}

// buildResources computes the resources, resource templates and prompts
// of next's modules, reusing prev's where nothing changed.
func (r *Registry) buildResources(prev, next *snapshot) []error {
	var errs []error
	for _, m := range next.modules {
		if sv := prev.served[m]; sv != nil {
			next.served[m] = sv
			continue
		}
		sv := &served{reg: r, mod: m, limits: r.opts.Limits}
		if r.opts.ConfigureModule != nil {
			cfg := r.opts.ConfigureModule(m)
			sv.grant, sv.limits = cfg.Grant, cfg.Limits.Or(r.opts.Limits)
		}
		next.served[m] = sv
	}

	// A URI or URI template names one thing for every client: when several
	// modules declare it, none of them serves it.
	uriOwners := map[string][]*runtime.Module{}
	tplOwners := map[string][]*runtime.Module{}
	for _, m := range next.modules {
		for _, res := range m.Manifest().Resources {
			uriOwners[res.URI] = append(uriOwners[res.URI], m)
		}
		for _, t := range m.Manifest().ResourceTemplates {
			tplOwners[t.URITemplate] = append(tplOwners[t.URITemplate], m)
		}
	}
	clash := func(kind, name string, owners []*runtime.Module) error {
		names := make([]string, len(owners))
		for i, m := range owners {
			names[i] = fmt.Sprintf("%s (%s)", m.Name(), m.Path())
		}
		return fmt.Errorf("%s %s skipped: it is declared by modules %s, and a %s cannot be renamed; serve only one of them", kind, name, strings.Join(names, ", "), kind)
	}
	for _, name := range slices.Sorted(maps.Keys(uriOwners)) {
		if owners := uriOwners[name]; len(owners) > 1 {
			errs = append(errs, clash("resource", name, owners))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tplOwners)) {
		if owners := tplOwners[name]; len(owners) > 1 {
			errs = append(errs, clash("resource template", name, owners))
		}
	}

	prevTemplates := map[string]*template{}
	for _, t := range prev.templates {
		prevTemplates[t.man.URITemplate] = t
	}
	for _, m := range next.modules {
		sv := next.served[m]
		man := m.Manifest()
		for i := range man.Resources {
			res := &man.Resources[i]
			if len(uriOwners[res.URI]) > 1 {
				continue
			}
			if old := prev.resources[res.URI]; old != nil && old.srv == sv && old.man == res {
				next.resources[res.URI] = old
				continue
			}
			next.resources[res.URI] = &resource{srv: sv, man: res}
		}
		for i := range man.ResourceTemplates {
			t := &man.ResourceTemplates[i]
			if len(tplOwners[t.URITemplate]) > 1 {
				continue
			}
			if old := prevTemplates[t.URITemplate]; old != nil && old.srv == sv && old.man == t {
				next.templates = append(next.templates, old)
				continue
			}
			tpl, err := uritemplate.New(t.URITemplate)
			if err != nil { // the manifest check makes this unreachable
				errs = append(errs, fmt.Errorf("resource template %s of module %s skipped: %w", t.URITemplate, m.Name(), err))
				continue
			}
			next.templates = append(next.templates, &template{srv: sv, man: t, tpl: tpl})
		}
	}

	names, warnings, perrs := nameAll(next.modules, "prompt",
		func(m *abi.Manifest) []abi.Prompt { return m.Prompts },
		func(p *abi.Prompt) string { return p.Name })
	next.warnings = append(next.warnings, warnings...)
	errs = append(errs, perrs...)
	for _, e := range names {
		p := prev.prompts[e.name]
		if p == nil || p.srv != next.served[e.mod] || p.man != e.item {
			p = &prompt{srv: next.served[e.mod], name: e.name, man: e.item}
		}
		next.prompts[e.name] = p
		if next.byModule[e.mod] == nil {
			next.byModule[e.mod] = map[string]*prompt{}
		}
		next.byModule[e.mod][e.item.Name] = p
	}
	return errs
}

// def is the prompt's MCP definition.
func (p *prompt) def() *mcp.Prompt {
	m := p.srv.mod
	def := &mcp.Prompt{
		Name: p.name, Title: p.man.Title, Description: p.man.Description,
		Icons: icons(p.man.Icons),
		Meta:  mcp.Meta{"wasmgate/module": m.Name(), "wasmgate/prompt": p.man.Name},
	}
	for _, a := range p.man.Arguments {
		def.Arguments = append(def.Arguments, &mcp.PromptArgument{Name: a.Name, Title: a.Title, Description: a.Description, Required: a.Required})
	}
	return def
}

func icons(in []abi.Icon) []mcp.Icon {
	var out []mcp.Icon
	for _, ic := range in {
		out = append(out, mcp.Icon{Source: ic.Src, MIMEType: ic.MIMEType, Sizes: ic.Sizes, Theme: mcp.IconTheme(ic.Theme)})
	}
	return out
}

// call runs one request on the module: run makes the runtime call. It
// returns the outcome of a guest that answered, an input-required result's
// questions and state when the guest asked its client on protocol
// 2026-07-28, or a JSON-RPC error.
func (sv *served) call(ctx context.Context, session *mcp.ServerSession, pr peer, extra *mcp.RequestExtra, meta mcp.Meta, method, name string, bind any, reqState string, responses mcp.InputResponseMap, run func(context.Context, runtime.Call) (*runtime.Outcome, error)) (out *runtime.Outcome, ir *inputRequired, err error) {
	defer func() {
		if p := recover(); p != nil {
			sv.reg.logPanic(p, sv.mod.Name(), name)
			out, ir, err = nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("module %s: internal error in wasmgate: %v (please report this bug)", sv.mod.Name(), p)}
		}
	}()
	ask, err := sv.reg.newAsker(session, pr, bindFor(pr, method, name, bind), reqState, responses)
	if err != nil {
		return nil, nil, err
	}
	ctx, release := sv.reg.calls.track(ctx, extra)
	defer release()
	if session != nil {
		defer sv.reg.running.start(session.ID())()
	}
	ev := newEvents(ctx, sv.reg.server, session, progressToken(meta), sv.mod.Name())
	out, err = run(ctx, runtime.Call{Meta: meta, Limits: sv.limits, Events: ask.events(ev), Grant: sv.grant, Client: ask, ClientInfo: pr.info()})
	dropped := ev.finish()
	if err != nil {
		return nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	if sv.reg.opts.OnRequest != nil {
		id := ""
		if session != nil {
			id = session.ID()
		}
		sv.reg.opts.OnRequest(ctx, id, Request{Method: method, Name: name, Module: sv.mod}, out)
	}
	sv.reg.logRequest(sv.mod, method, name, out, dropped)
	switch {
	case out.GuestError != nil:
		return nil, nil, &jsonrpc.Error{Code: out.GuestError.Code, Message: out.GuestError.Message}
	case out.Err != nil && out.Err.Kind == runtime.KindInputRequired && ask.replay != nil:
		ir, err := ask.replay.inputRequired()
		if je := (*jsonrpc.Error)(nil); errors.As(err, &je) {
			return nil, nil, je
		}
		if err != nil {
			return nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("module %s: %v", sv.mod.Name(), err)}
		}
		return nil, ir, nil
	case out.Err != nil:
		return nil, nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: out.Err.Error()}
	}
	return out, nil, nil
}

func progressToken(meta mcp.Meta) any {
	if meta == nil {
		return nil
	}
	return meta["progressToken"]
}

func (res *resource) read(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	leave, ok := res.srv.reg.enter(res.srv.mod)
	if !ok {
		if now := res.srv.reg.current().resources[res.man.URI]; now != nil && now != res {
			return now.read(ctx, req)
		}
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: goneMessage(res.srv.mod, "resource "+res.man.URI)}
	}
	defer leave()
	return res.srv.read(ctx, req, nil)
}

func (t *template) read(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	leave, ok := t.srv.reg.enter(t.srv.mod)
	if !ok {
		for _, now := range t.srv.reg.current().templates {
			if now.man.URITemplate == t.man.URITemplate && now != t {
				return now.read(ctx, req)
			}
		}
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: goneMessage(t.srv.mod, "resource template "+t.man.URITemplate)}
	}
	defer leave()
	// The module's own matching decides which of its templates the URI is
	// read as, as `wasmgate call --resource` does.
	match, ok := t.srv.mod.MatchResource(req.Params.URI)
	if !ok || match == nil {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	return t.srv.read(ctx, req, match)
}

func (sv *served) read(ctx context.Context, req *mcp.ReadResourceRequest, match *abi.TemplateMatch) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	out, ir, err := sv.call(ctx, req.Session, peerOf(req), req.Extra, req.Params.Meta, abi.MethodResourcesRead, uri, nil, req.Params.RequestState, req.Params.InputResponses, func(ctx context.Context, c runtime.Call) (*runtime.Outcome, error) {
		return sv.mod.ReadResource(ctx, uri, match, c)
	})
	switch {
	case err != nil:
		return nil, err
	case ir != nil:
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{}, InputRequests: ir.requests, RequestState: ir.state}, nil
	}
	return ReadResourceResult(out.Resource), nil
}

func (p *prompt) get(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	leave, ok := p.srv.reg.enter(p.srv.mod)
	if !ok {
		if now := p.srv.reg.current().prompts[p.name]; now != nil && now != p {
			return now.get(ctx, req)
		}
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: goneMessage(p.srv.mod, "prompt "+p.name)}
	}
	defer leave()
	out, ir, err := p.srv.call(ctx, req.Session, peerOf(req), req.Extra, req.Params.Meta, abi.MethodPromptsGet, p.man.Name, req.Params.Arguments, req.Params.RequestState, req.Params.InputResponses, func(ctx context.Context, c runtime.Call) (*runtime.Outcome, error) {
		return p.srv.mod.GetPrompt(ctx, p.man.Name, req.Params.Arguments, c)
	})
	switch {
	case err != nil:
		return nil, err
	case ir != nil:
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{}, InputRequests: ir.requests, RequestState: ir.state}, nil
	}
	return GetPromptResult(out.Prompt), nil
}

// Complete answers completion/complete by asking the module that serves
// the prompt or resource template referred to, when its manifest declares
// completions; otherwise the completion is empty. New sets it as the
// server's CompletionHandler; a program that uses Add sets it itself.
func (r *Registry) Complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	empty := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}
	if req.Params == nil || req.Params.Ref == nil || req.Params.Argument.Name == "" {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "completion/complete needs a ref and an argument name"}
	}
	ref := req.Params.Ref
	var sv *served
	p := abi.CompleteParams{Argument: abi.CompleteArgument{Name: req.Params.Argument.Name, Value: req.Params.Argument.Value}}
	if req.Params.Context != nil && len(req.Params.Context.Arguments) > 0 {
		p.Context = &abi.CompleteContext{Arguments: req.Params.Context.Arguments}
	}
	var what string
	st := r.current()
	switch ref.Type {
	case "ref/prompt":
		pr, ok := st.prompts[ref.Name]
		if !ok {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("no prompt %q to complete", ref.Name)}
		}
		if !slices.ContainsFunc(pr.man.Arguments, func(a abi.PromptArgument) bool { return a.Name == p.Argument.Name }) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("prompt %q has no argument %q", ref.Name, p.Argument.Name)}
		}
		sv, what = pr.srv, "prompt "+pr.man.Name+" argument "+p.Argument.Name
		p.Ref = abi.CompleteRef{Type: ref.Type, Name: pr.man.Name}
	case "ref/resource":
		i := slices.IndexFunc(st.templates, func(t *template) bool { return t.man.URITemplate == ref.URI })
		if i < 0 {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("no resource template %q to complete", ref.URI)}
		}
		if !slices.Contains(st.templates[i].tpl.Varnames(), p.Argument.Name) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("resource template %q has no variable %q", ref.URI, p.Argument.Name)}
		}
		sv, what = st.templates[i].srv, "template "+ref.URI+" argument "+p.Argument.Name
		p.Ref = abi.CompleteRef{Type: ref.Type, URI: ref.URI}
	default:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown completion ref type %q: use ref/prompt or ref/resource", ref.Type)}
	}
	if !sv.mod.Manifest().Completions {
		return empty, nil
	}
	leave, ok := r.enter(sv.mod)
	if !ok {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: goneMessage(sv.mod, "completion of "+what)}
	}
	defer leave()
	out, ir, err := sv.call(ctx, req.Session, peerOf(req), req.Extra, req.Params.Meta, abi.MethodCompletionComp, what, p, "", nil, func(ctx context.Context, c runtime.Call) (*runtime.Outcome, error) {
		return sv.mod.Complete(ctx, p, c)
	})
	switch {
	case err != nil:
		return nil, err
	case ir != nil:
		// completion/complete cannot carry an input-required result.
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("module %s asked its client a question while completing %s; a completion cannot wait for answers", sv.mod.Name(), what)}
	}
	return CompleteResult(out.Completion), nil
}

// Subscribe accepts a subscription to a resource a module serves, fixed
// or matching a template; the SDK keeps track of it, and a guest's
// resource_updated reaches the subscribers. New sets it as the server's
// SubscribeHandler.
func (r *Registry) Subscribe(_ context.Context, req *mcp.SubscribeRequest) error {
	if req.Params == nil || !r.knows(req.Params.URI) {
		uri := ""
		if req.Params != nil {
			uri = req.Params.URI
		}
		return mcp.ResourceNotFoundError(uri)
	}
	return nil
}

// Unsubscribe ends a subscription. New sets it as the server's
// UnsubscribeHandler.
func (r *Registry) Unsubscribe(context.Context, *mcp.UnsubscribeRequest) error { return nil }

// knows reports whether uri is a resource some module serves.
func (r *Registry) knows(uri string) bool {
	st := r.current()
	if _, ok := st.resources[uri]; ok {
		return true
	}
	return slices.ContainsFunc(st.templates, func(t *template) bool { return t.tpl.Match(uri) != nil })
}

// Resource is a resource or resource template a module serves.
type Resource struct {
	// URI is the resource's URI, or the template's RFC 6570 URI template.
	URI      string
	Template bool
	Module   *runtime.Module
}

// Prompt is a prompt a module serves.
type Prompt struct {
	// Name is what clients ask for: the manifest's name, or
	// "<module>_<prompt>" when several modules declare it.
	Name     string
	Module   *runtime.Module
	Manifest *abi.Prompt
}

// Resources lists the resources and resource templates served, module by
// module in the order the modules were given.
func (r *Registry) Resources() []Resource {
	var out []Resource
	st := r.current()
	for _, m := range st.modules {
		for _, res := range m.Manifest().Resources {
			if sv, ok := st.resources[res.URI]; ok && sv.srv.mod == m {
				out = append(out, Resource{URI: res.URI, Module: m})
			}
		}
		for _, t := range st.templates {
			if t.srv.mod == m {
				out = append(out, Resource{URI: t.man.URITemplate, Template: true, Module: m})
			}
		}
	}
	return out
}

// Prompts lists the prompts served, module by module in the order the
// modules were given.
func (r *Registry) Prompts() []Prompt {
	var out []Prompt
	st := r.current()
	for _, m := range st.modules {
		for _, pr := range m.Manifest().Prompts {
			if p, ok := st.byModule[m][pr.Name]; ok {
				out = append(out, Prompt{Name: p.name, Module: m, Manifest: p.man})
			}
		}
	}
	return out
}
