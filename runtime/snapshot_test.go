package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
)

// envGrant hands the guest an environment, as the env capability does.
type envGrant map[string]string

func (envGrant) Capability() string { return "env" }

func (g envGrant) Provision(rc *engine.RunConfig) (func(), error) {
	if rc.Env == nil {
		rc.Env = map[string]string{}
	}
	for k, v := range g {
		rc.Env[k] = v
	}
	return nil, nil
}

// stateCall calls testdata/snapshot.wasm's state tool and returns its
// report as fields (mark, init, warm, page, zero, seed, envs).
func stateCall(t *testing.T, m *Module, c Call) map[string]string {
	t.Helper()
	c.Tool = "state"
	out, err := m.Call(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil {
		t.Fatalf("call: %v", out.Err)
	}
	got := map[string]string{}
	report := text(out.Result)
	for _, f := range strings.Fields(report) {
		k, v, _ := strings.Cut(f, "=")
		got[k] = v
	}
	if len(got) != 7 {
		t.Fatalf("report %q: want 7 fields", report)
	}
	return got
}

// Each call of a reactor starts from its initialised state, whether it
// comes from a snapshot or from running _initialize, never from what an
// earlier call left: memory (its bytes and its size) and globals are as
// initialisation left them, and nothing the previous call wrote is there.
// Calls run two at a time, so memories are reused while others run.
func TestReactorCallsStartClean(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		for _, snapshots := range []bool{true, false} {
			r := newTestRuntime(t, cfg.WithSnapshots(snapshots))
			m := load(t, r, "testdata/snapshot.wasm")
			// The warm-up runs before a snapshot is taken, only then. The
			// first call takes it; calls that come while it is being taken
			// initialise themselves.
			warm := "0"
			if snapshots {
				warm = "1"
			}
			stateCall(t, m, Call{})
			var wg sync.WaitGroup
			for g := 0; g < 2; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						got := stateCall(t, m, Call{})
						want := map[string]string{"mark": "initialised!", "init": "1", "warm": warm, "page": "1", "zero": "1", "envs": ""}
						for k, v := range want {
							if got[k] != v {
								t.Errorf("snapshots %v, call %d: %s=%q, want %q (report %v)", snapshots, i, k, got[k], v, got)
							}
						}
					}
				}()
			}
			wg.Wait()
		}
	})
}

// Snapshots are taken per environment: a call sees the environment it was
// granted at initialisation, never another call's.
func TestSnapshotPerEnvironment(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/snapshot.wasm")
		for i := 0; i < 3; i++ {
			for _, v := range []string{"a", "b", ""} {
				c := Call{}
				want := ""
				if v != "" {
					c.Grant = NewGrant(envGrant{"WHO": v})
					want = "WHO=" + v + ";"
				}
				if got := stateCall(t, m, c)["envs"]; got != want {
					t.Fatalf("round %d, env %q: the guest initialised with %q", i, v, got)
				}
			}
		}
	})
}

// With snapshots, initialisation runs once: what it drew at random is the
// same in every call (ABI.md documents this). Turned off by the operator or
// by the module's manifest, each call initialises, and draws, afresh.
func TestSnapshotRandomness(t *testing.T) {
	seeds := func(t *testing.T, m *Module) map[string]bool {
		seen := map[string]bool{}
		for i := 0; i < 4; i++ {
			seen[stateCall(t, m, Call{})["seed"]] = true
		}
		return seen
	}
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		if n := len(seeds(t, load(t, r, "testdata/snapshot.wasm"))); n != 1 {
			t.Errorf("with a snapshot, 4 calls saw %d initialisations' random bytes, want 1", n)
		}
		off := newTestRuntime(t, cfg.WithSnapshots(false))
		if n := len(seeds(t, load(t, off, "testdata/snapshot.wasm"))); n != 4 {
			t.Errorf("snapshots off: 4 calls saw %d different random draws, want 4", n)
		}
		// The module refuses snapshots in its manifest.
		wasm, err := os.ReadFile("testdata/snapshot.wasm")
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := os.ReadFile("testdata/snapshot.manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		var mf map[string]any
		if err := json.Unmarshal(manifest, &mf); err != nil {
			t.Fatal(err)
		}
		mf["snapshot"] = false
		refused, _ := json.Marshal(mf)
		path := filepath.Join(t.TempDir(), "refuses.wasm")
		if err := os.WriteFile(path, mustEmbed(t, wasm, string(refused)), 0o644); err != nil {
			t.Fatal(err)
		}
		if n := len(seeds(t, load(t, r, path))); n != 4 {
			t.Errorf(`"snapshot": false: 4 calls saw %d different random draws, want 4`, n)
		}
	})
}

// A reactor whose initialisation calls a host function is not snapshotted:
// it initialises in every call, and every call works.
func TestSnapshotRefusesHostCalls(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/initlog.wasm")
		for i := 0; i < 3; i++ {
			rec := &recorder{}
			out, err := m.Call(context.Background(), Call{Tool: "hello", Events: rec})
			if err != nil {
				t.Fatal(err)
			}
			if out.Err != nil || text(out.Result) != "ok" {
				t.Fatalf("call %d: %v %q", i, out.Err, text(out.Result))
			}
			if len(rec.logs) != 1 || !strings.Contains(rec.logs[0], "initialising") {
				t.Fatalf("call %d: logs %q, want the initialisation's one message (it ran in this call)", i, rec.logs)
			}
		}
	})
}

// A Go reactor built with the SDK (the Go runtime, its allocator and
// encoding/json's caches in the snapshot) answers every call as it does
// without snapshots, concurrently.
func TestSnapshotGoReactor(t *testing.T) {
	r := newTestRuntime(t, nil)
	off := newTestRuntime(t, NewConfig().WithSnapshots(false))
	m, plain := load(t, r, jsonqWasm), load(t, off, jsonqWasm)
	if !m.Reactor() {
		t.Fatal("jsonq is not a reactor")
	}
	call := func(m *Module, i int) string {
		args, _ := json.Marshal(map[string]any{
			"json": `{"items":[{"id":` + strings.Repeat("1", i%5+1) + `,"tags":["x","y"]},{"id":2}]}`,
			"path": ".items[0].id",
		})
		out, err := m.Call(context.Background(), Call{Tool: "query", Arguments: args})
		if err != nil {
			t.Error(err)
			return ""
		}
		if out.Err != nil {
			t.Errorf("call %d: %v", i, out.Err)
			return ""
		}
		return text(out.Result)
	}
	number := regexp.MustCompile(`^1+$`)
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				got, want := call(m, i), call(plain, i)
				if got != want || !number.MatchString(strings.TrimSpace(got)) {
					t.Errorf("call %d: %q from the snapshot, %q without", i, got, want)
				}
			}
		}()
	}
	wg.Wait()
}

// Prepare takes the snapshot a grant's calls start from, once.
func TestPrepareTakesSnapshot(t *testing.T) {
	r := newTestRuntime(t, nil)
	m := load(t, r, "testdata/snapshot.wasm")
	count := func() int {
		m.snapshots.mu.Lock()
		defer m.snapshots.mu.Unlock()
		return len(m.snapshots.byKey)
	}
	a := Call{Grant: NewGrant(envGrant{"WHO": "a"})}
	for i := 0; i < 2; i++ {
		if err := m.Prepare(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("%d snapshots after preparing one grant twice, want 1", n)
	}
	if got := stateCall(t, m, a); got["warm"] != "1" || got["envs"] != "WHO=a;" {
		t.Errorf("a call after Prepare: %v, want it started from the prepared snapshot", got)
	}
	if n := count(); n != 1 {
		t.Errorf("%d snapshots after a call under the prepared grant, want 1", n)
	}
	// A command has none.
	echo := load(t, r, echoWasm)
	if err := echo.Prepare(context.Background(), Call{}); err != nil {
		t.Fatal(err)
	}
}
