package secret

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the secrets capability's name, its key in a manifest's
// permissions and in a policy module entry.
const Name = "secrets"

// Grant holds the values secret_get returns, by name. The runtime redacts
// them from the call's result, log, stderr, error and audit record.
type Grant struct {
	Values map[string]string
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

// ConfidentialValues are the values to redact.
func (g *Grant) ConfidentialValues() []string {
	out := make([]string, 0, len(g.Values))
	for _, k := range slices.Sorted(maps.Keys(g.Values)) {
		out = append(out, g.Values[k])
	}
	return out
}

// Capability is secrets: secret_get, granted the names both the manifest
// and the operator name, with values the policy references (env:NAME,
// file:PATH) and that are read when the grant is made.
var Capability capability.Capability = secrets{}

type secrets struct{}

func (secrets) Name() string   { return Name }
func (secrets) Keys() []string { return []string{Name} }

func (secrets) Request(raw map[string]json.RawMessage) (any, error) {
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

// offer maps secret names to references.
type offer map[string]string

func (secrets) Offer(entry map[string]*yaml.Node, at capability.Place) (any, error) {
	var o offer
	if err := capability.DecodeYAML(entry[Name], &o, Name); err != nil {
		return nil, err
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if ref := o[name]; !strings.HasPrefix(ref, "env:") && !strings.HasPrefix(ref, "file:") {
			problems = append(problems, fmt.Sprintf("%s.%s.%s: %q must be env:VARIABLE or file:PATH", at.Path, Name, name, ref))
		}
	}
	if err := capability.Join(problems); err != nil {
		return nil, err
	}
	if o == nil {
		o = offer{}
	}
	return o, nil
}

func (secrets) Union(a, b any) any { return capability.UnionNamed(a.(offer), b.(offer)) }

func (secrets) Narrow(module, tool any) any {
	m, _ := module.(offer)
	return capability.NarrowNamed(m, tool.(offer))
}

func (secrets) Grant(req, off any, c *capability.Context) (runtime.CapabilityGrant, error) {
	o, _ := off.(offer)
	asked, _ := req.([]string)
	values, err := capability.GrantNamed(asked, o, c, "secret %s is granted but the module does not ask for it: not given",
		func(name, ref string) (string, error) {
			if c.ResolveSecret == nil {
				return "", fmt.Errorf("secret %s: secrets are not available here", name)
			}
			v, err := c.ResolveSecret(ref)
			if err != nil {
				return "", fmt.Errorf("secret %s: %w", name, err)
			}
			return v, nil
		})
	if err != nil || values == nil {
		return nil, err
	}
	return &Grant{Values: values}, nil
}

func (secrets) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	asked, _ := req.([]string)
	var granted map[string]string
	if g, _ := grant.(*Grant); g != nil {
		granted = g.Values
	}
	return capability.ReportNamed(Name, asked, granted)
}

func (secrets) Effects(runtime.CapabilityGrant) capability.Effects { return capability.Effects{} }

func (secrets) Open(*capability.Setup) (*capability.Provision, error) {
	return &capability.Provision{HostFuncs: HostFuncs()}, nil
}
