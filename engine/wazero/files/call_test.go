//go:build unix

package files

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// mountCall opens l's mount in a new call of shared.
func mountCall(t *testing.T, shared *Shared, ctx context.Context, maxOpen int, dir string, writable bool) (*Call, *FS) {
	t.Helper()
	c := shared.NewCall(ctx, maxOpen)
	f, err := c.Mount(dir, writable)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, f
}

// openN opens p n times, failing the test on the first error.
func openN(t *testing.T, f *FS, p string, flag experimentalsys.Oflag, n int) []experimentalsys.File {
	t.Helper()
	var files []experimentalsys.File
	for i := range n {
		file, errno := f.OpenFile(p, flag, 0)
		if errno != 0 {
			t.Fatalf("open %d of %s: %v", i, p, errno)
		}
		files = append(files, file)
	}
	return files
}

func TestDefaultTotalOpen(t *testing.T) {
	n := DefaultTotalOpen()
	if n < minTotalOpen || n > maxTotalOpen {
		t.Errorf("DefaultTotalOpen() = %d, want within [%d, %d]", n, minTotalOpen, maxTotalOpen)
	}
	t.Logf("DefaultTotalOpen() = %d", n)
}

// A call holds at most its own number of descriptors, files and
// directories alike; past it an open fails with EAGAIN until one is closed.
func TestCallOpenLimit(t *testing.T) {
	l := NewLayout(t)
	shared := NewShared(0)
	c, f := mountCall(t, shared, context.Background(), 4, l.Mnt, false)
	files := append(openN(t, f, "in.txt", rdonly, 2), openN(t, f, "sub", rdonly|dir, 2)...)
	for _, p := range []struct {
		path string
		flag experimentalsys.Oflag
	}{{"in.txt", rdonly}, {"sub", rdonly | dir}, {".", rdonly | dir}} {
		if file, errno := f.OpenFile(p.path, p.flag, 0); errno != experimentalsys.EAGAIN {
			if file != nil {
				file.Close()
			}
			t.Errorf("open %s past the limit = %v, want EAGAIN", p.path, errno)
		}
	}
	if c.Open() != 4 || shared.Open() != 4 {
		t.Errorf("call holds %d, shared %d; want 4 and 4", c.Open(), shared.Open())
	}
	// A failed open gives its reservation back.
	if _, errno := f.OpenFile("nope", rdonly, 0); errno != experimentalsys.EAGAIN {
		t.Errorf("open past the limit = %v, want EAGAIN before the path is looked at", errno)
	}
	files[0].Close()
	files[0].Close() // twice: counted once
	if _, errno := f.OpenFile("nope", rdonly, 0); errno != experimentalsys.ENOENT {
		t.Errorf("open of a missing file = %v, want ENOENT", errno)
	}
	files[0] = openN(t, f, "in.txt", rdonly, 1)[0]
	if c.Open() != 4 {
		t.Errorf("call holds %d, want 4", c.Open())
	}
	mustReadFile(t, files[0], "inside")
}

func mustReadFile(t *testing.T, file experimentalsys.File, want string) {
	t.Helper()
	buf := make([]byte, 64)
	n, errno := file.Read(buf)
	if errno != 0 || string(buf[:n]) != want {
		t.Errorf("read = %q, %v; want %q", buf[:n], errno, want)
	}
}

// The mounts of one call share its limit.
func TestCallLimitCoversEveryMount(t *testing.T) {
	l := NewLayout(t)
	c := NewShared(0).NewCall(context.Background(), 3)
	defer c.Close()
	a, err := c.Mount(l.Mnt, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Mount(filepath.Join(l.Mnt, "sub"), true)
	if err != nil {
		t.Fatal(err)
	}
	openN(t, a, "in.txt", rdonly, 2)
	openN(t, b, "deep.txt", rdonly, 1)
	if _, errno := b.OpenFile("deep.txt", rdonly, 0); errno != experimentalsys.EAGAIN {
		t.Errorf("open past the call's limit on its second mount = %v, want EAGAIN", errno)
	}
}

// All calls of a Shared hold at most its number of descriptors: a call past
// it gets EAGAIN for its open, and its files work once another call ended.
func TestSharedOpenLimit(t *testing.T) {
	l := NewLayout(t)
	shared := NewShared(3)
	a, fa := mountCall(t, shared, context.Background(), 10, l.Mnt, false)
	_, fb := mountCall(t, shared, context.Background(), 10, l.Mnt, false)
	openN(t, fa, "in.txt", rdonly, 2)
	held := openN(t, fb, "in.txt", rdonly, 1)
	if _, errno := fb.OpenFile("in.txt", rdonly, 0); errno != experimentalsys.EAGAIN {
		t.Errorf("open past the shared limit = %v, want EAGAIN", errno)
	}
	if _, errno := fa.OpenFile("sub", rdonly|dir, 0); errno != experimentalsys.EAGAIN {
		t.Errorf("directory open past the shared limit = %v, want EAGAIN", errno)
	}
	mustReadFile(t, held[0], "inside") // what was open still works
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if shared.Open() != 1 {
		t.Errorf("shared holds %d after a call closed, want 1", shared.Open())
	}
	mustRead(t, fb, "in.txt", "inside")
	if _, errno := fa.OpenFile("in.txt", rdonly, 0); errno == 0 {
		t.Error("a call opened a file after it was closed")
	}
}

// Close closes the files a guest left open and returns them to the count;
// wazero closing them as well is harmless.
func TestCallCloseClosesLeftovers(t *testing.T) {
	l := NewLayout(t)
	shared := NewShared(100)
	c, f := mountCall(t, shared, context.Background(), 10, l.Mnt, true)
	files := append(openN(t, f, "in.txt", rdonly, 3), openN(t, f, ".", rdonly|dir, 2)...)
	files[0].Close()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.Open() != 0 || shared.Open() != 0 {
		t.Errorf("after Close: call holds %d, shared %d; want 0", c.Open(), shared.Open())
	}
	for i, file := range files {
		if _, errno := file.Stat(); errno != experimentalsys.EBADF {
			t.Errorf("file %d after the call's Close: Stat = %v, want EBADF", i, errno)
		}
		if errno := file.Close(); errno != 0 {
			t.Errorf("file %d closed again: %v", i, errno)
		}
	}
	if shared.Open() != 0 {
		t.Errorf("closing twice changed the count: %d", shared.Open())
	}
}

// Many calls opening and closing at once never hold more than their limits
// together, and give everything back.
func TestOpenLimitsHammer(t *testing.T) {
	l := NewLayout(t)
	const calls, perCall, total, rounds = 8, 6, 20, 300
	shared := NewShared(total)
	var wg sync.WaitGroup
	var over atomic.Int32
	for i := range calls {
		c, f := mountCall(t, shared, context.Background(), perCall, l.Mnt, false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var open []experimentalsys.File
			for r := range rounds {
				if (r+i)%3 == 2 && len(open) > 0 {
					open[0].Close()
					open = open[1:]
					continue
				}
				file, errno := f.OpenFile("in.txt", rdonly, 0)
				switch errno {
				case 0:
					open = append(open, file)
				case experimentalsys.EAGAIN:
				default:
					t.Errorf("open: %v", errno)
					return
				}
				if c.Open() > perCall || shared.Open() > total {
					over.Add(1)
				}
			}
			if i%2 == 0 {
				for _, file := range open {
					file.Close()
				}
			} else {
				c.Close() // leaves its files to the call's Close
			}
		}()
	}
	wg.Wait()
	if over.Load() > 0 {
		t.Errorf("a limit was passed %d times", over.Load())
	}
	if shared.Open() != 0 {
		t.Errorf("shared holds %d after every call ended, want 0", shared.Open())
	}
}

// countdown is a context that is done after its Err has answered nil left
// times: it stops a read or write after a known number of chunks.
type countdown struct {
	context.Context
	left atomic.Int64
}

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func (c *countdown) Done() <-chan struct{} {
	if c.left.Load() <= 0 {
		return closedChan
	}
	return nil
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newCountdown() *countdown {
	c := &countdown{Context: context.Background()}
	c.left.Store(1 << 40)
	return c
}

// Once the call's context is done, reads, writes, listings, truncation,
// syncing, opens and renames fail with EINTR and change nothing.
func TestStoppedCallFailsWithEINTR(t *testing.T) {
	l := NewLayout(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, f := mountCall(t, NewShared(0), ctx, 0, l.Mnt, true)
	file, errno := f.OpenFile("in.txt", rdwr, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	dirFile, errno := f.OpenFile("sub", rdonly|dir, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	cancel()
	buf := make([]byte, 16)
	for name, op := range map[string]func() experimentalsys.Errno{
		"read":        func() experimentalsys.Errno { _, errno := file.Read(buf); return errno },
		"pread":       func() experimentalsys.Errno { _, errno := file.Pread(buf, 0); return errno },
		"write":       func() experimentalsys.Errno { _, errno := file.Write(buf); return errno },
		"empty write": func() experimentalsys.Errno { _, errno := file.Write(nil); return errno },
		"pwrite":      func() experimentalsys.Errno { _, errno := file.Pwrite(buf, 0); return errno },
		"readdir":     func() experimentalsys.Errno { _, errno := dirFile.Readdir(10); return errno },
		"truncate":    func() experimentalsys.Errno { return file.Truncate(0) },
		"sync":        func() experimentalsys.Errno { return file.Sync() },
		"datasync":    func() experimentalsys.Errno { return file.Datasync() },
		"open":        func() experimentalsys.Errno { _, errno := f.OpenFile("in.txt", rdonly, 0); return errno },
		"rename":      func() experimentalsys.Errno { return f.Rename("in.txt", "moved.txt") },
	} {
		if errno := op(); errno != experimentalsys.EINTR {
			t.Errorf("%s after the call stopped = %v, want EINTR", name, errno)
		}
	}
	if b, err := os.ReadFile(filepath.Join(l.Mnt, "in.txt")); err != nil || string(b) != "inside" {
		t.Errorf("in.txt = %q, %v after a stopped call; want it unchanged", b, err)
	}
}

// A read or write larger than a chunk is done a chunk at a time, checking
// the call between two; one stopped midway returns what it moved.
func TestLongIOStopsBetweenChunks(t *testing.T) {
	l := NewLayout(t)
	ctx := newCountdown()
	_, f := mountCall(t, NewShared(0), ctx, 0, l.Mnt, true)
	file, errno := f.OpenFile("big", rdwr|creat|trunc, 0o644)
	if errno != 0 {
		t.Fatal(errno)
	}
	big := make([]byte, 3*chunkSize+chunkSize/2)
	for i := range big {
		big[i] = byte(i)
	}
	type step struct {
		name string
		op   func() (int, experimentalsys.Errno)
		// checks is how many times the call is found running.
		checks int64
		want   int
	}
	for _, s := range []step{
		{"whole write", func() (int, experimentalsys.Errno) { return file.Write(big) }, 1 << 40, len(big)},
		{"whole pread", func() (int, experimentalsys.Errno) { return file.Pread(make([]byte, len(big)+10), 0) }, 1 << 40, len(big)},
		{"whole read at the end", func() (int, experimentalsys.Errno) { return file.Read(make([]byte, 10)) }, 1 << 40, 0},
		{"pwrite stopped after 2 chunks", func() (int, experimentalsys.Errno) { return file.Pwrite(big, 0) }, 2, 2 * chunkSize},
		{"pread stopped after 1 chunk", func() (int, experimentalsys.Errno) { return file.Pread(make([]byte, len(big)), 0) }, 1, chunkSize},
		{"write stopped after 3 chunks", func() (int, experimentalsys.Errno) { return file.Write(big) }, 3, 3 * chunkSize},
		{"write stopped before it began", func() (int, experimentalsys.Errno) { return file.Write(big) }, 0, 0},
	} {
		ctx.left.Store(s.checks)
		n, errno := s.op()
		wantErrno := experimentalsys.Errno(0)
		if s.checks == 0 {
			wantErrno = experimentalsys.EINTR
		}
		if n != s.want || errno != wantErrno {
			t.Errorf("%s: %d, %v; want %d, %v", s.name, n, errno, s.want, wantErrno)
		}
	}
	// A read stopped midway: rewind, then read with 2 checks.
	ctx.left.Store(1 << 40)
	if _, errno := file.Seek(0, 0); errno != 0 {
		t.Fatal(errno)
	}
	ctx.left.Store(2)
	buf := make([]byte, len(big))
	if n, errno := file.Read(buf); n != 2*chunkSize || errno != 0 {
		t.Errorf("read stopped after 2 chunks: %d, %v", n, errno)
	}
	ctx.left.Store(1 << 40)
	st, _ := file.Stat()
	if st.Size != int64(len(big)+3*chunkSize) {
		t.Errorf("size %d, want %d", st.Size, len(big)+3*chunkSize)
	}
}

// Readdir reads a large directory direntChunk entries at a time: all of
// them when the call runs, EINTR when it stops midway.
func TestReaddirInChunks(t *testing.T) {
	l := NewLayout(t)
	big := filepath.Join(l.Mnt, "big")
	if err := os.Mkdir(big, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 2*direntChunk + 100
	for i := range n {
		if err := os.WriteFile(filepath.Join(big, fmt.Sprintf("f%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := newCountdown()
	_, f := mountCall(t, NewShared(0), ctx, 0, l.Mnt, false)
	d, errno := f.OpenFile("big", rdonly|dir, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	got, errno := d.Readdir(n + 10)
	if errno != 0 || len(got) != n {
		t.Fatalf("Readdir(%d) = %d entries, %v; want %d", n+10, len(got), errno, n)
	}
	d.Seek(0, 0)
	first, errno := d.Readdir(direntChunk + 1)
	rest, errno2 := d.Readdir(n)
	if errno != 0 || errno2 != 0 || len(first) != direntChunk+1 || len(rest) != n-direntChunk-1 {
		t.Errorf("Readdir in two parts: %d, %v then %d, %v", len(first), errno, len(rest), errno2)
	}
	d.Seek(0, 0)
	ctx.left.Store(2)
	if got, errno := d.Readdir(n); errno != experimentalsys.EINTR {
		t.Errorf("Readdir stopped after 2 chunks = %d entries, %v; want EINTR", len(got), errno)
	}
}

// BenchmarkChunkWrite measures the cost of one chunk, the longest a write
// runs past the call's deadline.
func BenchmarkChunkWrite(b *testing.B) {
	dir := b.TempDir()
	_, f := mountCallB(b, dir)
	file, errno := f.OpenFile("big", rdwr|creat|trunc, 0o644)
	if errno != 0 {
		b.Fatal(errno)
	}
	buf := make([]byte, chunkSize)
	b.SetBytes(chunkSize)
	var worst time.Duration
	for i := 0; b.Loop(); i++ {
		began := time.Now()
		if _, errno := file.Pwrite(buf, int64(i%64)*chunkSize); errno != 0 {
			b.Fatal(errno)
		}
		worst = max(worst, time.Since(began))
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}

func mountCallB(b *testing.B, dir string) (*Call, *FS) {
	c := NewShared(0).NewCall(context.Background(), 0)
	f, err := c.Mount(dir, true)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, f
}
