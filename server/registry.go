package server

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// snapshot is what a Registry serves at one moment. A change builds a new
// state and publishes it whole; a published state is never modified, so a
// request reads one consistent state without holding a lock.
type snapshot struct {
	modules   []*runtime.Module
	tools     []*tool // module by module, each module's in manifest order
	toolNamed map[string]*tool
	served    map[*runtime.Module]*served
	resources map[string]*resource // fixed resources by URI
	templates []*template
	prompts   map[string]*prompt                     // by served name
	byModule  map[*runtime.Module]map[string]*prompt // by manifest name
	warnings  []string
	// problems are the messages of what the modules declare and is not
	// served, so that a change reports only the problems it brings.
	problems []string
}

// resource is a fixed resource and the module that serves it.
type resource struct {
	srv *served
	man *abi.Resource
}

func emptySnapshot() *snapshot {
	return &snapshot{
		toolNamed: map[string]*tool{},
		served:    map[*runtime.Module]*served{},
		resources: map[string]*resource{},
		prompts:   map[string]*prompt{},
		byModule:  map[*runtime.Module]map[string]*prompt{},
	}
}

// Add serves mods as well as the modules served already, on a server that
// may have clients: every name follows the rules of the package
// documentation as if all the modules served had been given to Add at
// once, the new ones after the others. A tool already served whose name
// now collides is renamed "<module>_<tool>" (clients are told that the
// list changed); a module whose name is served already is refused (use
// Replace).
//
// Add serves everything it can; the error, when not nil, joins one error
// per module refused or item skipped that this change brought. Both are
// also logged to Options.Logger.
func (r *Registry) Add(mods ...*runtime.Module) error {
	r.change.Lock()
	defer r.change.Unlock()
	prev := r.current()
	var refused []error
	all := slices.Clone(prev.modules)
	for _, m := range mods {
		switch {
		case m != nil && slices.Contains(all, m):
			refused = append(refused, fmt.Errorf("module %s (%s) refused: it is served already", m.Name(), m.Path()))
		case m != nil && r.inflight.isRetired(m):
			refused = append(refused, fmt.Errorf("module %s (%s) refused: it was removed from this server; open it again to serve it again", m.Name(), m.Path()))
		default:
			all = append(all, m)
		}
	}
	for _, err := range refused {
		r.logger.Error(err.Error())
	}
	return errors.Join(append(refused, r.update(prev, all)...)...)
}

// Remove stops serving m, as Withdraw does, and then names the other
// modules' items as if m had never been served: a tool that was served as
// "<module>_<tool>" because m declared the same name gets its own name
// back. It reports false if m is not served.
//
// Calls of m already running finish; idle is closed when the last has
// ended, after which m may be closed. A request that reaches m after it was
// removed (it was on its way) is served by whatever serves the same name
// now, or else answered with an error saying that the module is no longer
// served.
func (r *Registry) Remove(m *runtime.Module) (idle <-chan struct{}, ok bool) {
	r.change.Lock()
	defer r.change.Unlock()
	prev := r.current()
	if m == nil || !slices.Contains(prev.modules, m) {
		return nil, false
	}
	r.update(prev, slices.DeleteFunc(slices.Clone(prev.modules), func(x *runtime.Module) bool { return x == m }))
	return r.inflight.retire(m), true
}

// Replace serves new in place of old, in old's place in the order of
// modules, and names every item as Add does. old must be served, and new's
// name must not be served by another module than old.
//
// What a client sees: every tool, resource, template or prompt that both
// old and new serve under the same name is swapped in place, never missing
// from a list or unknown to a call; the items only new serves are added
// before the items only old serves are removed, so a client that lists
// during the change sees both rather than neither; clients are then told
// that the lists changed. A call of old already running finishes on old,
// and one that reaches old after the swap runs on new. idle is closed when
// old's last call has ended, after which old may be closed.
//
// Replace serves everything of new it can; the error joins what it
// refused or skipped, as Add's does. If the error comes with a nil idle,
// nothing changed.
func (r *Registry) Replace(old, new *runtime.Module) (idle <-chan struct{}, err error) {
	r.change.Lock()
	defer r.change.Unlock()
	prev := r.current()
	i := slices.Index(prev.modules, old)
	switch {
	case old == nil || i < 0:
		return nil, fmt.Errorf("replace: module %s is not served", nameOf(old))
	case new == nil:
		return nil, fmt.Errorf("replace: no module to serve in place of %s", old.Name())
	case new == old:
		return nil, fmt.Errorf("replace: module %s (%s) is served already", new.Name(), new.Path())
	case slices.Contains(prev.modules, new):
		return nil, fmt.Errorf("replace: module %s (%s) is served already", new.Name(), new.Path())
	case r.inflight.isRetired(new):
		return nil, fmt.Errorf("replace: module %s (%s) was removed from this server; open it again to serve it again", new.Name(), new.Path())
	}
	for _, m := range prev.modules {
		if m != old && m.Name() == new.Name() {
			return nil, fmt.Errorf("replace: module %s (%s) refused: module %s (%s) has the same name; module names must be unique", new.Name(), new.Path(), m.Name(), m.Path())
		}
	}
	all := slices.Clone(prev.modules)
	all[i] = new
	errs := r.update(prev, all)
	return r.inflight.retire(old), errors.Join(errs...)
}

func nameOf(m *runtime.Module) string {
	if m == nil {
		return "<nil>"
	}
	return m.Name()
}

// Withdraw stops serving m: its tools, resources, resource templates and
// prompts are removed from the server, which tells clients that their
// lists changed. Calls already running finish. Names given to other
// modules' items when m's collided with them stay as they are, so that
// clients' names do not change under them (Remove renames them).
func (r *Registry) Withdraw(m *runtime.Module) {
	r.change.Lock()
	defer r.change.Unlock()
	prev := r.current()
	if m == nil || !slices.Contains(prev.modules, m) {
		return
	}
	r.apply(prev, prev.without(m))
	r.inflight.retire(m)
}

// update serves mods in place of what prev serves, and returns the problems
// this brought, which it also logs.
func (r *Registry) update(prev *snapshot, mods []*runtime.Module) []error {
	next, errs := r.build(prev, mods)
	errs = append(errs, r.apply(prev, next)...)
	for _, w := range next.warnings {
		if !slices.Contains(prev.warnings, w) {
			r.logger.Warn(w)
		}
	}
	var fresh []error
	next.problems = nil
	for _, err := range errs {
		msg := err.Error()
		next.problems = append(next.problems, msg)
		if !slices.Contains(prev.problems, msg) {
			fresh = append(fresh, err)
			r.logger.Error(msg)
		}
	}
	return fresh
}

// build computes what mods serve, reusing what prev serves unchanged: a
// tool, resource or prompt of the same module, item and name is the same
// object, and is left as it is on the server.
func (r *Registry) build(prev *snapshot, mods []*runtime.Module) (*snapshot, []error) {
	p := planNames(mods)
	next := emptySnapshot()
	next.modules, next.warnings = p.modules, p.warnings
	errs := p.errs
	for _, e := range p.entries {
		if old := prev.toolNamed[e.name]; old != nil && old.mod == e.mod && old.man == e.item {
			next.tools = append(next.tools, old)
			continue
		}
		t, err := r.newTool(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("tool %s of module %s (%s) skipped: %w", e.item.Name, e.mod.Name(), e.mod.Path(), err))
			continue
		}
		next.tools = append(next.tools, t)
	}
	errs = append(errs, r.buildResources(prev, next)...)
	return next, errs
}

// apply changes the server from serving prev to serving next, and
// publishes next: first what is new or changed is added (the go-sdk
// replaces an item of the same name in place), then next is published,
// then what next no longer serves is removed, and the modules it no longer
// serves are retired. It returns the items the go-sdk refused, which are
// dropped from next.
func (r *Registry) apply(prev, next *snapshot) []error {
	s := r.server
	var errs []error
	kept := next.tools[:0:0]
	for _, t := range next.tools {
		if prev.toolNamed[t.name] != t {
			if err := addTool(s, t); err != nil {
				errs = append(errs, fmt.Errorf("tool %s of module %s (%s) skipped: %w", t.man.Name, t.mod.Name(), t.mod.Path(), err))
				continue
			}
		}
		kept = append(kept, t)
	}
	next.tools = kept
	next.toolNamed = map[string]*tool{}
	for _, t := range kept {
		next.toolNamed[t.name] = t
	}
	for _, uri := range slices.Sorted(maps.Keys(next.resources)) {
		res := next.resources[uri]
		if prev.resources[uri] != res {
			m := res.srv.mod
			s.AddResource(&mcp.Resource{
				URI: res.man.URI, Name: res.man.Name, Title: res.man.Title, Description: res.man.Description,
				MIMEType: res.man.MIMEType, Size: res.man.Size, Icons: icons(res.man.Icons),
				Meta: mcp.Meta{"wasmgate/module": m.Name()},
			}, res.read)
		}
	}
	prevTemplates := map[string]*template{}
	for _, t := range prev.templates {
		prevTemplates[t.man.URITemplate] = t
	}
	nextTemplates := map[string]*template{}
	for _, t := range next.templates {
		nextTemplates[t.man.URITemplate] = t
		if prevTemplates[t.man.URITemplate] != t {
			s.AddResourceTemplate(&mcp.ResourceTemplate{
				URITemplate: t.man.URITemplate, Name: t.man.Name, Title: t.man.Title, Description: t.man.Description,
				MIMEType: t.man.MIMEType, Icons: icons(t.man.Icons),
				Meta: mcp.Meta{"wasmgate/module": t.srv.mod.Name()},
			}, t.read)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(next.prompts)) {
		p := next.prompts[name]
		if prev.prompts[name] != p {
			s.AddPrompt(p.def(), p.get)
		}
	}

	r.mu.Lock()
	r.st = next
	r.mu.Unlock()

	var tools, uris, templates, prompts []string
	for _, t := range prev.tools {
		if next.toolNamed[t.name] == nil {
			tools = append(tools, t.name)
		}
	}
	for uri := range prev.resources {
		if next.resources[uri] == nil {
			uris = append(uris, uri)
		}
	}
	for key := range prevTemplates {
		if nextTemplates[key] == nil {
			templates = append(templates, key)
		}
	}
	for name := range prev.prompts {
		if next.prompts[name] == nil {
			prompts = append(prompts, name)
		}
	}
	if len(tools) > 0 {
		s.RemoveTools(tools...)
	}
	if len(uris) > 0 {
		s.RemoveResources(uris...)
	}
	if len(templates) > 0 {
		s.RemoveResourceTemplates(templates...)
	}
	if len(prompts) > 0 {
		s.RemovePrompts(prompts...)
	}
	for _, m := range prev.modules {
		if !slices.Contains(next.modules, m) {
			r.inflight.retire(m)
		}
	}
	return errs
}

// without is st without m's items; the other items keep their names.
func (st *snapshot) without(m *runtime.Module) *snapshot {
	next := emptySnapshot()
	next.modules = slices.DeleteFunc(slices.Clone(st.modules), func(x *runtime.Module) bool { return x == m })
	for _, t := range st.tools {
		if t.mod != m {
			next.tools = append(next.tools, t)
			next.toolNamed[t.name] = t
		}
	}
	for k, sv := range st.served {
		if k != m {
			next.served[k] = sv
		}
	}
	for uri, res := range st.resources {
		if res.srv.mod != m {
			next.resources[uri] = res
		}
	}
	for _, t := range st.templates {
		if t.srv.mod != m {
			next.templates = append(next.templates, t)
		}
	}
	for name, p := range st.prompts {
		if p.srv.mod != m {
			next.prompts[name] = p
		}
	}
	for k, ps := range st.byModule {
		if k != m {
			next.byModule[k] = ps
		}
	}
	next.warnings, next.problems = st.warnings, st.problems
	return next
}

// moduleCalls counts the requests running on each module, so that a module
// removed from the server is closed only once they have ended.
type moduleCalls struct {
	mu      sync.Mutex
	running map[*runtime.Module]int
	retired map[*runtime.Module]chan struct{} // closed when idle
}

// enter counts a request of m, unless m is retired.
func (c *moduleCalls) enter(m *runtime.Module) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.retired[m]; gone {
		return false
	}
	if c.running == nil {
		c.running = map[*runtime.Module]int{}
	}
	c.running[m]++
	return true
}

func (c *moduleCalls) leave(m *runtime.Module) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running[m]--
	if c.running[m] > 0 {
		return
	}
	delete(c.running, m)
	if idle, ok := c.retired[m]; ok {
		select {
		case <-idle:
		default:
			close(idle)
		}
	}
}

// retire refuses m's new requests and returns a channel closed once its
// running ones have ended.
func (c *moduleCalls) retire(m *runtime.Module) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idle, ok := c.retired[m]; ok {
		return idle
	}
	if c.retired == nil {
		c.retired = map[*runtime.Module]chan struct{}{}
	}
	idle := make(chan struct{})
	c.retired[m] = idle
	if c.running[m] == 0 {
		close(idle)
	}
	return idle
}

func (c *moduleCalls) isRetired(m *runtime.Module) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.retired[m]
	return ok
}

// enter counts a request of m as running until leave is called. It
// reports false when m is no longer served: the request was on its way
// when m was removed, and the caller serves it with what serves the same
// name now, if anything.
func (r *Registry) enter(m *runtime.Module) (leave func(), ok bool) {
	if !r.inflight.enter(m) {
		return nil, false
	}
	return func() { r.inflight.leave(m) }, true
}

// goneMessage says that a request reached a module no longer served.
func goneMessage(m *runtime.Module, what string) string {
	return fmt.Sprintf("%s: module %s is no longer served (it was removed or replaced as the request arrived); list again to see what is served", what, m.Name())
}
