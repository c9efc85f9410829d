//go:build unix

package files

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

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
