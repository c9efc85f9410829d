package runtime

import (
	"slices"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

// CapabilityGrant is one capability's part of a Grant: the typed value its
// host functions and provisioning read. Capability is the name of the
// capability it belongs to, which keys it in the Grant.
type CapabilityGrant interface {
	Capability() string
}

// Grant is what one call may use beyond the bare sandbox: for each granted
// capability, its typed grant. A nil or empty Grant grants nothing. It is
// computed by the operator's policy as the narrower of what the module asks
// for and what the operator allows (packages policy and capability); the
// runtime and the host functions only enforce it. A Grant is never changed
// once made, so one can serve many calls.
type Grant struct {
	caps map[string]CapabilityGrant
}

// NewGrant returns the grant of gs, each under its capability's name; nil
// values grant nothing, and a later value replaces an earlier one of the
// same capability.
func NewGrant(gs ...CapabilityGrant) *Grant {
	g := &Grant{caps: map[string]CapabilityGrant{}}
	for _, c := range gs {
		if c != nil {
			g.caps[c.Capability()] = c
		}
	}
	return g
}

// Get returns the grant of the named capability, or nil.
func (g *Grant) Get(name string) CapabilityGrant {
	if g == nil {
		return nil
	}
	return g.caps[name]
}

// Names lists the capabilities granted, sorted.
func (g *Grant) Names() []string {
	if g == nil {
		return nil
	}
	names := make([]string, 0, len(g.caps))
	for n := range g.caps {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// GrantOf returns g's grant of the named capability as a T, and whether
// there is one.
func GrantOf[T CapabilityGrant](g *Grant, name string) (T, bool) {
	v, ok := g.Get(name).(T)
	return v, ok
}

// Granted returns the current call's grant of the named capability as a
// T, and whether there is one: what a host function checks before it acts.
func Granted[T CapabilityGrant](h *HostCall, name string) (T, bool) {
	return GrantOf[T](h.st.grant, name)
}

// Grant returns the current call's grant of the named capability, or nil.
// Callers must not modify it.
func (h *HostCall) Grant(name string) CapabilityGrant { return h.st.grant.Get(name) }

// Provisioner is a capability's grant that changes how the guest starts,
// such as directories mounted or variables in its environment. Provision
// is called before every call the grant serves; cleanup, if not nil, once
// the guest has stopped. An error fails the call as an internal error.
type Provisioner interface {
	Provision(rc *engine.RunConfig) (cleanup func(), err error)
}

// Confidential is a capability's grant that hands the guest values it must
// not show: the runtime redacts them from the call's result, log, stderr,
// error message and audit record.
type Confidential interface {
	ConfidentialValues() []string
}

// NoteHost records a host the call contacted, for the audit log.
func (h *HostCall) NoteHost(hostport string) {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	if !slices.Contains(h.st.hosts, hostport) {
		h.st.hosts = append(h.st.hosts, hostport)
	}
}

// maxDenied bounds the distinct denied attempts one call records: a guest
// looping over denied requests must not grow the outcome and the audit log
// without end.
const maxDenied = 100

// Deny records an attempt to use something not granted, for the audit log
// (each distinct attempt once, at most maxDenied), and returns the
// ErrDenied status with what as the guest's message.
func (h *HostCall) Deny(what string) int32 {
	h.st.mu.Lock()
	if len(h.st.denied) < maxDenied && !slices.Contains(h.st.denied, what) {
		h.st.denied = append(h.st.denied, what)
	}
	h.st.mu.Unlock()
	return h.Fail(abi.ErrDenied, what)
}
