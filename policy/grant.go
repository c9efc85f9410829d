package policy

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Options are how a policy is turned into grants.
type Options struct {
	// Flags are grants from the command line (--allow-net, --mount, --env,
	// --allow-private-net). They apply to every module, in addition to the
	// policy file's entry for it.
	Flags *Module
	// ResolveSecret turns a policy reference (env:NAME, file:PATH) into the
	// secret's value. If nil, secrets cannot be granted.
	ResolveSecret func(ref string) (string, error)
}

// ModuleGrants is what one module is granted, per tool.
type ModuleGrants struct {
	// Limits is the operator's ceiling for the module's calls.
	Limits runtime.Limits
	// Tools maps each tool name to its grant.
	Tools map[string]*runtime.Grant
	// Module is the grant of the module's resources, prompts and
	// completions: the module's entry without any per-tool narrowing.
	Module *runtime.Grant
	// Report lists requested against granted, for inspect and serve.
	Report []Line
	// Warnings are grants the operator gave that the module did not ask
	// for, and so are not given.
	Warnings []string
}

// Line is one capability's requested and granted values.
type Line = capability.Line

// Grants computes the grants of a module: for every capability, the
// narrower of what the manifest asks for and what the operator allows.
// p may be nil (no policy file).
func (p *Policy) Grants(man *abi.Manifest, opts *Options) (*ModuleGrants, error) {
	if opts == nil {
		opts = &Options{}
	}
	var spec *Module
	var defaults Limits
	if p != nil {
		spec = p.Modules[man.Name]
		defaults = p.Defaults.Limits
	}
	spec = union(spec, opts.Flags)
	out := &ModuleGrants{Tools: map[string]*runtime.Grant{}}
	out.Limits = spec.Limits.runtime().Or(defaults.runtime())

	reqs, err := requests(man)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", man.Name, err)
	}
	base, err := grantFor(man, reqs, spec.offers, opts, &out.Warnings)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", man.Name, err)
	}
	out.Report = report(reqs, base)
	out.Module = base
	for _, t := range man.Tools {
		g := base
		if ts := spec.Tools[t.Name]; ts != nil {
			narrowed, err := grantFor(man, reqs, narrow(spec.offers, ts.offers), opts, nil)
			if err != nil {
				return nil, fmt.Errorf("module %s tool %s: %w", man.Name, t.Name, err)
			}
			g = narrowed
		}
		out.Tools[t.Name] = g
	}
	return out, nil
}

// requests decodes what a manifest asks for, by capability name: each
// capability reads its own keys of the manifest's permissions.
func requests(man *abi.Manifest) (map[string]any, error) {
	raw := man.Permissions.Raw()
	out := map[string]any{}
	for _, c := range capability.Registered() {
		sub := map[string]json.RawMessage{}
		for _, k := range c.Keys() {
			if r, ok := raw[k]; ok {
				sub[k] = r
			}
		}
		if len(sub) == 0 {
			continue
		}
		r, err := c.Request(sub)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out[c.Name()] = r
		}
	}
	return out, nil
}

// grantFor intersects a manifest's requests with an operator's offers,
// capability by capability.
func grantFor(man *abi.Manifest, reqs, offers map[string]any, opts *Options, warnings *[]string) (*runtime.Grant, error) {
	ctx := &capability.Context{
		Module: man.Name,
		Warn: func(format string, a ...any) {
			if warnings != nil {
				*warnings = append(*warnings, fmt.Sprintf(format, a...))
			}
		},
		ResolveSecret: opts.ResolveSecret,
	}
	var gs []runtime.CapabilityGrant
	for _, c := range capability.Registered() {
		r, o := reqs[c.Name()], offers[c.Name()]
		if r == nil && o == nil {
			continue
		}
		g, err := c.Grant(r, o, ctx)
		if err != nil {
			return nil, err
		}
		if g != nil {
			gs = append(gs, g)
		}
	}
	return runtime.NewGrant(gs...), nil
}

// union combines two operator specs (policy file and flags): each grants
// what either grants.
func union(a, b *Module) *Module {
	if a == nil {
		a = &Module{}
	}
	if b == nil {
		return a
	}
	out := *a
	out.offers = maps.Clone(a.offers)
	if out.offers == nil {
		out.offers = map[string]any{}
	}
	for name, bo := range b.offers {
		if ao, ok := out.offers[name]; ok {
			out.offers[name] = capability.Lookup(name).Union(ao, bo)
		} else {
			out.offers[name] = bo
		}
	}
	out.Limits = a.Limits
	if b.Limits != (Limits{}) {
		out.Limits = b.Limits
		if out.Limits.Memory == 0 {
			out.Limits.Memory = a.Limits.Memory
		}
		if out.Limits.Timeout == 0 {
			out.Limits.Timeout = a.Limits.Timeout
		}
		if out.Limits.ClientWait == 0 {
			out.Limits.ClientWait = a.Limits.ClientWait
		}
		if out.Limits.Output == 0 {
			out.Limits.Output = a.Limits.Output
		}
	}
	return &out
}

// narrow applies a tool's entry to its module's offers. A tool entry can
// only take away: each capability it names gets what both allow; the
// others keep the module's.
func narrow(module, tool map[string]any) map[string]any {
	out := maps.Clone(module)
	if out == nil {
		out = map[string]any{}
	}
	for name, to := range tool {
		if o := capability.Lookup(name).Narrow(module[name], to); o != nil {
			out[name] = o
		} else {
			delete(out, name)
		}
	}
	return out
}

// Requests lists what a manifest asks for, one line per capability, as
// the Requested column of a report (Granted is "-").
func Requests(man *abi.Manifest) []Line {
	reqs, _ := requests(man)
	return report(reqs, nil)
}

// report lists, per capability the manifest asks for or the grant gives,
// what was requested and what is granted.
func report(reqs map[string]any, g *runtime.Grant) []Line {
	var lines []Line
	for _, c := range capability.Registered() {
		r, gr := reqs[c.Name()], g.Get(c.Name())
		if r == nil && gr == nil {
			continue
		}
		for _, l := range c.Report(r, gr) {
			if l.Requested != "-" || l.Granted != "-" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}
