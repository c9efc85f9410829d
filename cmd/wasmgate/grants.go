package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/policy"
)

// grantFlags are the operator's grants on the command line, shared by call,
// inspect and serve. Nothing is granted unless one of them says so.
type grantFlags struct {
	policyFile   string
	allowNet     listFlag
	allowPrivate bool
	mounts       listFlag
	env          listFlag
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (g *grantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.policyFile, "policy", "", "read grants and limits per module from the YAML policy `FILE` (see docs/policy.md; default: grant nothing)")
	fs.Var(&g.allowNet, "allow-net", "allow outbound HTTP(S) to `HOST[:PORT]` (or *.DOMAIN) for modules that ask for it; repeatable")
	fs.BoolVar(&g.allowPrivate, "allow-private-net", false, "allow loopback, private, link-local and cloud-metadata addresses (refused by default even for allowed hosts)")
	fs.Var(&g.mounts, "mount", "mount `HOSTDIR:GUESTDIR[:rw]` (read-only unless :rw) for modules that ask for GUESTDIR; repeatable")
	fs.Var(&g.env, "env", "set `NAME[=VALUE]` in the environment of modules that ask for NAME (a bare NAME passes wasmgate's own value); repeatable")
}

// load reads the policy file and the flag grants.
func (g *grantFlags) load() (*policy.Policy, *policy.Options, error) {
	var p *policy.Policy
	if g.policyFile != "" {
		var err error
		if p, err = policy.Load(g.policyFile); err != nil {
			return nil, nil, err
		}
	}
	flags, err := policy.FromFlags(g.allowNet, g.allowPrivate, g.mounts, g.env)
	if err != nil {
		return nil, nil, err
	}
	return p, &policy.Options{Flags: flags, ResolveSecret: resolveSecret}, nil
}

// resolveSecret turns a policy's secret reference into its value.
var resolveSecret func(ref string) (string, error)

// grantsFor checks the policy against the loaded modules and computes each
// module's grants.
func grantsFor(p *policy.Policy, opts *policy.Options, manifests ...*abi.Manifest) (map[string]*policy.ModuleGrants, error) {
	byName := map[string]*abi.Manifest{}
	for _, m := range manifests {
		byName[m.Name] = m
	}
	if err := p.Check(byName); err != nil {
		return nil, err
	}
	out := map[string]*policy.ModuleGrants{}
	for _, m := range manifests {
		g, err := p.Grants(m, opts)
		if err != nil {
			return nil, err
		}
		out[m.Name] = g
	}
	return out, nil
}

// printGrants writes a module's requested-versus-granted table.
func printGrants(w interface{ Write([]byte) (int, error) }, g *policy.ModuleGrants, indent string) {
	if len(g.Report) == 0 {
		fmt.Fprintf(w, "%snone requested, none granted\n", indent)
	}
	for _, l := range g.Report {
		fmt.Fprintf(w, "%s%-12s requested: %-30s granted: %s\n", indent, l.Capability, l.Requested, l.Granted)
	}
	for _, warn := range g.Warnings {
		fmt.Fprintf(w, "%swarning: %s\n", indent, warn)
	}
}
