package kv

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the key-value capability's name, its key in a manifest's
// permissions and in a policy module entry.
const Name = "kv"

// DefaultQuota is the storage a grant gives when the policy names no quota.
const DefaultQuota abi.Size = 16 << 20

// Grant gives a module a key-value namespace bounded by Quota bytes.
type Grant struct {
	Quota abi.Size
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

// Offer is the operator's kv entry.
type Offer struct {
	Quota capability.Size `yaml:"quota"`
}

// Capability is key-value storage: kv_get, kv_set, kv_delete and kv_list
// on a store under the state directory, opened only when the policy offers
// kv to some module.
var Capability capability.Capability = kvCap{}

type kvCap struct{}

func (kvCap) Name() string   { return Name }
func (kvCap) Keys() []string { return []string{Name} }

func (kvCap) Request(raw map[string]json.RawMessage) (any, error) {
	var want bool
	if r, ok := raw[Name]; ok {
		if err := json.Unmarshal(r, &want); err != nil {
			return nil, fmt.Errorf("permissions.%s: %v", Name, err)
		}
	}
	if !want {
		return nil, nil
	}
	return true, nil
}

func (kvCap) Offer(entry map[string]*yaml.Node, _ capability.Place) (any, error) {
	var o Offer
	if err := capability.DecodeYAML(entry[Name], &o, Name); err != nil {
		return nil, err
	}
	return &o, nil
}

// Union keeps the first offer: a command line cannot grant kv.
func (kvCap) Union(a, _ any) any { return a }

func (kvCap) Narrow(module, tool any) any {
	m, _ := module.(*Offer)
	if m == nil {
		return nil
	}
	t := tool.(*Offer)
	o := *m
	if t.Quota != 0 && (o.Quota == 0 || t.Quota < o.Quota) {
		o.Quota = t.Quota
	}
	return &o
}

func (kvCap) Grant(req, offer any, c *capability.Context) (runtime.CapabilityGrant, error) {
	o, _ := offer.(*Offer)
	if o == nil {
		return nil, nil
	}
	if req == nil {
		c.Warn("kv is granted but the module does not ask for it: not given")
		return nil, nil
	}
	q := abi.Size(o.Quota)
	if q == 0 {
		q = DefaultQuota
	}
	return &Grant{Quota: q}, nil
}

func (kvCap) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	granted := "-"
	if g, _ := grant.(*Grant); g != nil {
		granted = "quota " + g.Quota.String()
	}
	return []capability.Line{{Capability: Name, Requested: capability.Yes(req != nil), Granted: granted}}
}

func (kvCap) Effects(grant runtime.CapabilityGrant) capability.Effects {
	if grant == nil {
		return capability.Effects{}
	}
	return capability.Effects{Writes: "key-value storage"}
}

// Open opens the store when the policy offers kv to some module, so that a
// runtime granting none never locks the state directory. Without a store
// the functions deny every call.
func (kvCap) Open(s *capability.Setup) (*capability.Provision, error) {
	if !s.Offered {
		return &capability.Provision{HostFuncs: (*Store)(nil).HostFuncs()}, nil
	}
	dir, err := s.StateDir()
	if err != nil {
		return nil, err
	}
	st, err := Open(dir, nil)
	if err != nil {
		return nil, err
	}
	return &capability.Provision{HostFuncs: st.HostFuncs(), Close: func() { st.Close() }}, nil
}
