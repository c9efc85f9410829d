package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// grantFlags are the operator's grants on the command line, shared by call,
// inspect and serve. Nothing is granted unless one of them says so.
type grantFlags struct {
	policyFile   string
	allowNet     listFlag
	allowPrivate bool
	mounts       listFlag
	env          listFlag
	stateDir     string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (g *grantFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.policyFile, "policy", "", "read grants and limits per module from the YAML policy `FILE` (see docs/policy.md; default: grant nothing)")
	fs.Var(&g.allowNet, "allow-net", "allow outbound HTTP(S) to `HOST[:PORT]` (or *.DOMAIN) for modules that ask for it; repeatable")
	fs.BoolVar(&g.allowPrivate, "allow-private-net", false, "allow loopback, private, link-local and cloud-metadata addresses (refused by default even for allowed hosts)")
	fs.Var(&g.mounts, "mount", "mount `HOSTDIR:GUESTDIR[:rw]` (read-only unless :rw) for modules that ask for GUESTDIR; repeatable")
	fs.StringVar(&g.stateDir, "state-dir", "", "keep modules' key-value storage under `DIR` (default: $XDG_STATE_HOME/wasmgate, or ~/.local/state/wasmgate)")
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
	flags, err := flagGrants(g.allowNet, g.allowPrivate, g.mounts, g.env)
	if err != nil {
		return nil, nil, err
	}
	return p, &policy.Options{Flags: flags, ResolveSecret: resolveSecret}, nil
}

// resolveSecret turns a policy's secret reference into its value.
var resolveSecret = secret.Resolve

// hostCaps are the capabilities' host functions, for inspect, which runs
// nothing: the imports of a module that asks for them resolve. (serve and
// call get them from package wasmgate.) Nothing is offered, so nothing is
// opened: the kv functions deny every call without a store.
type hostCaps struct {
	closers []func()
}

// configure adds the capability host functions to cfg.
func (c *hostCaps) configure(cfg *runtime.Config) (*runtime.Config, error) {
	for _, cp := range capability.Registered() {
		p, err := cp.Open(&capability.Setup{
			StateDir: func() (string, error) { return "", errors.New("inspect keeps no state") },
			Logger:   slog.New(slog.DiscardHandler),
		})
		if err != nil {
			return nil, err
		}
		cfg = cfg.WithHostFunctions(p.HostFuncs...)
		if p.Close != nil {
			c.closers = append(c.closers, p.Close)
		}
	}
	return cfg, nil
}

func (c *hostCaps) close() {
	for _, f := range c.closers {
		f()
	}
}

// grantsOf checks the policy against one loaded module, one of the many a
// policy may cover (entries for other modules are not an error), and
// computes its grants.
func grantsOf(p *policy.Policy, opts *policy.Options, m *runtime.Module) (*policy.ModuleGrants, error) {
	if err := p.Check(map[string]*abi.Manifest{m.Name(): m.Manifest()}, true); err != nil {
		return nil, err
	}
	return p.Grants(m.Manifest(), opts)
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
