package runtime

import (
	"context"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/host/files"
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

// Mount is a host directory visible to the guest at GuestPath.
type Mount struct {
	HostPath  string
	GuestPath string
	Writable  bool
	// FS, when set, is mounted instead of HostPath, and whoever sets it
	// answers for its containment. Otherwise HostPath is opened with
	// host/files, rooted with os.Root so that nothing outside it is
	// reachable, and read-only unless Writable.
	FS experimentalsys.FS
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

// mountState is what the runtime shares between the mounts of all calls:
// the descriptors their files may hold together, and the order of their
// renames (files.Shared).
type mountState struct {
	shared *files.Shared
	// maxOpen bounds the descriptors one call's files hold at once.
	maxOpen int
}

// newMountState bounds each call to files.DefaultMaxOpen descriptors and
// all calls together to files.DefaultTotalOpen(), half of what the process
// may open: a guest past either gets EAGAIN for its open, the server keeps
// room for its sockets and its own files.
func newMountState() *mountState {
	return &mountState{shared: files.NewShared(files.DefaultTotalOpen()), maxOpen: files.DefaultMaxOpen}
}

// applyGrant gives the module config the granted environment and mounts.
// ctx is the call's context: it is done when the call must stop, and then
// the mounts' reads, writes and listings fail. The returned function closes
// what the call opened, files the guest left open included.
func (r *Runtime) applyGrant(ctx context.Context, cfg wazero.ModuleConfig, g *Grant) (wazero.ModuleConfig, func(), error) {
	names := make([]string, 0, len(g.Env))
	for k := range g.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		cfg = cfg.WithEnv(k, g.Env[k])
	}
	if len(g.Mounts) == 0 {
		return cfg, func() {}, nil
	}
	call := r.mounts.shared.NewCall(ctx, r.mounts.maxOpen)
	closeAll := func() { call.Close() }
	fsc := wazero.NewFSConfig()
	for _, m := range g.Mounts {
		fsys := m.FS
		if fsys == nil {
			// Read-only and writable mounts alike are rooted with os.Root:
			// no path or symbolic link leads out of the directory.
			f, err := call.Mount(m.HostPath, m.Writable)
			if err != nil {
				closeAll()
				return nil, func() {}, fmt.Errorf("mount %s at %s: %w", m.HostPath, m.GuestPath, err)
			}
			fsys = f
		}
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(fsys, m.GuestPath)
	}
	return cfg.WithFSConfig(fsc), closeAll, nil
}
