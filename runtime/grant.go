package runtime

import (
	"slices"

	"github.com/wasmgate/wasmgate/abi"
)

// Grant is what one call may use beyond the bare sandbox. The zero Grant
// grants nothing. It is computed by the operator's policy as the narrower of
// what the module asks for and what the operator allows; the runtime and the
// host functions only enforce it.
type Grant struct {
	// Network, when non-nil, lets http_request reach the allowed hosts.
	Network *NetworkGrant
	// Mounts are directories visible to the guest through WASI.
	Mounts []Mount
	// Env is the guest's environment, names to values.
	Env map[string]string
	// Secrets are values secret_get returns, by name. They are redacted from
	// the call's output, log and stderr.
	Secrets map[string]string
	// KV, when non-nil, gives the module a persistent key-value namespace.
	KV *KVGrant
	// Sampling lets the guest ask the client's model through sample.
	Sampling bool
	// Elicitation lets the guest ask the user through elicit.
	Elicitation bool
	// Roots lets the guest ask the client for its roots (roots/list)
	// through ask.
	Roots bool
}

// NetworkGrant allows outbound HTTP(S) to some hosts.
type NetworkGrant struct {
	// Allow lists host patterns: "api.example.com", "*.example.org", either
	// with ":PORT" (without a port, 80 and 443 are allowed).
	Allow []string
	// Private allows addresses in loopback, private, link-local, CGNAT and
	// cloud-metadata ranges, which are refused by default even when a name
	// is allowed.
	Private bool
}

// Mount is a host directory visible to the guest at GuestPath. The engine
// answers for its containment: nothing outside HostPath is reachable, and
// nothing in it changes unless Writable (see engine.Mount).
type Mount struct {
	HostPath  string
	GuestPath string
	Writable  bool
}

// KVGrant gives a module a key-value namespace bounded by Quota bytes.
type KVGrant struct {
	Quota abi.Size
}

// Grant returns the grant of the current call. Callers must not modify it.
func (h *HostCall) Grant() *Grant { return &h.st.grant }

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
