//go:build wasmtime

package wasmtime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmgate/wasmgate/engine"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
)

func newEngine(t *testing.T, cacheDir string, fns ...engine.HostFunc) *wasmtimeEngine {
	t.Helper()
	e, err := New(context.Background(), engine.Config{CacheDir: cacheDir, HostFuncs: fns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e.(*wasmtimeEngine)
}

func compileWAT(t *testing.T, e *wasmtimeEngine, wat string) engine.Compiled {
	t.Helper()
	wasm, err := wt.Wat2Wasm(wat)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// runGuest runs c's _start with stdin and returns what it wrote.
func runGuest(t *testing.T, ctx context.Context, c engine.Compiled, rc engine.RunConfig) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	rc.Stdout, rc.Stderr = &out, &errOut
	if rc.Entry == nil {
		rc.Entry = []string{"_start"}
	}
	if rc.MemoryLimit == 0 {
		rc.MemoryLimit = 16 << 20
	}
	err = c.Run(ctx, &rc)
	return out.String(), errOut.String(), err
}

// Importing engine/wasmtime registers it without making it the default,
// whatever the order the packages initialise in.
func TestDefaultStaysWazero(t *testing.T) {
	if name, _ := engine.Default(); name != "wazero" {
		t.Errorf("default engine = %q, want wazero", name)
	}
	if !slices.Contains(engine.Registered(), Name) || engine.Lookup(Name) == nil {
		t.Errorf("wasmtime is not registered: %v", engine.Registered())
	}
}

// The WASI functions the engine lists are the ones Wasmtime's linker
// defines, with the same types.
func TestWASISignatures(t *testing.T) {
	e := newEngine(t, "")
	store := wt.NewStore(e.engine)
	defer store.Close()
	store.SetWasi(wt.NewWasiConfig())
	for name, sig := range e.WASI() {
		ext := e.wasiOnly.Get(store, engine.WASIModule, name)
		if ext == nil || ext.Func() == nil {
			t.Errorf("%s is not defined", name)
			continue
		}
		if got := signatureOf(ext.Func().Type(store)); !got.Equal(sig) {
			t.Errorf("%s is %s, listed as %s", name, got, sig)
		}
	}
}

const echoWAT = `(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "err:")
  (func (export "_start") (local $n i32) (local $total i32)
    ;; read stdin into 1000.. through two iovecs of 3 bytes and 1000
    (block $eof
      (loop $more
        (i32.store (i32.const 0) (i32.add (i32.const 1000) (local.get $total)))
        (i32.store (i32.const 4) (i32.const 3))
        (i32.store (i32.const 8) (i32.add (i32.const 1003) (local.get $total)))
        (i32.store (i32.const 12) (i32.const 1000))
        (br_if $eof (call $read (i32.const 0) (i32.const 0) (i32.const 2) (i32.const 16)))
        (local.set $n (i32.load (i32.const 16)))
        (br_if $eof (i32.eqz (local.get $n)))
        (local.set $total (i32.add (local.get $total) (local.get $n)))
        (br $more)))
    ;; stdout: what was read; stderr: "err:" and the same, as two iovecs
    (i32.store (i32.const 0) (i32.const 1000))
    (i32.store (i32.const 4) (local.get $total))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 4))
    (i32.store (i32.const 8) (i32.const 1000))
    (i32.store (i32.const 12) (local.get $total))
    (drop (call $write (i32.const 2) (i32.const 0) (i32.const 2) (i32.const 16)))))`

// stdin, stdout and stderr are the run's own, whatever the iovecs.
func TestStdio(t *testing.T) {
	e := newEngine(t, "")
	c := compileWAT(t, e, echoWAT)
	for _, in := range []string{"", "ab", "hello, world", strings.Repeat("x", 5000)} {
		out, errOut, err := runGuest(t, context.Background(), c, engine.RunConfig{Stdin: []byte(in)})
		if err != nil {
			t.Fatal(err)
		}
		if out != in || errOut != "err:"+in {
			t.Errorf("stdin %q: stdout %q, stderr %q", in, out, errOut)
		}
	}
}

const loopWAT = `(module
  (memory (export "memory") 1)
  (func (export "_start") (loop $l (br $l))))`

// countWAT counts to a billion and writes "done".
const countWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "done")
  (global $sink (mut i32) (i32.const 0))
  (func (export "_start") (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000000))))
    (global.set $sink (local.get $i))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`

// A run whose context is done stops; the others, which share the engine's
// epoch, run on to their end.
func TestInterruptOneStore(t *testing.T) {
	e := newEngine(t, "")
	loop, count := compileWAT(t, e, loopWAT), compileWAT(t, e, countWAT)
	var wg sync.WaitGroup
	results := make([]string, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { results[i], _, errs[i] = runGuest(t, context.Background(), count, engine.RunConfig{}) })
	}
	// Loops cancelled one after another while the counters run: each
	// cancellation increments the epoch every store checks.
	for range 5 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		began := time.Now()
		_, _, err := runGuest(t, ctx, loop, engine.RunConfig{})
		if !errors.Is(err, engine.ErrInterrupted) {
			t.Fatalf("cancelled loop: err = %v, want ErrInterrupted", err)
		}
		if d := time.Since(began); d > 10*time.Second {
			t.Errorf("the loop stopped %s after its context was cancelled", d)
		}
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || results[i] != "done" {
			t.Errorf("counter %d: %q, %v; want it to finish", i, results[i], errs[i])
		}
	}
	// A context done before the run starts stops it at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := runGuest(t, ctx, loop, engine.RunConfig{}); !errors.Is(err, engine.ErrInterrupted) {
		t.Errorf("run with a done context: err = %v", err)
	}
}

// A guest sleeping in poll_oneoff wakes when its context is done.
func TestSleepEndsWithContext(t *testing.T) {
	e := newEngine(t, "")
	c := compileWAT(t, e, `(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store (i32.const 0) (i64.const 7))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (loop $l (br $l))))`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	began := time.Now()
	if _, _, err := runGuest(t, ctx, c, engine.RunConfig{}); !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("the sleep lasted %s after its context was cancelled", d)
	}
	// A short sleep ends by itself, with its event.
	short := compileWAT(t, e, `(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i64.store (i32.const 0) (i64.const 7))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 1000000))
    (if (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)) (then (call $exit (i32.const 1))))
    (if (i32.ne (i32.load (i32.const 128)) (i32.const 1)) (then (call $exit (i32.const 2))))
    (if (i64.ne (i64.load (i32.const 64)) (i64.const 7)) (then (call $exit (i32.const 3))))))`)
	if _, _, err := runGuest(t, context.Background(), short, engine.RunConfig{}); err != nil {
		t.Fatalf("short sleep: %v", err)
	}
}

// growWAT grows its memory by $pages, or its table by $elems, and traps if
// the growth was refused.
const growWAT = `(module
  (memory (export "memory") 1)
  (table 10 funcref)
  (func (export "memory_grow") (if (i32.eq (memory.grow (i32.const 63)) (i32.const -1)) (then unreachable)))
  (func (export "table_grow") (if (i32.eq (table.grow (ref.null func) (i32.const 100000)) (i32.const -1)) (then unreachable)))
  (func (export "memory_grow_soft") (drop (memory.grow (i32.const 1000)))))`

// Memory and tables count against the limit together; a guest that fails
// after a refusal has run out of memory, one that copes has not.
func TestMemoryLimit(t *testing.T) {
	e := newEngine(t, "")
	c := compileWAT(t, e, growWAT)
	const mib = 1 << 20
	for _, tc := range []struct {
		entry  []string
		limit  uint64
		denied bool
	}{
		{[]string{"memory_grow"}, 4*mib + 80, false}, // 64 pages and 10 elements: just fits
		{[]string{"memory_grow"}, 4 * mib, true},     // the table's 80 bytes do not
		{[]string{"table_grow"}, mib, false},         // 1 page and 100,010 elements
		{[]string{"table_grow"}, 64 << 10, true},
		{[]string{"table_grow", "memory_grow"}, 4*mib + 80, true}, // together over
		{[]string{"memory_grow_soft"}, mib, false},                // refused, coped
	} {
		_, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: tc.entry, MemoryLimit: tc.limit})
		var mle *engine.MemoryLimitError
		if got := errors.As(err, &mle); got != tc.denied || (!tc.denied && err != nil) {
			t.Errorf("%v within %d bytes: err = %v, want a memory limit error: %v", tc.entry, tc.limit, err, tc.denied)
		}
	}
}

// A host function that panics makes the guest trap, and the run reports
// the panic; the next run is unaffected.
func TestHostPanic(t *testing.T) {
	boom := engine.HostFunc{Module: "wasmgate", Name: "boom", Signature: engine.Signature{Params: []engine.ValueType{engine.I32}},
		Fn: func(_ context.Context, _ engine.Memory, stack []uint64) {
			if stack[0] == 1 {
				panic("kaboom")
			}
		}}
	e := newEngine(t, "", boom)
	c := compileWAT(t, e, `(module
  (import "wasmgate" "boom" (func $boom (param i32)))
  (memory (export "memory") 1)
  (func (export "panics") (call $boom (i32.const 1)))
  (func (export "_start") (call $boom (i32.const 0))))`)
	_, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"panics"}})
	var hp *engine.HostPanicError
	if !errors.As(err, &hp) || hp.Func != "wasmgate.boom" || hp.Value != "kaboom" {
		t.Fatalf("err = %#v, want the host panic", err)
	}
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{}); err != nil {
		t.Fatalf("the next run: %v", err)
	}
}

// snapshotWAT's init sets memory and a global; report writes both.
const snapshotWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 0))
  (func (export "init")
    (drop (memory.grow (i32.const 2)))
    (i32.store8 (i32.const 100) (i32.const 65))
    (i32.store8 (i32.const 140000) (i32.const 66))
    (global.set $g (i32.const 67)))
  (func (export "report")
    (i32.store8 (i32.const 101) (i32.load8_u (i32.const 140000)))
    (i32.store8 (i32.const 102) (global.get $g))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; what this call changes is not in the next one's start
    (global.set $g (i32.const 90))
    (i32.store8 (i32.const 100) (i32.const 90))))`

// A run starts from a captured state: the memory grown and overwritten,
// the globals set.
func TestSnapshotRestore(t *testing.T) {
	e := newEngine(t, "")
	c := compileWAT(t, e, snapshotWAT)
	if err := c.Snapshottable(); err != nil {
		t.Fatal(err)
	}
	var st *engine.State
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"init"}, Capture: func(s *engine.State) { st = s }}); err != nil {
		t.Fatal(err)
	}
	if st == nil || len(st.Memory) != 3*pageSize || len(st.Globals) != 1 || st.Globals[0] != 67 {
		t.Fatalf("captured %d bytes of memory and globals %v", len(st.Memory), st.Globals)
	}
	for range 2 {
		out, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"report"}, Restore: st})
		if err != nil || out != "ABC" {
			t.Fatalf("restored run: %q, %v; want ABC", out, err)
		}
	}
	// Without the state, the module starts from its own data.
	if out, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"report"}}); err == nil {
		t.Fatalf("report without the state: %q", out)
	}
	// A state larger than the memory limit is refused as such.
	_, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"report"}, Restore: st, MemoryLimit: 2 * pageSize})
	var mle *engine.MemoryLimitError
	if !errors.As(err, &mle) {
		t.Fatalf("restore over the limit: err = %v", err)
	}
}

// Traps carry the wasm stack as engine/wazero writes it; exits carry their
// code, and exit 0 is a clean finish.
func TestTrapsAndExits(t *testing.T) {
	e := newEngine(t, "")
	c := compileWAT(t, e, `(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $boom (param i32) (result i64) unreachable)
  (func $trap (export "trap") (drop (call $boom (i32.const 1))))
  (func (export "exit0") (call $exit (i32.const 0)) unreachable)
  (func (export "exit3") (call $exit (i32.const 3))))`)
	_, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"trap"}})
	var te *engine.TrapError
	if !errors.As(err, &te) || te.Message != "unreachable" || len(te.Stack) != 2 || te.Stack[0] != ".boom(i32) i64" || te.Stack[1] != ".trap()" {
		t.Fatalf("trap: %#v", err)
	}
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"exit0"}}); err != nil {
		t.Errorf("exit 0: %v", err)
	}
	var ee *engine.ExitError
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"exit3"}}); !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("exit 3: %v", err)
	}
}

// Mounts: a read-only one can be read and not written; a writable one can
// be both; nothing outside is reached.
func TestMounts(t *testing.T) {
	e := newEngine(t, "")
	// open(path at 300, oflags) then write "x"; exits with the errno of
	// what failed (1xx: open, 2xx: write).
	c := compileWAT(t, e, `(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "new.txt")
  (data (i32.const 320) "../out.txt")
  (data (i32.const 400) "x")
  (func $try (param $path i32) (param $len i32) (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 500)))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
    (i32.store (i32.const 0) (i32.const 400))
    (i32.store (i32.const 4) (i32.const 1))
    (local.set $e (call $write (i32.load (i32.const 500)) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 200) (local.get $e))))))
  (func (export "create") (call $try (i32.const 300) (i32.const 7)))
  (func (export "escape") (call $try (i32.const 320) (i32.const 10))))`)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	exitCode := func(err error) uint32 {
		var ee *engine.ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		return 0
	}
	mount := func(rw bool) []engine.Mount {
		return []engine.Mount{{HostPath: data, GuestPath: "/data", Writable: rw}}
	}
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"create"}, Mounts: mount(false)}); exitCode(err) < 100 || exitCode(err) >= 200 {
		t.Errorf("create on a read-only mount: %+v", errors.Unwrap(err))
	}
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"escape"}, Mounts: mount(true)}); exitCode(err) < 100 || exitCode(err) >= 200 {
		t.Errorf("create outside a writable mount: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.txt")); err == nil {
		t.Error("a file was created outside the mount")
	}
	if _, _, err := runGuest(t, context.Background(), c, engine.RunConfig{Entry: []string{"create"}, Mounts: mount(true)}); err != nil {
		t.Errorf("create on a writable mount: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(data, "new.txt")); err != nil || string(b) != "x" {
		t.Errorf("the file written: %q, %v", b, err)
	}
	if n := e.files.Load(); n != 0 {
		t.Errorf("%d descriptors counted after the runs", n)
	}

	// Links the guest creates point below their directory.
	link := compileWAT(t, e, `(module
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "../out.txt")
  (data (i32.const 200) "sub/x")
  (data (i32.const 300) "up")
  (data (i32.const 310) "down")
  (func (export "up") (call $exit (call $symlink (i32.const 100) (i32.const 10) (i32.const 3) (i32.const 300) (i32.const 2))))
  (func (export "down") (call $exit (call $symlink (i32.const 200) (i32.const 5) (i32.const 3) (i32.const 310) (i32.const 4)))))`)
	if _, _, err := runGuest(t, context.Background(), link, engine.RunConfig{Entry: []string{"up"}, Mounts: mount(true)}); exitCode(err) != errnoPerm {
		t.Errorf("a link pointing out of the mount: %v, want EPERM", err)
	}
	if _, _, err := runGuest(t, context.Background(), link, engine.RunConfig{Entry: []string{"down"}, Mounts: mount(true)}); err != nil {
		t.Errorf("a link pointing down: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(data, "down")); err != nil || target != "sub/x" {
		t.Errorf("the link made: %q, %v", target, err)
	}
	if _, err := os.Lstat(filepath.Join(data, "up")); err == nil {
		t.Error("the link pointing out was made")
	}
}

// Compiled code is kept in the cache directory and used by the next
// engine; a damaged file is replaced, not trusted.
func TestCompilationCache(t *testing.T) {
	dir := t.TempDir()
	compile := func() {
		t.Helper()
		e := newEngine(t, dir)
		out, _, err := runGuest(t, context.Background(), compileWAT(t, e, echoWAT), engine.RunConfig{Stdin: []byte("hi")})
		if err != nil || out != "hi" {
			t.Fatalf("run: %q, %v", out, err)
		}
	}
	compile()
	files, _ := filepath.Glob(filepath.Join(dir, "wasmtime", "*.cwasm"))
	if len(files) != 1 {
		t.Fatalf("cached: %v", files)
	}
	first, _ := os.ReadFile(files[0])
	compile()
	if err := os.WriteFile(files[0], append(first[:len(first)-10:len(first)-10], "damaged!!!"...), 0o644); err != nil {
		t.Fatal(err)
	}
	compile()
	if again, _ := os.ReadFile(files[0]); !bytes.Equal(again, first) {
		t.Error("the damaged file was not replaced")
	}
}

// A compile whose context is done returns at once with its error.
func TestCompileContext(t *testing.T) {
	e := newEngine(t, "")
	wasm, err := wt.Wat2Wasm(loopWAT)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Compile(ctx, wasm); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if _, err := e.Compile(context.Background(), []byte("\x00asm\x01\x00\x00\x00\x01")); err == nil {
		t.Error("a malformed module compiled")
	}
}
