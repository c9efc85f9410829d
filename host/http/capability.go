package http

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the network capability's name, its key in a manifest's
// permissions and in a policy module entry.
const Name = "network"

// AnyHostRequested is how a report shows a manifest's request for
// abi.AnyHost.
const AnyHostRequested = "any host the operator grants"

// Grant allows a call outbound HTTP(S) to some hosts.
type Grant struct {
	// Allow lists host patterns: "api.example.com", "*.example.org", either
	// with ":PORT" (without a port, 80 and 443 are allowed).
	Allow []string
	// Private allows addresses in loopback, private, link-local, CGNAT and
	// cloud-metadata ranges, which are refused by default even when a name
	// is allowed.
	Private bool
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

// Offer is the operator's network entry: the hosts a module may reach.
type Offer struct {
	Allow   []string `yaml:"allow"`
	Private bool     `yaml:"private"`
}

// netRequest is what a manifest asks for.
type netRequest struct {
	hosts []string
	any   bool // abi.AnyHost: whatever the operator allows
}

// Capability is the network: the http_request host function, granted the
// hosts both the manifest and the operator name. Its Open makes one Client
// for the runtime.
var Capability capability.Capability = network{}

type network struct{}

func (network) Name() string   { return Name }
func (network) Keys() []string { return []string{Name} }

func (network) Request(raw map[string]json.RawMessage) (any, error) {
	var hosts []string
	if r, ok := raw[Name]; ok {
		if err := json.Unmarshal(r, &hosts); err != nil {
			return nil, fmt.Errorf("permissions.%s: %v", Name, err)
		}
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	return &netRequest{hosts: hosts, any: slices.Contains(hosts, abi.AnyHost)}, nil
}

func (network) Offer(entry map[string]*yaml.Node, at capability.Place) (any, error) {
	var o Offer
	if err := capability.DecodeYAML(entry[Name], &o, Name); err != nil {
		return nil, err
	}
	var problems []string
	for i, h := range o.Allow {
		if err := abi.CheckHostPattern(h); err != nil {
			problems = append(problems, fmt.Sprintf("%s.%s.allow[%d]: %v", at.Path, Name, i, err))
		}
	}
	if err := capability.Join(problems); err != nil {
		return nil, err
	}
	return &o, nil
}

func (network) Union(a, b any) any {
	x, y := a.(*Offer), b.(*Offer)
	return &Offer{Allow: append(slices.Clone(x.Allow), y.Allow...), Private: x.Private || y.Private}
}

func (network) Narrow(module, tool any) any {
	t := tool.(*Offer)
	m, _ := module.(*Offer)
	n := &Offer{Private: t.Private && m != nil && m.Private}
	if m != nil {
		mp, _ := parsePatterns(m.Allow)
		tp, _ := parsePatterns(t.Allow)
		for _, a := range tp {
			for _, b := range mp {
				if x, ok := a.Intersect(b); ok {
					n.Allow = append(n.Allow, x.String())
				}
			}
		}
	}
	return n
}

func (network) Grant(req, offer any, c *capability.Context) (runtime.CapabilityGrant, error) {
	o, _ := offer.(*Offer)
	if o == nil {
		return nil, nil
	}
	r, _ := req.(*netRequest)
	allowed, err := parsePatterns(o.Allow)
	if err != nil {
		return nil, err
	}
	var eff []string
	switch {
	case r != nil && r.any:
		// The module takes whatever the operator allows: the grant is
		// exactly the allow list, never more.
		for _, a := range allowed {
			if !slices.Contains(eff, a.String()) {
				eff = append(eff, a.String())
			}
		}
	case r != nil:
		requested, err := parsePatterns(r.hosts)
		if err != nil {
			return nil, err
		}
		for _, rp := range requested {
			for _, a := range allowed {
				if x, ok := rp.Intersect(a); ok && !slices.Contains(eff, x.String()) {
					eff = append(eff, x.String())
				}
			}
		}
	}
	if len(eff) > 0 {
		return &Grant{Allow: eff, Private: o.Private}, nil
	}
	if len(o.Allow) > 0 {
		asked := "no network"
		if r != nil {
			asked = strings.Join(r.hosts, ", ")
		}
		c.Warn("network %s is granted but the module asks for %s: nothing granted", strings.Join(o.Allow, ", "), asked)
	}
	return nil, nil
}

func (network) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	requested := "-"
	if r, _ := req.(*netRequest); r != nil {
		requested = strings.Join(r.hosts, ", ")
		if r.any {
			requested = AnyHostRequested
		}
	}
	var granted []string
	if g, _ := grant.(*Grant); g != nil {
		granted = g.Allow
		if g.Private {
			granted = append(slices.Clone(granted), "(private addresses allowed)")
		}
	}
	return []capability.Line{{Capability: Name, Requested: requested, Granted: capability.Listed(granted)}}
}

func (network) Effects(grant runtime.CapabilityGrant) capability.Effects {
	return capability.Effects{OpenWorld: grant != nil}
}

func (network) Open(*capability.Setup) (*capability.Provision, error) {
	c := New(nil)
	return &capability.Provision{HostFuncs: c.HostFuncs(), Close: c.CloseIdleConnections}, nil
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
