//go:build unix

package files_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/engine/wazero/files"
	"github.com/wasmgate/wasmgate/host/env"
	hostfiles "github.com/wasmgate/wasmgate/host/files"
	"github.com/wasmgate/wasmgate/runtime"
)

// The probe guest (guests/testdata/probe) performs one operation through
// wasi-libc and reports {"ok":...,"errname":...} as text.
const probeWasm = "../../../guests/testdata/probe/probe.wasm"

var (
	probeOnce sync.Once
	probeMod  *runtime.Module
	probeErr  error
)

// probeModule loads the probe once for the package: each call still runs
// in a fresh instance.
func probeModule(t *testing.T) *runtime.Module {
	t.Helper()
	probeOnce.Do(func() {
		rt, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir(""))
		if err != nil {
			probeErr = err
			return
		}
		probeMod, probeErr = rt.Load(context.Background(), probeWasm)
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probeMod
}

// result is what the probe reports.
type result struct {
	OK      bool     `json:"ok"`
	Step    string   `json:"step"`
	Errname string   `json:"errname"`
	Error   string   `json:"error"`
	Data    *string  `json:"data"`
	Target  string   `json:"target"`
	Type    string   `json:"type"`
	Size    int64    `json:"size"`
	Nlink   int64    `json:"nlink"`
	Set     bool     `json:"set"`
	Value   string   `json:"value"`
	Environ []string `json:"environ"`
	Cwd     string   `json:"cwd"`
	Entries []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"entries"`
	raw string
}

// probe runs one operation under grant and returns what the guest saw.
// The call itself must succeed: refusals are results, not call failures.
func probe(t *testing.T, grant *runtime.Grant, args map[string]any) result {
	t.Helper()
	m := probeModule(t)
	raw, _ := json.Marshal(args)
	out, err := m.Call(context.Background(), runtime.Call{Tool: "probe", Arguments: raw, Grant: grant})
	if err != nil {
		t.Fatalf("probe %s: %v", raw, err)
	}
	if out.Err != nil {
		t.Fatalf("probe %s failed: %v", raw, out.Err)
	}
	text := ""
	for _, c := range out.Result.Content {
		if c.Type == abi.ContentText {
			text += c.Text
		}
	}
	var r result
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("probe %s answered %q: %v", raw, text, err)
	}
	r.raw = text
	return r
}

// refused fails the test unless the operation failed and leaked nothing.
func refused(t *testing.T, what string, r result) {
	t.Helper()
	if r.OK {
		t.Errorf("%s succeeded: %s", what, r.raw)
	}
	if strings.Contains(r.raw, files.SecretText) {
		t.Errorf("%s leaked the secret: %s", what, r.raw)
	}
}

// readsInside checks that a normal call succeeds right after an attack.
func readsInside(t *testing.T, grant *runtime.Grant, guestPath string) {
	t.Helper()
	r := probe(t, grant, map[string]any{"op": "read", "path": guestPath + "/in.txt"})
	if !r.OK || r.Data == nil || *r.Data != "inside" {
		t.Fatalf("a normal read after the attack failed: %s", r.raw)
	}
}

func mount(l files.Layout, guest string, writable bool) *runtime.Grant {
	return runtime.NewGrant(&hostfiles.Grant{Mounts: []engine.Mount{{HostPath: l.Mnt, GuestPath: guest, Writable: writable}}})
}

// Reads that try to leave the mount, on read-only and writable mounts and
// on a mount at "/", all fail without revealing the secret.
func TestProbeReadEscapes(t *testing.T) {
	l := files.NewLayout(t)
	before := files.Snapshot(t, l.Base)
	for _, tc := range []struct {
		guest    string
		writable bool
	}{{"/data", false}, {"/data", true}, {"/", false}} {
		g := mount(l, tc.guest, tc.writable)
		p := strings.TrimSuffix(tc.guest, "/")
		for _, path := range []string{
			p + "/../outside/secret.txt",
			p + "/../../outside/secret.txt",
			p + "/sub/../../outside/secret.txt",
			"/../outside/secret.txt",
			"../outside/secret.txt",
			"outside/secret.txt",
			l.Secret,
			"/etc/passwd",
			"/etc/hostname",
			p + "/abs",
			p + "/rel",
			p + "/sub/up",
			p + "/chain1",
			p + "/dirlink/secret.txt",
			p + "/reldir/secret.txt",
			p + "/reldir/../outside/secret.txt",
			"/proc/self/environ",
			"/proc/self/maps",
			"/proc/self/root/etc/passwd",
			"/dev/zero",
		} {
			refused(t, "read "+path, probe(t, g, map[string]any{"op": "read", "path": path}))
			readsInside(t, g, p)
		}
		for _, path := range []string{p + "/dirlink", p + "/reldir", p + "/..", "/proc", "/tmp", "/etc"} {
			refused(t, "list "+path, probe(t, g, map[string]any{"op": "list", "path": path}))
		}
		for _, path := range []string{p + "/abs", p + "/rel", p + "/dirlink", p + "/../outside/secret.txt"} {
			refused(t, "stat "+path, probe(t, g, map[string]any{"op": "stat", "path": path}))
		}
		readsInside(t, g, p)
	}
	files.SameSnapshot(t, "read escapes", before, files.Snapshot(t, l.Base))
}

// Links inside the mount that stay inside work; the link text of one that
// points out is readable (it is only text), its target is not.
func TestProbeLinksInside(t *testing.T) {
	l := files.NewLayout(t)
	g := mount(l, "/data", false)
	if r := probe(t, g, map[string]any{"op": "read", "path": "/data/okchain"}); !r.OK || *r.Data != "inside" {
		t.Errorf("read through a chain inside: %s", r.raw)
	}
	if r := probe(t, g, map[string]any{"op": "lstat", "path": "/data/abs"}); !r.OK || r.Type != "symlink" {
		t.Errorf("lstat of a link out: %s", r.raw)
	}
	if r := probe(t, g, map[string]any{"op": "readlink", "path": "/data/rel"}); !r.OK || r.Target != "../outside/secret.txt" {
		t.Errorf("readlink: %s", r.raw)
	}
	// O_NOFOLLOW refuses a link in the last component, even one inside.
	if r := probe(t, g, map[string]any{"op": "open", "path": "/data/okchain", "flags": "rdonly|nofollow"}); r.OK || r.Errname != "ELOOP" {
		t.Errorf("open O_NOFOLLOW on a link: %s", r.raw)
	}
	if r := probe(t, g, map[string]any{"op": "open", "path": "/data/in.txt", "flags": "rdonly|nofollow"}); !r.OK {
		t.Errorf("open O_NOFOLLOW on a file: %s", r.raw)
	}
	r := probe(t, g, map[string]any{"op": "list", "path": "/data"})
	var names []string
	for _, e := range r.Entries {
		names = append(names, e.Name)
	}
	if !r.OK || !slices.Contains(names, "in.txt") || !slices.Contains(names, "dirlink") || slices.Contains(names, "secret.txt") {
		t.Errorf("list /data: %s", r.raw)
	}
	if r := probe(t, g, map[string]any{"op": "list", "path": "/data/sub"}); !r.OK || len(r.Entries) != 3 {
		t.Errorf("list /data/sub: %s", r.raw)
	}
}

// Every change on a read-only mount is refused, and nothing on the host
// changes: neither inside the mount nor outside it (contents, modes and
// modification times compared).
func TestProbeReadOnlyRefusesChanges(t *testing.T) {
	l := files.NewLayout(t)
	g := mount(l, "/data", false)
	before := files.Snapshot(t, l.Base)
	for _, tc := range []struct {
		op   map[string]any
		want string // the errno the guest sees
	}{
		{map[string]any{"op": "write", "path": "/data/in.txt", "data": "x"}, "EROFS"},
		{map[string]any{"op": "write", "path": "/data/new.txt", "data": "x"}, "EROFS"},
		{map[string]any{"op": "append", "path": "/data/in.txt", "data": "x"}, "EROFS"},
		{map[string]any{"op": "create_excl", "path": "/data/new.txt", "data": "x"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/in.txt", "flags": "rdonly|trunc"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/okchain", "flags": "rdonly|trunc"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/in.txt", "flags": "rdonly|creat"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/in.txt", "flags": "rdonly|append"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/in.txt", "flags": "rdwr"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/in.txt", "flags": "wronly|nofollow"}, "EROFS"},
		{map[string]any{"op": "open", "path": "/data/sub/new.txt", "flags": "wronly|creat|excl"}, "EROFS"},
		{map[string]any{"op": "truncate", "path": "/data/in.txt", "size": 0}, "EROFS"},
		{map[string]any{"op": "truncate", "path": "/data/in.txt", "size": 100}, "EROFS"},
		{map[string]any{"op": "ftruncate", "path": "/data/in.txt", "flags": "rdonly", "size": 0}, "EBADF"},
		{map[string]any{"op": "rename", "path": "/data/in.txt", "path2": "/data/moved.txt"}, "EROFS"},
		{map[string]any{"op": "rename", "path": "/data/sub", "path2": "/data/sub2"}, "EROFS"},
		{map[string]any{"op": "unlink", "path": "/data/in.txt"}, "EROFS"},
		{map[string]any{"op": "unlink", "path": "/data/abs"}, "EROFS"},
		{map[string]any{"op": "rmdir", "path": "/data/emptydir"}, "EROFS"},
		{map[string]any{"op": "mkdir", "path": "/data/newdir"}, "EROFS"},
		{map[string]any{"op": "chmod", "path": "/data/in.txt"}, "ENOSYS"}, // WASI has no chmod
		{map[string]any{"op": "symlink", "path": "in.txt", "path2": "/data/soft"}, "EROFS"},
		{map[string]any{"op": "symlink", "path": l.Secret, "path2": "/data/evil"}, "EROFS"},
		{map[string]any{"op": "link", "path": "/data/in.txt", "path2": "/data/hard.txt"}, "EROFS"},
		{map[string]any{"op": "utimes", "path": "/data/in.txt", "size": 12345}, "EROFS"},
		{map[string]any{"op": "utimes", "path": "/data/okchain", "size": 12345}, "EROFS"},
		{map[string]any{"op": "utimes", "path": "/data", "size": 12345}, "EROFS"},
	} {
		what, _ := json.Marshal(tc.op)
		r := probe(t, g, tc.op)
		refused(t, string(what), r)
		if r.Errname != tc.want {
			t.Errorf("%s: %s; want %s", what, r.raw, tc.want)
		}
		readsInside(t, g, "/data")
	}
	files.SameSnapshot(t, "changes on a read-only mount", before, files.Snapshot(t, l.Base))
}

// On a writable mount the normal operations work.
func TestProbeWritableWorks(t *testing.T) {
	l := files.NewLayout(t)
	g := mount(l, "/data", true)
	steps := []struct {
		op   map[string]any
		want func(result) bool
	}{
		{map[string]any{"op": "write", "path": "/data/new.txt", "data": "hello"}, nil},
		{map[string]any{"op": "append", "path": "/data/new.txt", "data": " world"}, nil},
		{map[string]any{"op": "read", "path": "/data/new.txt"}, func(r result) bool { return *r.Data == "hello world" }},
		{map[string]any{"op": "truncate", "path": "/data/new.txt", "size": 5}, nil},
		{map[string]any{"op": "stat", "path": "/data/new.txt"}, func(r result) bool { return r.Type == "file" && r.Size == 5 }},
		{map[string]any{"op": "create_excl", "path": "/data/x.txt", "data": "x"}, nil},
		{map[string]any{"op": "mkdir", "path": "/data/d"}, nil},
		{map[string]any{"op": "rename", "path": "/data/new.txt", "path2": "/data/d/moved.txt"}, nil},
		{map[string]any{"op": "link", "path": "/data/d/moved.txt", "path2": "/data/hard.txt"}, nil},
		{map[string]any{"op": "stat", "path": "/data/hard.txt"}, func(r result) bool { return r.Nlink == 2 }},
		{map[string]any{"op": "symlink", "path": "d/moved.txt", "path2": "/data/soft"}, nil},
		{map[string]any{"op": "readlink", "path": "/data/soft"}, func(r result) bool { return r.Target == "d/moved.txt" }},
		{map[string]any{"op": "read", "path": "/data/soft"}, func(r result) bool { return *r.Data == "hello" }},
		{map[string]any{"op": "utimes", "path": "/data/soft", "size": 1234567890}, nil},
		{map[string]any{"op": "list", "path": "/data/d"}, func(r result) bool { return len(r.Entries) == 1 && r.Entries[0].Name == "moved.txt" }},
		{map[string]any{"op": "unlink", "path": "/data/soft"}, nil},
		{map[string]any{"op": "unlink", "path": "/data/hard.txt"}, nil},
		{map[string]any{"op": "unlink", "path": "/data/d/moved.txt"}, nil},
		{map[string]any{"op": "rmdir", "path": "/data/d"}, nil},
		{map[string]any{"op": "open", "path": "/data/x.txt", "flags": "rdwr|trunc", "data": "y"}, nil},
		{map[string]any{"op": "ftruncate", "path": "/data/x.txt", "flags": "wronly", "size": 0}, nil},
	}
	for _, s := range steps {
		r := probe(t, g, s.op)
		if !r.OK || (s.want != nil && !s.want(r)) {
			what, _ := json.Marshal(s.op)
			t.Fatalf("%s: %s", what, r.raw)
		}
	}
	if info, err := os.Stat(filepath.Join(l.Mnt, "in.txt")); err != nil || info.ModTime().Unix() != 1_000_000_000 {
		t.Errorf("in.txt changed: %v %v", info, err)
	}
	if r := probe(t, g, map[string]any{"op": "create_excl", "path": "/data/x.txt"}); r.OK || r.Errname != "EEXIST" {
		t.Errorf("exclusive create of an existing file: %s", r.raw)
	}
	if b, err := os.ReadFile(filepath.Join(l.Mnt, "x.txt")); err != nil || len(b) != 0 {
		t.Errorf("x.txt = %q, %v", b, err)
	}
}

// On a writable mount nothing can be created, changed or removed outside
// it, and no symbolic link that points out can be planted.
func TestProbeWritableCannotEscape(t *testing.T) {
	l := files.NewLayout(t)
	g := mount(l, "/data", true)
	before := files.Snapshot(t, l.Outside)
	for _, op := range []map[string]any{
		{"op": "write", "path": "/data/../outside/new.txt", "data": "pwned"},
		{"op": "write", "path": "/data/rel", "data": "pwned"},
		{"op": "write", "path": "/data/abs", "data": "pwned"},
		{"op": "write", "path": "/data/dangling", "data": "pwned"},
		{"op": "write", "path": "/data/chain1", "data": "pwned"},
		{"op": "write", "path": "/data/dirlink/secret.txt", "data": "pwned"},
		{"op": "write", "path": "/data/reldir/new.txt", "data": "pwned"},
		{"op": "write", "path": l.Secret, "data": "pwned"},
		{"op": "write", "path": "/tmp/pwned", "data": "pwned"},
		{"op": "append", "path": "/data/rel", "data": "pwned"},
		{"op": "open", "path": "/data/rel", "flags": "rdonly|trunc"},
		{"op": "truncate", "path": "/data/abs", "size": 0},
		{"op": "mkdir", "path": "/data/dirlink/d"},
		{"op": "mkdir", "path": "/data/../outside/d"},
		{"op": "rename", "path": "/data/in.txt", "path2": "/data/reldir/in.txt"},
		{"op": "rename", "path": "/data/dirlink/secret.txt", "path2": "/data/stolen"},
		{"op": "rename", "path": "/data/in.txt", "path2": "/data/dirlink/secret.txt"},
		{"op": "unlink", "path": "/data/dirlink/secret.txt"},
		{"op": "unlink", "path": "/data/../outside/secret.txt"},
		{"op": "rmdir", "path": "/data/reldir/dir"},
		{"op": "link", "path": "/data/dirlink/secret.txt", "path2": "/data/stolen"},
		{"op": "link", "path": "/data/../outside/secret.txt", "path2": "/data/stolen"},
		{"op": "link", "path": "/data/abs", "path2": "/data/stolen"},
		{"op": "link", "path": "/data/in.txt", "path2": "/data/reldir/planted"},
		{"op": "symlink", "path": l.Secret, "path2": "/data/evil"},
		{"op": "symlink", "path": "../outside/secret.txt", "path2": "/data/evil"},
		{"op": "symlink", "path": "sub/../../outside/secret.txt", "path2": "/data/evil"},
		{"op": "symlink", "path": "x", "path2": "/data/reldir/planted"},
		{"op": "utimes", "path": "/data/abs", "size": 1},
		{"op": "utimes", "path": "/data/reldir/secret.txt", "size": 1},
	} {
		what, _ := json.Marshal(op)
		refused(t, string(what), probe(t, g, op))
		readsInside(t, g, "/data")
	}
	files.SameSnapshot(t, "escapes from a writable mount", before, files.Snapshot(t, l.Outside))
	for _, p := range []string{"evil", "stolen"} {
		if _, err := os.Lstat(filepath.Join(l.Mnt, p)); err == nil {
			t.Errorf("%s was created in the mount", p)
		}
	}
}

// Without an Env grant the guest sees no environment at all; with one it
// sees exactly the granted variables, never the host's.
func TestProbeEnvironment(t *testing.T) {
	t.Setenv("PROBE_HOST_SECRET", files.SecretText)
	for _, g := range []*runtime.Grant{nil, runtime.NewGrant()} {
		r := probe(t, g, map[string]any{"op": "environ"})
		if !r.OK || len(r.Environ) != 0 {
			t.Errorf("environ with no grant: %s", r.raw)
		}
		for _, name := range []string{"PROBE_HOST_SECRET", "HOME", "PATH"} {
			if r := probe(t, g, map[string]any{"op": "getenv", "name": name}); !r.OK || r.Set {
				t.Errorf("getenv %s with no grant: %s", name, r.raw)
			}
		}
	}
	g := runtime.NewGrant(&env.Grant{Vars: map[string]string{"PROBE_VISIBLE": "yes", "LANG": "C.UTF-8"}})
	r := probe(t, g, map[string]any{"op": "environ"})
	if want := []string{"LANG=C.UTF-8", "PROBE_VISIBLE=yes"}; !r.OK || !slices.Equal(r.Environ, want) {
		t.Errorf("environ = %s; want exactly %v", r.raw, want)
	}
	if r := probe(t, g, map[string]any{"op": "getenv", "name": "PROBE_VISIBLE"}); !r.OK || !r.Set || r.Value != "yes" {
		t.Errorf("getenv PROBE_VISIBLE: %s", r.raw)
	}
	if r := probe(t, g, map[string]any{"op": "getenv", "name": "PROBE_HOST_SECRET"}); r.Set || strings.Contains(r.raw, files.SecretText) {
		t.Errorf("a host variable leaked: %s", r.raw)
	}
	// /proc is not there, granted environment or not.
	refused(t, "read /proc/self/environ", probe(t, g, map[string]any{"op": "read", "path": "/proc/self/environ"}))
	if r := probe(t, nil, map[string]any{"op": "cwd"}); !r.OK || r.Cwd != "/" {
		t.Errorf("cwd: %s", r.raw)
	}
}

// With no mount at all there is no file system: every path fails.
func TestProbeNoMounts(t *testing.T) {
	for _, op := range []map[string]any{
		{"op": "read", "path": "/etc/passwd"},
		{"op": "read", "path": "etc/passwd"},
		{"op": "list", "path": "/"},
		{"op": "list", "path": "."},
		{"op": "write", "path": "/tmp/pwned", "data": "x"},
		{"op": "mkdir", "path": "/tmp/pwned"},
		{"op": "stat", "path": "/"},
	} {
		what, _ := json.Marshal(op)
		refused(t, string(what), probe(t, nil, op))
	}
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("/tmp/pwned exists")
	}
	if r := probe(t, nil, map[string]any{"op": "cwd"}); !r.OK {
		t.Errorf("a normal call after the attempts: %s", r.raw)
	}
}

// A mount that cannot be opened fails the call with an error naming it,
// and the next call with a good mount works.
func TestProbeBadMount(t *testing.T) {
	l := files.NewLayout(t)
	m := probeModule(t)
	g := runtime.NewGrant(&hostfiles.Grant{Mounts: []engine.Mount{{HostPath: filepath.Join(l.Base, "missing"), GuestPath: "/data"}}})
	out, err := m.Call(context.Background(), runtime.Call{Tool: "probe", Arguments: json.RawMessage(`{"op":"cwd"}`), Grant: g})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err == nil || !strings.Contains(out.Err.Message, "mount "+filepath.Join(l.Base, "missing")+" at /data") {
		t.Errorf("call with a missing mount: %+v", out.Err)
	}
	readsInside(t, mount(l, "/data", false), "/data")
}

// BenchmarkProbeCall measures what a mount adds to a call: each call opens
// its mounts (os.OpenRoot) and closes them afterwards.
func BenchmarkProbeCall(b *testing.B) {
	l := files.NewLayout(b)
	rt, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	m, err := rt.Load(context.Background(), probeWasm)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		grant *runtime.Grant
		args  string
	}{
		{"no-mount/cwd", nil, `{"op":"cwd"}`},
		{"read-only/cwd", mount(l, "/data", false), `{"op":"cwd"}`},
		{"writable/cwd", mount(l, "/data", true), `{"op":"cwd"}`},
		{"read-only/read", mount(l, "/data", false), `{"op":"read","path":"/data/in.txt"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				out, err := m.Call(context.Background(), runtime.Call{Tool: "probe", Arguments: json.RawMessage(bc.args), Grant: bc.grant})
				if err != nil || out.Err != nil {
					b.Fatal(err, out.Err)
				}
			}
		})
	}
}
