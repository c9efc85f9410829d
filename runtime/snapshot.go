package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

// maxSnapshots bounds the snapshots one module keeps, one per environment
// its calls ran in; past it the least recently used goes.
const maxSnapshots = 8

// snapshots are a reactor's initialised states, keyed by what its
// initialisation could see.
//
// A reactor's _initialize (and wasmgate_warmup, when exported) is the same
// work in every call: the Go runtime, for one, starts there, which costs
// milliseconds. The first call in an environment runs it once in an
// instance of its own and captures that instance's memory and globals;
// that call and the later ones start their fresh instance from the capture
// and run only wasmgate_call. Each call still has its own instance: what it
// changes is gone when it ends.
//
// Initialisation sees the guest's arguments, environment and mounted
// directories (a language runtime reads them at start-up): those are the
// key. It may not call wasmgate's host functions, write output or fail: a
// module that does any of these runs its initialisation in every call
// instead, as it does when the operator or its manifest turns snapshots off.
type snapshots struct {
	mu    sync.Mutex
	byKey map[[32]byte]*snapshot
	used  []([32]byte) // least recently used first
}

type snapshot struct {
	// ready is closed once state or err is set.
	ready chan struct{}
	state *engine.State
	err   error
}

// lookup returns the snapshot for key and whether the caller must take it
// (it is new, and the caller's to fill and publish with done).
func (s *snapshots) lookup(key [32]byte) (snap *snapshot, build bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey == nil {
		s.byKey = map[[32]byte]*snapshot{}
	}
	if i := slices.Index(s.used, key); i >= 0 {
		s.used = append(append(s.used[:i:i], s.used[i+1:]...), key)
		return s.byKey[key], false
	}
	if len(s.used) == maxSnapshots {
		delete(s.byKey, s.used[0])
		s.used = s.used[1:]
	}
	snap = &snapshot{ready: make(chan struct{})}
	s.byKey[key] = snap
	s.used = append(s.used, key)
	return snap, true
}

// forget drops key's snapshot, so that a later call takes it again (one
// that was interrupted, say).
func (s *snapshots) forget(key [32]byte, snap *snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey[key] == snap {
		delete(s.byKey, key)
		if i := slices.Index(s.used, key); i >= 0 {
			s.used = slices.Delete(s.used, i, i+1)
		}
	}
}

// snapshotKey digests what a reactor's initialisation sees of rc.
func snapshotKey(rc *engine.RunConfig) [32]byte {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	str("args")
	for _, a := range rc.Args {
		str(a)
	}
	str("env")
	names := make([]string, 0, len(rc.Env))
	for k := range rc.Env {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		str(k)
		str(rc.Env[k])
	}
	str("mounts")
	for _, m := range rc.Mounts {
		str(m.HostPath)
		str(m.GuestPath)
		if m.Writable {
			str("rw")
		} else {
			str("ro")
		}
	}
	var key [32]byte
	h.Sum(key[:0])
	return key
}

// snapshotsOff says whether m's calls may start from snapshots, or why not.
func (m *Module) snapshotsOff() string {
	switch {
	case !m.reactor:
		return "it is a command"
	case m.rt.cfg.noSnapshots:
		return "snapshots are turned off"
	case !m.manifest.Snapshots():
		return `its manifest says "snapshot": false`
	}
	if err := m.compiled.Snapshottable(); err != nil {
		return err.Error()
	}
	return ""
}

// fromSnapshot makes rc start from the snapshot of its environment when
// there is one, taking it first when this call is the first in that
// environment. Otherwise rc is left to run the initialisation itself. It
// is called with the call's state, whose grant rc was provisioned from.
func (m *Module) fromSnapshot(ctx context.Context, st *callState, rc *engine.RunConfig) {
	if m.snapOff != "" {
		return
	}
	key := snapshotKey(rc)
	snap, build := m.snapshots.lookup(key)
	if build {
		m.takeSnapshot(ctx, st, rc, key, snap)
	}
	select {
	case <-snap.ready:
	default:
		return // another call is taking it: this one initialises itself
	}
	if snap.err != nil || uint64(len(snap.state.Memory)) > rc.MemoryLimit {
		return
	}
	rc.Restore = snap.state
	rc.Entry = snapshotEntry
}

var snapshotEntry = []string{abi.ExportCall}

// takeSnapshot runs the initialisation in an instance of its own and
// captures it.
func (m *Module) takeSnapshot(ctx context.Context, st *callState, rc *engine.RunConfig, key [32]byte, snap *snapshot) {
	var out, errOut bytes.Buffer
	capture := *rc
	capture.Stdin = nil
	capture.Stdout, capture.Stderr = &out, &errOut
	capture.Entry = []string{abi.ExportInitialize}
	if _, ok := m.compiled.ExportedFunctions()[abi.ExportWarmup]; ok {
		capture.Entry = append(capture.Entry, abi.ExportWarmup)
	}
	capture.Restore = nil
	capture.Capture = func(s *engine.State) { snap.state = s }
	cst := &callState{module: m, tool: st.tool, cancel: st.cancel, limits: st.limits, capturing: true}
	err := m.compiled.Run(context.WithValue(ctx, ctxKey{}, cst), &capture)
	switch {
	case ctx.Err() != nil:
		// Cut short by the call's end: a later call tries again.
		m.snapshots.forget(key, snap)
		snap.err = ctx.Err()
	case cst.misuse != "":
		snap.err = errors.New(cst.misuse)
	case err != nil:
		snap.err = err
	case out.Len() > 0 || errOut.Len() > 0:
		snap.err = errors.New("its initialisation writes output")
	case snap.state == nil:
		snap.err = errors.New("the engine captured no state")
	}
	if snap.err != nil {
		snap.state = nil
		if ctx.Err() == nil {
			m.rt.logger.Warn("reactor initialises in every call: no snapshot", "module", m.Name(), "reason", snap.err)
		}
	} else {
		m.rt.logger.Debug("reactor snapshot taken", "module", m.Name(), "memory", len(snap.state.Memory))
	}
	close(snap.ready)
}

// Prepare takes the snapshot that calls under c's grant start from, if the
// module is a reactor that can have one and it is not taken yet, so that
// the first such call need not: a server calls it in the background once a
// module is compiled. It waits for the module to compile and for room
// among the calls like a call (c's limits apply), and returns an error only
// when it could not try.
func (m *Module) Prepare(ctx context.Context, c Call) error {
	if err := m.Ready(ctx); err != nil {
		return err
	}
	if m.snapOff != "" {
		return nil
	}
	limits := m.Limits(c.Limits)
	wait := m.rt.cfg.queueTimeout
	if cerr := m.takeSlot(ctx, wait); cerr != nil {
		return cerr
	}
	defer func() { <-m.sem }()
	release, err := m.rt.admission.acquire(ctx, m, reservation(limits), wait)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	rc := &engine.RunConfig{Args: m.args, Rand: randReader{ctx}, MemoryLimit: uint64(limits.Memory)}
	undo, err := provision(c.Grant, rc)
	defer undo()
	if err != nil {
		return fmt.Errorf("cannot set up the grants: %w", err)
	}
	key := snapshotKey(rc)
	if snap, build := m.snapshots.lookup(key); build {
		st := &callState{module: m, cancel: cancel, limits: limits, grant: c.Grant}
		m.takeSnapshot(ctx, st, rc, key, snap)
	}
	return nil
}
