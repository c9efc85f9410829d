package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
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

// AnyHostRequested is how a report shows a manifest's request for
// abi.AnyHost.
const AnyHostRequested = "any host the operator grants"

// Line is one capability's requested and granted values.
type Line struct {
	Capability string
	Requested  string
	Granted    string
}

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

	base, err := grantFor(man, spec, opts, &out.Warnings)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", man.Name, err)
	}
	out.Report = report(man, base)
	out.Module = base
	for _, t := range man.Tools {
		g := base
		if ts := spec.Tools[t.Name]; ts != nil {
			narrowed, err := grantFor(man, narrow(spec, ts), opts, nil)
			if err != nil {
				return nil, fmt.Errorf("module %s tool %s: %w", man.Name, t.Name, err)
			}
			g = narrowed
		}
		out.Tools[t.Name] = g
	}
	return out, nil
}

// grantFor intersects a manifest's requests with an operator spec.
func grantFor(man *abi.Manifest, spec *Module, opts *Options, warnings *[]string) (*runtime.Grant, error) {
	g := &runtime.Grant{}
	warn := func(format string, a ...any) {
		if warnings != nil {
			*warnings = append(*warnings, fmt.Sprintf(format, a...))
		}
	}
	req := man.Permissions
	if spec.Network != nil {
		allowed, err := parsePatterns(spec.Network.Allow)
		if err != nil {
			return nil, err
		}
		var eff []string
		if req.WantsAnyHost() {
			// The module takes whatever the operator allows: the grant is
			// exactly the allow list, never more.
			for _, a := range allowed {
				if !slices.Contains(eff, a.String()) {
					eff = append(eff, a.String())
				}
			}
		} else {
			requested, err := parsePatterns(req.Network)
			if err != nil {
				return nil, err
			}
			for _, r := range requested {
				for _, a := range allowed {
					if x, ok := r.Intersect(a); ok && !slices.Contains(eff, x.String()) {
						eff = append(eff, x.String())
					}
				}
			}
		}
		if len(eff) > 0 {
			g.Network = &runtime.NetworkGrant{Allow: eff, Private: spec.Network.Private}
		} else if len(spec.Network.Allow) > 0 {
			warn("network %s is granted but the module asks for %s: nothing granted", strings.Join(spec.Network.Allow, ", "), orNone(req.Network))
		}
	}
	for _, f := range spec.Files {
		i := slices.IndexFunc(req.Files, func(r abi.FileMount) bool { return r.Guest == f.Guest })
		if i < 0 {
			warn("mount %s at %s is granted but the module does not ask for %s: not mounted", f.Host, f.Guest, f.Guest)
			continue
		}
		g.Mounts = append(g.Mounts, runtime.Mount{HostPath: f.Host, GuestPath: f.Guest, Writable: f.Mode == "rw" && req.Files[i].Mode == "rw"})
	}
	for _, name := range sortedKeys(spec.Env) {
		if !slices.Contains(req.Env, name) {
			warn("env %s is granted but the module does not ask for it: not set", name)
			continue
		}
		if g.Env == nil {
			g.Env = map[string]string{}
		}
		g.Env[name] = spec.Env[name]
	}
	for _, name := range sortedKeys(spec.Secrets) {
		if !slices.Contains(req.Secrets, name) {
			warn("secret %s is granted but the module does not ask for it: not given", name)
			continue
		}
		if opts.ResolveSecret == nil {
			return nil, fmt.Errorf("secret %s: secrets are not available here", name)
		}
		v, err := opts.ResolveSecret(spec.Secrets[name])
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		if g.Secrets == nil {
			g.Secrets = map[string]string{}
		}
		g.Secrets[name] = v
	}
	if spec.KV != nil {
		if req.KV {
			q := abi.Size(spec.KV.Quota)
			if q == 0 {
				q = DefaultKVQuota
			}
			g.KV = &runtime.KVGrant{Quota: q}
		} else {
			warn("kv is granted but the module does not ask for it: not given")
		}
	}
	g.Sampling = spec.Sampling && req.Sampling
	g.Elicitation = spec.Elicitation && req.Elicitation
	g.Roots = spec.Roots && req.Roots
	return g, nil
}

func parsePatterns(ss []string) ([]abi.HostPattern, error) {
	out := make([]abi.HostPattern, 0, len(ss))
	for _, s := range ss {
		p, err := abi.ParseHostPattern(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
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
	if b.Network != nil {
		n := &Network{}
		if a.Network != nil {
			*n = *a.Network
			n.Allow = slices.Clone(a.Network.Allow)
		}
		n.Allow = append(n.Allow, b.Network.Allow...)
		n.Private = n.Private || b.Network.Private
		out.Network = n
	}
	out.Files = append(slices.Clone(a.Files), b.Files...)
	if len(b.Env) > 0 {
		out.Env = maps.Clone(a.Env)
		if out.Env == nil {
			out.Env = Env{}
		}
		maps.Copy(out.Env, b.Env)
	}
	if len(b.Secrets) > 0 {
		out.Secrets = maps.Clone(a.Secrets)
		if out.Secrets == nil {
			out.Secrets = map[string]string{}
		}
		maps.Copy(out.Secrets, b.Secrets)
	}
	if b.KV != nil && out.KV == nil {
		out.KV = b.KV
	}
	out.Sampling = a.Sampling || b.Sampling
	out.Elicitation = a.Elicitation || b.Elicitation
	out.Roots = a.Roots || b.Roots
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

// narrow applies a tool's entry to its module's spec. A tool entry can only
// take away: each field it sets replaces the module's with what both allow.
func narrow(m, t *Module) *Module {
	out := *m
	if t.Network != nil {
		n := &Network{Private: t.Network.Private && m.Network != nil && m.Network.Private}
		if m.Network != nil {
			mp, _ := parsePatterns(m.Network.Allow)
			tp, _ := parsePatterns(t.Network.Allow)
			for _, a := range tp {
				for _, b := range mp {
					if x, ok := a.Intersect(b); ok {
						n.Allow = append(n.Allow, x.String())
					}
				}
			}
		}
		out.Network = n
	}
	if t.Files != nil {
		var files []File
		for _, f := range t.Files {
			i := slices.IndexFunc(m.Files, func(x File) bool { return x.Guest == f.Guest && x.Host == f.Host })
			if i < 0 {
				continue
			}
			if m.Files[i].Mode != "rw" {
				f.Mode = "ro"
			}
			files = append(files, f)
		}
		out.Files = files
	}
	if t.Env != nil {
		out.Env = Env{}
		for k := range t.Env {
			if v, ok := m.Env[k]; ok {
				out.Env[k] = v
			}
		}
	}
	if t.Secrets != nil {
		out.Secrets = map[string]string{}
		for k := range t.Secrets {
			if v, ok := m.Secrets[k]; ok {
				out.Secrets[k] = v
			}
		}
	}
	if t.KV != nil && m.KV != nil {
		kv := *m.KV
		if t.KV.Quota != 0 && (kv.Quota == 0 || t.KV.Quota < kv.Quota) {
			kv.Quota = t.KV.Quota
		}
		out.KV = &kv
	}
	out.Sampling = m.Sampling && t.Sampling
	out.Elicitation = m.Elicitation && t.Elicitation
	out.Roots = m.Roots && t.Roots
	return &out
}

// Requests lists what a manifest asks for, one line per capability, as
// the Requested column of a report (Granted is "-").
func Requests(man *abi.Manifest) []Line {
	return report(man, &runtime.Grant{})
}

// report lists, per capability the manifest asks for or the grant gives,
// what was requested and what is granted.
func report(man *abi.Manifest, g *runtime.Grant) []Line {
	req := man.Permissions
	var lines []Line
	add := func(c, r, gr string) {
		if r == "-" && gr == "-" {
			return
		}
		lines = append(lines, Line{c, r, gr})
	}
	var granted []string
	if g.Network != nil {
		granted = g.Network.Allow
		if g.Network.Private {
			granted = append(slices.Clone(granted), "(private addresses allowed)")
		}
	}
	requested := orDash(req.Network)
	if req.WantsAnyHost() {
		requested = AnyHostRequested
	}
	add("network", requested, orDash(granted))
	var rf, gf []string
	for _, f := range req.Files {
		rf = append(rf, f.Guest+" ("+modeOf(f.Mode)+")")
	}
	for _, m := range g.Mounts {
		mode := "ro"
		if m.Writable {
			mode = "rw"
		}
		gf = append(gf, fmt.Sprintf("%s <- %s (%s)", m.GuestPath, m.HostPath, mode))
	}
	add("files", orDash(rf), orDash(gf))
	add("env", orDash(req.Env), orDash(sortedKeys(g.Env)))
	add("secrets", orDash(req.Secrets), orDash(sortedKeys(g.Secrets)))
	kvg := "-"
	if g.KV != nil {
		kvg = "quota " + g.KV.Quota.String()
	}
	add("kv", yesDash(req.KV), kvg)
	add("sampling", yesDash(req.Sampling), yesDash(g.Sampling))
	add("elicitation", yesDash(req.Elicitation), yesDash(g.Elicitation))
	add("roots", yesDash(req.Roots), yesDash(g.Roots))
	return lines
}

func modeOf(m string) string {
	if m == "" {
		return "ro"
	}
	return m
}

func orDash(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ", ")
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "no network"
	}
	return strings.Join(ss, ", ")
}

func yesDash(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}
