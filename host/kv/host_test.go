package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/runtime"
)

const kvWasm = "../../guests/testdata/kv/kv.wasm"

// newRuntime returns a runtime whose host functions are s's.
func newRuntime(t testing.TB, s *Store) *runtime.Runtime {
	t.Helper()
	r, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(s.HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// loadAs loads the kv test guest under the module name name: the same
// code, a different namespace.
func loadAs(t testing.TB, r *runtime.Runtime, name string) *runtime.Module {
	t.Helper()
	wasm, err := os.ReadFile(kvWasm)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	man["name"] = name
	raw, _ = json.Marshal(man)
	m, err := r.Compile(context.Background(), kvWasm, wasm, raw, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func grant(quota abi.Size) *runtime.Grant {
	return runtime.NewGrant(&Grant{Quota: quota})
}

func text(res *abi.ToolResult) string {
	var b strings.Builder
	if res == nil {
		return ""
	}
	for _, c := range res.Content {
		if c.Type == abi.ContentText {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// call runs the kv tool with args and returns what it printed; the call
// itself must succeed.
func call(t testing.TB, m *runtime.Module, g *runtime.Grant, args string) string {
	t.Helper()
	out := callOutcome(t, m, g, args)
	if out.Err != nil {
		t.Fatalf("%s: %v", args, out.Err)
	}
	return text(out.Result)
}

func callOutcome(t testing.TB, m *runtime.Module, g *runtime.Grant, args string) *runtime.Outcome {
	t.Helper()
	out, err := m.Call(context.Background(), runtime.Call{Tool: "kv", Arguments: json.RawMessage(args), Grant: g})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func args(op, key, value string) string {
	b, _ := json.Marshal(map[string]string{"op": op, "key": key, "value": value})
	return string(b)
}

func TestGuestRoundTrip(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	g := grant(1 << 20)
	steps := []struct{ args, want string }{
		{args("get", "greeting", ""), `error -5: kv_get: key "greeting" is not stored`},
		{args("set", "greeting", "hello, world"), "ok 0\n"},
		{args("get", "greeting", ""), "ok 12\nhello, world"},
		{args("set", "greeting", "héllo"), "ok 0\n"},
		{args("get", "greeting", ""), "ok 6\nhéllo"},
		{args("set", "empty", ""), "ok 0\n"},
		{args("get", "empty", ""), "ok 0\n"},
		{args("set", "nul\x00key", "a\x00b"), "ok 0\n"},
		{args("get", "nul\x00key", ""), "ok 3\na\x00b"},
		{`{"op":"list"}`, "ok 57\n{\"keys\":[\"empty\",\"greeting\",\"nul\\u0000key\"],\"more\":false}"},
		{`{"op":"list","prefix":"gr"}`, "ok 34\n{\"keys\":[\"greeting\"],\"more\":false}"},
		{`{"op":"list","after":"empty"}`, "ok 49\n{\"keys\":[\"greeting\",\"nul\\u0000key\"],\"more\":false}"},
		{args("delete", "greeting", ""), "ok 0\n"},
		{args("get", "greeting", ""), `error -5: kv_get: key "greeting" is not stored`},
		{args("delete", "greeting", ""), "ok 0\n"},
		{args("set", "", "v"), "error -1: kv_set: the key is empty; keys are 1 to 1024 bytes of UTF-8"},
		{args("get", strings.Repeat("k", MaxKeyLen+1), ""), "error -4: kv_get: the key is 1025 bytes, over the limit of 1024"},
		{args("set", strings.Repeat("k", MaxKeyLen), "v"), "ok 0\n"},
	}
	for _, st := range steps {
		if got := call(t, m, g, st.args); got != st.want {
			t.Errorf("%.80s:\n got %q\nwant %q", st.args, got, st.want)
		}
	}
	checkUsage(t, s, "kv")
}

// Without a KV grant every function is denied with a message naming the
// module and how to grant it, the attempt is recorded for the audit log,
// nothing is stored, and a granted call right after works.
func TestGuestDenied(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	for _, g := range []*runtime.Grant{nil, runtime.NewGrant(), runtime.NewGrant(&secret.Grant{Values: map[string]string{"A": "b"}})} {
		for _, a := range []string{args("get", "k", ""), args("set", "k", "v"), args("delete", "k", ""), `{"op":"list"}`, `{"op":"fill","key":"k","count":3}`} {
			out := callOutcome(t, m, g, a)
			if out.Err != nil {
				t.Fatal(out.Err)
			}
			got := text(out.Result)
			want := "error -2: key-value storage is not granted to module kv: "
			if !strings.Contains(got, want) || !strings.Contains(got, `"kv": true`) {
				t.Errorf("%s without a grant: %q", a, got)
			}
			if len(out.Denied) != 1 || !strings.HasPrefix(out.Denied[0], "key-value storage is not granted to module kv") {
				t.Errorf("denied attempts recorded: %q", out.Denied)
			}
		}
	}
	// Denied before the arguments are even read: bad pointers are not
	// misuse when nothing is granted.
	if got := call(t, m, nil, `{"op":"badkeyptr"}`); !strings.HasPrefix(got, "error -2:") {
		t.Errorf("badkeyptr without a grant: %q", got)
	}
	if got := checkUsage(t, s, "kv"); got != 0 {
		t.Errorf("denied calls stored %d bytes", got)
	}
	if got := call(t, m, grant(100), args("set", "k", "v")); got != "ok 0\n" {
		t.Errorf("a granted call after denied ones: %q", got)
	}
}

// Two modules running the same code never see each other's keys, whatever
// the keys look like.
func TestGuestNamespaces(t *testing.T) {
	s := openTest(t)
	r := newRuntime(t, s)
	a, b := loadAs(t, r, "alpha"), loadAs(t, r, "beta")
	g := grant(1 << 20)
	for _, k := range []string{"k", "../beta/k", "beta", "usage", "data"} {
		call(t, a, g, args("set", k, "alpha's"))
	}
	if got := call(t, b, g, args("get", "k", "")); !strings.HasPrefix(got, "error -5:") {
		t.Errorf("beta reads alpha's key: %q", got)
	}
	if got := call(t, b, g, `{"op":"list"}`); got != "ok 24\n{\"keys\":[],\"more\":false}" {
		t.Errorf("beta lists: %q", got)
	}
	call(t, b, g, args("set", "k", "beta's"))
	call(t, b, g, args("delete", "beta", ""))
	if got := call(t, a, g, args("get", "k", "")); got != "ok 7\nalpha's" {
		t.Errorf("alpha's key after beta wrote its own: %q", got)
	}
	if got := call(t, a, g, args("get", "beta", "")); got != "ok 7\nalpha's" {
		t.Errorf("alpha's key after beta deleted its own: %q", got)
	}
	if got := call(t, b, g, args("get", "k", "")); got != "ok 6\nbeta's" {
		t.Errorf("beta's key: %q", got)
	}
	checkUsage(t, s, "alpha")
	if got := checkUsage(t, s, "beta"); got != abi.Size(1+6+EntryOverhead) {
		t.Errorf("beta's usage: %d", got)
	}
}

// A guest filling its namespace stops at exactly its quota with a message
// giving the usage and the quota; deleting frees room.
func TestGuestQuota(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	value := strings.Repeat("v", 100)
	entry := int(entrySize([]byte("key-000"), []byte(value)))
	g := grant(abi.Size(10*entry + entry/2))
	got := call(t, m, g, fmt.Sprintf(`{"op":"fill","key":"key-00","value":%q,"count":100}`, value))
	// The eleventh key, key-0010, is a byte longer than the first ten.
	want := fmt.Sprintf("filled 10\nerror -4: kv_set: storing this value would bring module kv's storage to %d bytes, over its quota of %d (%d used now", 11*entry+1, 10*entry+entry/2, 10*entry)
	if !strings.HasPrefix(got, want) {
		t.Errorf("filling past the quota:\n got %q\nwant %q…", got, want)
	}
	if got := checkUsage(t, s, "kv"); got != abi.Size(10*entry) {
		t.Errorf("usage %d, want %d", got, 10*entry)
	}
	call(t, m, g, args("delete", "key-003", ""))
	if got := call(t, m, g, args("set", "key-0xx", value)); got != "ok 0\n" {
		t.Errorf("a set after a delete: %q", got)
	}
	if got := call(t, m, g, args("set", "key-0yy", value)); !strings.HasPrefix(got, "error -4:") {
		t.Errorf("a set past the quota again: %q", got)
	}
	// The same module under a bigger grant may store more: the quota is
	// the call's, the usage the module's.
	if got := call(t, m, grant(1<<20), args("set", "key-0yy", value)); got != "ok 0\n" {
		t.Errorf("a set under a bigger quota: %q", got)
	}
}

// Broken calling conventions: ranges outside memory abort the call with
// host_misuse and store nothing; oversized lengths with in-range pointers
// are too_large; every function survives arbitrary integers (see also
// FuzzHostArgs). A normal call right after works.
func TestGuestMisuse(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	g := grant(1 << 20)
	for _, tt := range []struct{ args, want string }{
		{`{"op":"badkeyptr"}`, "kv_get: bytes [4294967040, 4294967104) are outside guest memory"},
		{`{"op":"badvalptr","key":"k"}`, "kv_set: bytes [4294967040, 4294971136) are outside guest memory"},
		{`{"op":"badlistptr"}`, "kv_list: bytes [4294967040, 4294967552) are outside guest memory"},
		{`{"op":"raw","fn":"delete","a":65536000,"b":1}`, "kv_delete: bytes [65536000, 65536001) are outside guest memory"},
	} {
		out := callOutcome(t, m, g, tt.args)
		if out.Err == nil || out.Err.Kind != runtime.KindHostMisuse || !strings.Contains(out.Err.Message, tt.want) {
			t.Errorf("%s: %v, want host_misuse saying %q", tt.args, out.Err, tt.want)
		}
		if got := call(t, m, g, args("set", "ok", "v")); got != "ok 0\n" {
			t.Errorf("a normal call after %s: %q", tt.args, got)
		}
	}
	for _, tt := range []struct{ args, want string }{
		{`{"op":"hugekey"}`, "error -4: kv_get: the key is 4294967295 bytes, over the limit of 1024"},
		{`{"op":"hugevalue","key":"k"}`, "error -4: kv_set: the value is 2147483647 bytes, over the limit of 1048576"},
		{`{"op":"raw","fn":"list","a":0,"b":0,"c":0,"d":1025}`, "error -4: kv_list: the prefix (0 bytes) or the key to list after (1025 bytes) is over the key limit of 1024"},
		{`{"op":"raw","fn":"set","a":0,"b":0,"c":0,"d":0}`, "error -1: kv_set: the key is empty; keys are 1 to 1024 bytes of UTF-8"},
	} {
		if got := call(t, m, g, tt.args); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
	keys, _, err := s.List(context.Background(), "kv", nil, nil, 0)
	if err != nil || strings.Join(keys, ",") != "ok" {
		t.Errorf("keys after misuse: %q, %v", keys, err)
	}
	checkUsage(t, s, "kv")
}

// Many calls of one module at once, through the runtime: every write
// lands, and racing for the last of the quota stores exactly what fits.
func TestGuestConcurrent(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	const calls, perCall = 32, 8
	entry := int(entrySize([]byte("c00-0"), []byte("value")))
	fit := calls * perCall / 2
	g := grant(abi.Size(fit*entry + entry - 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	filled := 0
	for c := range calls {
		wg.Go(func() {
			out, err := m.Call(context.Background(), runtime.Call{Tool: "kv", Grant: g,
				Arguments: json.RawMessage(fmt.Sprintf(`{"op":"fill","key":"c%02d-","value":"value","count":%d}`, c, perCall))})
			if err != nil || out.Err != nil {
				t.Errorf("call %d: %v %v", c, err, out.Err)
				return
			}
			var n int
			if _, err := fmt.Sscanf(text(out.Result), "filled %d", &n); err != nil {
				t.Errorf("call %d: %q", c, text(out.Result))
				return
			}
			mu.Lock()
			filled += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if filled != fit {
		t.Errorf("%d entries stored by racing calls, want exactly %d", filled, fit)
	}
	if got := checkUsage(t, s, "kv"); got != abi.Size(fit*entry) {
		t.Errorf("usage %d, want %d", got, fit*entry)
	}
}

// A call whose write waits behind a stuck writer is stopped at its
// deadline, stores nothing, and the next call works.
func TestGuestDeadlineWhileWaiting(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	s.writer <- struct{}{}
	out, err := m.Call(context.Background(), runtime.Call{Tool: "kv", Grant: grant(100), Arguments: json.RawMessage(args("set", "k", "v")),
		Limits: runtime.Limits{Timeout: 200 * time.Millisecond}})
	<-s.writer
	if err != nil {
		t.Fatal(err)
	}
	if out.Err == nil || out.Err.Kind != runtime.KindTimeout {
		t.Errorf("a write stuck behind another: %v %q", out.Err, text(out.Result))
	}
	if _, err := s.Get(context.Background(), "kv", []byte("k")); err != ErrNotFound {
		t.Errorf("the timed-out write was stored: %v", err)
	}
	if got := call(t, m, grant(100), args("set", "k", "v")); got != "ok 0\n" {
		t.Errorf("the next call: %q", got)
	}
}

// A closed store fails calls cleanly (shutdown), without a crash.
func TestGuestClosedStore(t *testing.T) {
	s := openTest(t)
	m := loadAs(t, newRuntime(t, s), "kv")
	s.Close()
	if got := call(t, m, grant(100), args("set", "k", "v")); !strings.HasPrefix(got, "error -3: kv_set: the key-value store is closed") {
		t.Errorf("set on a closed store: %q", got)
	}
}
