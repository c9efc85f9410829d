package security

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/engine/wazero/files"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// The file attacks' policy: the bombs get a read-only mount and may ask the
// client a question, which holds their descriptors until it is answered;
// the long-I/O guests get a writable mount each and a short time limit.
const filesPolicyYAML = `
defaults:
  limits: {timeout: 5s, memory: 32MiB, output: 256KiB}
modules:
  probe:
    files: [{host: ./data, guest: /data, mode: rw}]
  fdbomb:
    files: [{host: ./data, guest: /data, mode: ro}]
    elicitation: true
  dirbomb:
    files: [{host: ./data, guest: /data, mode: ro}]
    elicitation: true
  hugewrite:
    files: [{host: ./write, guest: /data, mode: rw}]
    limits: {timeout: 200ms}
  hugepread:
    files: [{host: ./pread, guest: /data, mode: rw}]
    limits: {timeout: 200ms}
`

// eagain is WASI's EAGAIN, what an open past a descriptor limit returns.
const eagain = 6

// bombOpens is how many opens of a bomb succeed: the call's limit, less the
// mount's root directory, which wazero opens for the first path lookup.
const bombOpens = files.DefaultMaxOpen - 1

// filesSuite serves the probe and the file-attack guests with the policy
// above. The client answers each question once its current gate is open.
type filesSuite struct {
	cs   *mcp.ClientSession
	dir  string        // holds data/, write/ and pread/
	held chan string   // a question arrived: its guest holds its descriptors
	mu   sync.Mutex    // guards gate
	gate chan struct{} // closed: questions are answered
}

func newFilesSuite(t *testing.T, eng string) *filesSuite {
	t.Helper()
	ctx := context.Background()
	s := &filesSuite{dir: t.TempDir(), held: make(chan string, 64), gate: make(chan struct{})}
	close(s.gate)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(s.dir, "data")
	for _, d := range []string{"data/sub/deep", "data/t/d1/d2", "write", "pread"} {
		must(os.MkdirAll(filepath.Join(s.dir, d), 0o755))
	}
	must(os.WriteFile(filepath.Join(data, "a.txt"), []byte("inside"), 0o644))
	// Links the operator made, each pointing inside where it is.
	must(os.Symlink("..", filepath.Join(data, "sub", "up")))
	must(os.Symlink("../../..", filepath.Join(data, "t", "d1", "d2", "l")))

	polFile := filepath.Join(s.dir, "policy.yaml")
	must(os.WriteFile(polFile, []byte(filesPolicyYAML), 0o644))
	pol, err := policy.Load(polFile)
	must(err)
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithEngine(engine.Lookup(eng)).WithHostFunctions(client.HostFuncs()...))
	must(err)
	t.Cleanup(func() { rt.Close(ctx) })
	var mods []*runtime.Module
	manifests := map[string]*abi.Manifest{}
	paths := []string{"../guests/testdata/probe/probe.wasm"}
	for _, h := range []string{"fdbomb", "dirbomb", "hugewrite", "hugepread"} {
		paths = append(paths, hostileDir+h+".wasm")
	}
	for _, p := range paths {
		m, err := rt.Load(ctx, p)
		must(err)
		mods = append(mods, m)
		manifests[m.Name()] = m.Manifest()
	}
	must(pol.Check(manifests, false))
	grants := map[string]*policy.ModuleGrants{}
	for _, m := range mods {
		g, err := pol.Grants(m.Manifest(), nil)
		must(err)
		grants[m.Name()] = g
	}
	srv, _, err := server.New(nil, mods, &server.Options{
		Configure: func(tool server.Tool) server.ToolConfig {
			g := grants[tool.Module.Name()]
			return server.ToolConfig{Grant: g.Tools[tool.Manifest.Name], Limits: g.Limits}
		},
	})
	must(err)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	must(err)
	t.Cleanup(func() { ss.Close() })
	copts := &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			s.held <- req.Params.Message
			s.mu.Lock()
			gate := s.gate
			s.mu.Unlock()
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	}
	s.cs, err = mcp.NewClient(&mcp.Implementation{Name: "security-files"}, copts).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	must(err)
	t.Cleanup(func() { s.cs.Close() })
	return s
}

func (s *filesSuite) call(t *testing.T, tool string, args map[string]any) (string, bool) {
	t.Helper()
	return callText(t, s.cs, tool, args)
}

// grantedRead is the normal call that must succeed after every attack.
func (s *filesSuite) grantedRead(t *testing.T) {
	t.Helper()
	if text, isErr := s.call(t, "probe", map[string]any{"op": "read", "path": "/data/a.txt"}); isErr || !strings.Contains(text, `"data":"inside"`) {
		t.Fatalf("granted read: %q isError=%v", clip(text), isErr)
	}
}

// openFDs counts the process's open descriptors (the server runs in it).
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// A guest opening files or directories until refused holds exactly the
// call's limit, then gets EAGAIN; its descriptors are all closed when it
// ends.
func TestDescriptorBomb(t *testing.T) { eachEngine(t, testDescriptorBomb) }

func testDescriptorBomb(t *testing.T, eng string) {
	s := newFilesSuite(t, eng)
	// What the engine opens once for its first file access (wasmtime's
	// WASI starts an I/O runtime) is there before counting.
	s.grantedRead(t)
	before := openFDs(t)
	goroutines, rss := goruntime.NumGoroutine(), rssKiB(t)
	for _, c := range []struct{ tool, want string }{
		{"fdbomb", fmt.Sprintf("opened %d files, then errno %d", bombOpens, eagain)},
		{"dirbomb", fmt.Sprintf("opened %d directories, then errno %d", bombOpens, eagain)},
		{"fdbomb", fmt.Sprintf("opened %d files, then errno %d", bombOpens, eagain)},
	} {
		t.Run(c.tool, func(t *testing.T) {
			text, isErr := s.call(t, c.tool, nil)
			if isErr || text != c.want {
				t.Errorf("%s = %q isError=%v; want %q", c.tool, clip(text), isErr, c.want)
			}
			<-s.held
			if n := openFDs(t); n > before+2 {
				t.Errorf("%d descriptors open after the call, %d before: the call's were not all closed", n, before)
			}
			s.grantedRead(t)
		})
	}
	checkBounded(t, goroutines, rss)
}

// Several bombs at once, all holding their descriptors (each waits for the
// client's answer): together they hold their limits and no more, a good
// call's read still works, the server's goroutines stay bounded, and every
// descriptor is closed once they end.
func TestConcurrentDescriptorBombs(t *testing.T) { eachEngine(t, testConcurrentDescriptorBombs) }

func testConcurrentDescriptorBombs(t *testing.T, eng string) {
	s := newFilesSuite(t, eng)
	s.grantedRead(t) // as in testDescriptorBomb
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	beforeFDs := openFDs(t)
	goroutines, rss := goruntime.NumGoroutine(), rssKiB(t)
	bombs := []string{"fdbomb", "dirbomb", "fdbomb", "dirbomb", "fdbomb", "dirbomb"}
	results := make([]string, len(bombs))
	errs := make([]bool, len(bombs))
	var wg sync.WaitGroup
	for i, tool := range bombs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.call(t, tool, nil)
		}()
	}
	for range bombs {
		<-s.held // every bomb holds its descriptors until the gate opens
	}
	held := openFDs(t) - beforeFDs
	running := goruntime.NumGoroutine() - goroutines
	t.Logf("%d bombs hold %d descriptors and %d goroutines", len(bombs), held, running)
	// Each holds its limit, plus the os.Root of its mount and at most two
	// directories opened while a path is resolved.
	if lo, hi := len(bombs)*files.DefaultMaxOpen, len(bombs)*(files.DefaultMaxOpen+3); held < lo || held > hi {
		t.Errorf("the bombs hold %d descriptors, want %d to %d", held, lo, hi)
	}
	if running > 20*len(bombs) {
		t.Errorf("%d more goroutines while %d calls wait", running, len(bombs))
	}
	s.grantedRead(t)
	close(gate)
	wg.Wait()
	for i, tool := range bombs {
		kind := "files"
		if tool == "dirbomb" {
			kind = "directories"
		}
		if want := fmt.Sprintf("opened %d %s, then errno %d", bombOpens, kind, eagain); errs[i] || results[i] != want {
			t.Errorf("%s = %q isError=%v; want %q", tool, clip(results[i]), errs[i], want)
		}
	}
	if n := openFDs(t); n > beforeFDs+2 {
		t.Errorf("%d descriptors open after the bombs, %d before", n, beforeFDs)
	}
	s.grantedRead(t)
	checkBounded(t, goroutines, rss)
}

// Renames that would leave an operator's link pointing outside the mount
// are refused; the host tree keeps every link inside.
func TestRenameLinkOutOfMount(t *testing.T) { eachEngine(t, testRenameLinkOutOfMount) }

func testRenameLinkOutOfMount(t *testing.T, eng string) {
	if eng == "wasmtime" {
		// Wasmtime's WASI resolves every path the guest gives within the
		// mount, links included, but moves a link wherever it is asked
		// to: the host tree can be left with a relative link pointing
		// outside the mount (docs/security.md, Engines).
		t.Skip("wasmtime does not check where a renamed link points from its new place")
	}
	s := newFilesSuite(t, eng)
	data := filepath.Join(s.dir, "data")
	for _, c := range []struct{ name, from, to string }{
		{"link to .. moved to the mount's root", "/data/sub/up", "/data/up"},
		{"link to .. moved through itself to the root", "/data/sub/up", "/data/sub/up/up2"},
		{"link to .. moved with .. in the new name", "/data/sub/up", "/data/sub/../up3"},
		{"directory holding ../../.. moved to the root", "/data/t/d1", "/data/d1"},
		{"directory holding ../../.. moved to the root through a link", "/data/t/d1", "/data/sub/up/d1"},
		{"directory holding ../../.. moved one up", "/data/t/d1/d2", "/data/t/d2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, isErr := s.call(t, "probe", map[string]any{"op": "rename", "path": c.from, "path2": c.to})
			if isErr || !strings.Contains(text, `"errname":"EPERM"`) {
				t.Errorf("rename %s to %s = %q isError=%v; want EPERM", c.from, c.to, clip(text), isErr)
			}
			if out := linksOut(t, data); len(out) > 0 {
				t.Fatalf("links pointing outside the mount: %v", out)
			}
			s.grantedRead(t)
		})
	}
	// Where they still point inside, they move.
	for _, m := range [][2]string{{"/data/sub/up", "/data/sub/deep/up"}, {"/data/t/d1", "/data/sub/d1"}} {
		if text, isErr := s.call(t, "probe", map[string]any{"op": "rename", "path": m[0], "path2": m[1]}); isErr || !strings.Contains(text, `"ok":true`) {
			t.Errorf("rename %s to %s = %q isError=%v; want it done", m[0], m[1], clip(text), isErr)
		}
	}
	if out := linksOut(t, data); len(out) > 0 {
		t.Fatalf("links pointing outside the mount: %v", out)
	}
}

// linksOut lists the relative links under root that lead outside it as the
// kernel follows them: each ".." from the directory the link is in.
func linksOut(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Join(filepath.Dir(p), target))
		if filepath.IsAbs(target) || err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			out = append(out, p+" -> "+target)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// One WASI read or write over a huge iovec list stops at the call's
// deadline: the guests can never finish (they loop forever after the I/O),
// so a time limit is their only outcome; once past the deadline they cannot
// create a file, and the write stopped far short of what it asked.
func TestLongFileIOStopsAtDeadline(t *testing.T) { eachEngine(t, testLongFileIOStopsAtDeadline) }

func testLongFileIOStopsAtDeadline(t *testing.T, eng string) {
	s := newFilesSuite(t, eng)
	goroutines, rss := goruntime.NumGoroutine(), rssKiB(t)
	for _, c := range []struct{ tool, dir, file string }{
		{"hugewrite", "write", "big.out"},
		{"hugepread", "pread", "sparse.bin"},
		{"hugewrite", "write", "big.out"},
	} {
		t.Run(c.tool, func(t *testing.T) {
			dir := filepath.Join(s.dir, c.dir)
			os.Remove(filepath.Join(dir, "after.txt"))
			os.Remove(filepath.Join(dir, c.file))
			text, isErr := s.call(t, c.tool, nil)
			if !isErr || !strings.Contains(text, "time limit") {
				t.Errorf("%s = %q isError=%v; want the time limit", c.tool, clip(text), isErr)
			}
			if _, err := os.Lstat(filepath.Join(dir, "after.txt")); err == nil {
				t.Errorf("%s created after.txt after its long I/O: the I/O ended before the deadline or the deadline did not stop the call's files", c.tool)
			}
			switch info, err := os.Stat(filepath.Join(dir, c.file)); {
			case os.IsNotExist(err):
				// On a busy machine the deadline may come before the guest
				// opens its file: contained all the same.
				t.Logf("%s: the deadline came before the guest opened %s", c.tool, c.file)
			case err != nil:
				t.Fatal(err)
			default:
				t.Logf("%s: %s is %d MiB", c.tool, c.file, info.Size()>>20)
				if c.tool == "hugewrite" && info.Size() >= 4<<30 {
					t.Errorf("the write went on to all %d bytes", info.Size())
				}
			}
			s.grantedRead(t)
		})
	}
	checkBounded(t, goroutines, rss)
}
