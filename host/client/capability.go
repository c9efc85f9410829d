package client

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the capability's name; its keys are Sampling, Elicitation and
// Roots.
const Name = "client"

// Keys in a manifest's permissions and in a policy module entry, one per
// kind of question.
const (
	Sampling    = "sampling"
	Elicitation = "elicitation"
	Roots       = "roots"
)

// Grant says which questions a call may put to the client.
type Grant struct {
	// Sampling lets the guest ask the client's model through sample.
	Sampling bool
	// Elicitation lets the guest ask the user through elicit.
	Elicitation bool
	// Roots lets the guest ask the client for its roots (roots/list)
	// through ask.
	Roots bool
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

func (g *Grant) allows(key string) bool {
	if g == nil {
		return false
	}
	switch key {
	case Sampling:
		return g.Sampling
	case Elicitation:
		return g.Elicitation
	case Roots:
		return g.Roots
	}
	return false
}

// Capability is questions to the client: sample, elicit and ask, each
// kind granted when both the manifest and the operator say true.
var Capability capability.Capability = clientCap{}

type clientCap struct{}

func (clientCap) Name() string   { return Name }
func (clientCap) Keys() []string { return []string{Sampling, Elicitation, Roots} }

func (clientCap) Request(raw map[string]json.RawMessage) (any, error) {
	var g Grant
	for _, k := range []struct {
		key string
		v   *bool
	}{{Sampling, &g.Sampling}, {Elicitation, &g.Elicitation}, {Roots, &g.Roots}} {
		if r, ok := raw[k.key]; ok {
			if err := json.Unmarshal(r, k.v); err != nil {
				return nil, fmt.Errorf("permissions.%s: %v", k.key, err)
			}
		}
	}
	if g == (Grant{}) {
		return nil, nil
	}
	return &g, nil
}

// offer is what an entry says, key by key: a key it leaves out is not
// set, so a tool entry that leaves it out keeps its module's.
type offer map[string]bool

func (clientCap) Offer(entry map[string]*yaml.Node, _ capability.Place) (any, error) {
	o := offer{}
	for _, k := range []string{Sampling, Elicitation, Roots} {
		if n := entry[k]; n != nil {
			var v bool
			if err := capability.DecodeYAML(n, &v, k); err != nil {
				return nil, err
			}
			o[k] = v
		}
	}
	return o, nil
}

func (clientCap) Union(a, b any) any {
	out := offer{}
	for _, o := range []offer{a.(offer), b.(offer)} {
		for k, v := range o {
			out[k] = out[k] || v
		}
	}
	return out
}

func (clientCap) Narrow(module, tool any) any {
	m, _ := module.(offer)
	out := offer{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range tool.(offer) {
		out[k] = m[k] && v
	}
	return out
}

func (clientCap) Grant(req, off any, _ *capability.Context) (runtime.CapabilityGrant, error) {
	r, _ := req.(*Grant)
	m, _ := off.(offer)
	o := &Grant{Sampling: m[Sampling], Elicitation: m[Elicitation], Roots: m[Roots]}
	g := Grant{Sampling: r.allows(Sampling) && o.allows(Sampling), Elicitation: r.allows(Elicitation) && o.allows(Elicitation), Roots: r.allows(Roots) && o.allows(Roots)}
	if g == (Grant{}) {
		return nil, nil
	}
	return &g, nil
}

func (clientCap) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	r, _ := req.(*Grant)
	g, _ := grant.(*Grant)
	var lines []capability.Line
	for _, k := range []string{Sampling, Elicitation, Roots} {
		lines = append(lines, capability.Line{Capability: k, Requested: capability.Yes(r.allows(k)), Granted: capability.Yes(g.allows(k))})
	}
	return lines
}

func (clientCap) Effects(runtime.CapabilityGrant) capability.Effects { return capability.Effects{} }

func (clientCap) Open(*capability.Setup) (*capability.Provision, error) {
	return &capability.Provision{HostFuncs: HostFuncs()}, nil
}
