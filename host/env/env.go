// Package env is the env capability: variables in the guest's environment,
// each named by both the manifest and the operator, with the operator's
// value. It has no host functions: the variables are set when the guest
// starts.
package env

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the capability's name, its key in a manifest's permissions and
// in a policy module entry.
const Name = "env"

// Grant is the guest's environment, names to values.
type Grant struct {
	Vars map[string]string
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

// Provision sets the variables.
func (g *Grant) Provision(rc *engine.RunConfig) (func(), error) {
	if rc.Env == nil {
		rc.Env = map[string]string{}
	}
	maps.Copy(rc.Env, g.Vars)
	return nil, nil
}

// Offer is the operator's env entry: a map of names to values, or in
// YAML a list of names whose values are taken from wasmgate's own
// environment when the policy is loaded.
type Offer map[string]string

// UnmarshalYAML accepts a mapping (NAME: value) or a sequence of names.
func (e *Offer) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		*e = m
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		m := map[string]string{}
		for _, name := range names {
			v, ok := os.LookupEnv(name)
			if !ok {
				return fmt.Errorf("line %d: env %s is not set in wasmgate's environment, so it cannot be passed through", n.Line, name)
			}
			m[name] = v
		}
		*e = m
	default:
		return fmt.Errorf("line %d: env must be a map of NAME: value or a list of names to pass through", n.Line)
	}
	return nil
}

// Capability is environment variables.
var Capability capability.Capability = envCap{}

type envCap struct{}

func (envCap) Name() string   { return Name }
func (envCap) Keys() []string { return []string{Name} }

func (envCap) Request(raw map[string]json.RawMessage) (any, error) {
	var names []string
	if r, ok := raw[Name]; ok {
		if err := json.Unmarshal(r, &names); err != nil {
			return nil, fmt.Errorf("permissions.%s: %v", Name, err)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	return names, nil
}

func (envCap) Offer(entry map[string]*yaml.Node, _ capability.Place) (any, error) {
	var o Offer
	if err := capability.DecodeYAML(entry[Name], &o, Name); err != nil {
		return nil, err
	}
	if o == nil {
		o = Offer{}
	}
	return o, nil
}

func (envCap) Union(a, b any) any { return capability.UnionNamed(a.(Offer), b.(Offer)) }

func (envCap) Narrow(module, tool any) any {
	m, _ := module.(Offer)
	return capability.NarrowNamed(m, tool.(Offer))
}

func (envCap) Grant(req, offer any, c *capability.Context) (runtime.CapabilityGrant, error) {
	asked, _ := req.([]string)
	o, _ := offer.(Offer)
	vars, _ := capability.GrantNamed(asked, o, c, "env %s is granted but the module does not ask for it: not set",
		func(_, v string) (string, error) { return v, nil })
	if vars == nil {
		return nil, nil
	}
	return &Grant{Vars: vars}, nil
}

func (envCap) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	asked, _ := req.([]string)
	var granted map[string]string
	if g, _ := grant.(*Grant); g != nil {
		granted = g.Vars
	}
	return capability.ReportNamed(Name, asked, granted)
}

func (envCap) Effects(runtime.CapabilityGrant) capability.Effects { return capability.Effects{} }

func (envCap) Open(*capability.Setup) (*capability.Provision, error) {
	return &capability.Provision{}, nil
}
