//go:build unix

package files

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

const (
	rdonly = experimentalsys.O_RDONLY
	wronly = experimentalsys.O_WRONLY
	rdwr   = experimentalsys.O_RDWR
	creat  = experimentalsys.O_CREAT
	trunc  = experimentalsys.O_TRUNC
	excl   = experimentalsys.O_EXCL
	appnd  = experimentalsys.O_APPEND
	nofoll = experimentalsys.O_NOFOLLOW
	dir    = experimentalsys.O_DIRECTORY
)

func newFS(t *testing.T, l Layout, writable bool) *FS {
	t.Helper()
	f, err := New(l.Mnt, writable)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readAll opens p and reads it whole, or returns the errno of the step
// that failed.
func readAll(f *FS, p string) (string, experimentalsys.Errno) {
	file, errno := f.OpenFile(p, rdonly, 0)
	if errno != 0 {
		return "", errno
	}
	defer file.Close()
	var b strings.Builder
	buf := make([]byte, 64)
	for {
		n, errno := file.Read(buf)
		if errno != 0 {
			return "", errno
		}
		if n == 0 {
			return b.String(), 0
		}
		b.Write(buf[:n])
	}
}

// mustRead reads a file that must be readable: after every refusal, the
// file system must still serve normal requests.
func mustRead(t *testing.T, f *FS, p, want string) {
	t.Helper()
	got, errno := readAll(f, p)
	if errno != 0 || got != want {
		t.Fatalf("read %s = %q, %v; want %q", p, got, errno, want)
	}
}

func TestNewFailsOnMissingOrFile(t *testing.T) {
	l := NewLayout(t)
	for _, p := range []string{filepath.Join(l.Base, "nope"), filepath.Join(l.Mnt, "in.txt")} {
		if f, err := New(p, false); err == nil {
			f.Close()
			t.Errorf("New(%s) succeeded; want an error", p)
		}
	}
}

// Every way to name something outside the root fails, whatever the flags,
// and never yields the secret.
func TestEscapesAreRefused(t *testing.T) {
	l := NewLayout(t)
	before := Snapshot(t, l.Base)
	for _, writable := range []bool{false, true} {
		f := newFS(t, l, writable)
		for _, p := range []string{
			"..", "../outside/secret.txt", "sub/../../outside/secret.txt", "./../outside/secret.txt",
			"/etc/passwd", "/" + strings.TrimPrefix(l.Secret, "/"), l.Secret,
			"abs", "rel", "sub/up", "chain1", "chain2",
			"dirlink/secret.txt", "reldir/secret.txt", "dirlink", "reldir", "dangling",
			"dirlink/", "reldir/./secret.txt", "sub/up/", "abs/",
		} {
			for _, flag := range []experimentalsys.Oflag{rdonly, rdonly | dir, rdonly | nofoll} {
				if file, errno := f.OpenFile(p, flag, 0); errno == 0 {
					file.Close()
					t.Errorf("writable=%v: OpenFile(%q, %v) succeeded; want it refused", writable, p, flag)
				}
			}
			if _, errno := f.Stat(p); errno == 0 {
				t.Errorf("writable=%v: Stat(%q) succeeded; want it refused", writable, p)
			}
			if writable {
				for _, flag := range []experimentalsys.Oflag{wronly | creat | trunc, rdwr | creat, wronly | appnd, wronly | creat | excl} {
					if file, errno := f.OpenFile(p, flag, 0o644); errno == 0 {
						file.Close()
						t.Errorf("OpenFile(%q, %v) for writing succeeded; want it refused", p, flag)
					}
				}
			}
		}
		mustRead(t, f, "in.txt", "inside")
	}
	SameSnapshot(t, "escape attempts", before, Snapshot(t, l.Base))
}

// The errno for a path leaving the root is EPERM, as wazero answers for
// paths it refuses itself; this also notices if os.Root changes its error.
func TestEscapeErrno(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, false)
	for _, p := range []string{"../outside/secret.txt", "abs", "rel", "chain1", "dirlink/secret.txt"} {
		if _, errno := f.OpenFile(p, rdonly, 0); errno != experimentalsys.EPERM {
			t.Errorf("OpenFile(%q) = %v; want EPERM", p, errno)
		}
	}
}

func TestLinksInsideAreFollowed(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, false)
	mustRead(t, f, "okchain", "inside")
	mustRead(t, f, "sub/okup", "inside")
	mustRead(t, f, "sub/../in.txt", "inside")
	if st, errno := f.Stat("okchain"); errno != 0 || !st.Mode.IsRegular() || st.Size != int64(len("inside")) {
		t.Errorf("Stat(okchain) = %+v, %v; want the regular file in.txt", st, errno)
	}
	// Lstat describes a link itself, even one pointing out.
	for _, p := range []string{"abs", "rel", "okchain", "dirlink"} {
		if st, errno := f.Lstat(p); errno != 0 || st.Mode&fs.ModeSymlink == 0 {
			t.Errorf("Lstat(%q) = %v, %v; want a symbolic link", p, st.Mode, errno)
		}
	}
	// Readlink reports the text, absolute or not; it reads nothing outside.
	if target, errno := f.Readlink("abs"); errno != 0 || target != l.Secret {
		t.Errorf("Readlink(abs) = %q, %v; want %q", target, errno, l.Secret)
	}
	// The root itself, however named.
	for _, p := range []string{"", ".", "./", "sub/.."} {
		d, errno := f.OpenFile(p, rdonly|dir, 0)
		if errno != 0 {
			t.Errorf("OpenFile(%q) = %v; want the root", p, errno)
			continue
		}
		if isDir, _ := d.IsDir(); !isDir {
			t.Errorf("OpenFile(%q) is not a directory", p)
		}
		d.Close()
	}
}

func TestSymlinkLoopIsELOOP(t *testing.T) {
	l := NewLayout(t)
	for _, pair := range [][2]string{{"loop1", "loop2"}, {"loop2", "loop1"}} {
		if err := os.Symlink(pair[1], filepath.Join(l.Mnt, pair[0])); err != nil {
			t.Fatal(err)
		}
	}
	f := newFS(t, l, true)
	if _, errno := f.OpenFile("loop1", rdonly, 0); errno != experimentalsys.ELOOP {
		t.Errorf("OpenFile(loop1) = %v; want ELOOP", errno)
	}
	if _, errno := f.OpenFile("loop1", wronly|creat, 0o644); errno != experimentalsys.ELOOP {
		t.Errorf("OpenFile(loop1, create) = %v; want ELOOP", errno)
	}
	mustRead(t, f, "in.txt", "inside")
}

// os.Root ignores O_NOFOLLOW (it follows links inside the root anyway);
// FS honours it for the last component, as WASI expects when a guest does
// not ask to follow links.
func TestNoFollow(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	for _, p := range []string{"okchain", "sub/okup", "abs", "rel", "dirlink", "okchain/"} {
		if file, errno := f.OpenFile(p, rdonly|nofoll, 0); errno == 0 {
			file.Close()
			t.Errorf("OpenFile(%q, O_NOFOLLOW) succeeded; want ELOOP or ENOTDIR", p)
		}
	}
	if _, errno := f.OpenFile("okchain", rdonly|nofoll, 0); errno != experimentalsys.ELOOP {
		t.Errorf("OpenFile(okchain, O_NOFOLLOW) = %v; want ELOOP", errno)
	}
	// Links in earlier components are still followed (inside the root).
	if err := os.Symlink("sub", filepath.Join(l.Mnt, "sublink")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sublink/deep.txt", "sub/deep.txt", "sub/../sub/deep.txt"} {
		file, errno := f.OpenFile(p, rdonly|nofoll, 0)
		if errno != 0 {
			t.Errorf("OpenFile(%q, O_NOFOLLOW) = %v; want the file", p, errno)
			continue
		}
		file.Close()
	}
	// Writing with O_NOFOLLOW through a link pointing out creates nothing.
	if _, errno := f.OpenFile("dangling", wronly|creat|nofoll, 0o644); errno == 0 {
		t.Error("OpenFile(dangling, O_CREAT|O_NOFOLLOW) succeeded")
	}
	// Directories and the root open without following.
	for _, p := range []string{".", "sub", "sub/", "emptydir"} {
		file, errno := f.OpenFile(p, rdonly|dir|nofoll, 0)
		if errno != 0 {
			t.Errorf("OpenFile(%q, O_DIRECTORY|O_NOFOLLOW) = %v", p, errno)
			continue
		}
		file.Close()
	}
	if _, err := os.Stat(filepath.Join(l.Outside, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("a file appeared outside: %v", err)
	}
	mustRead(t, f, "in.txt", "inside")
}

// mutations are every change a read-only FS must refuse, with the errno it
// must answer.
func mutations(f *FS) map[string]func() experimentalsys.Errno {
	open := func(p string, flag experimentalsys.Oflag) func() experimentalsys.Errno {
		return func() experimentalsys.Errno {
			file, errno := f.OpenFile(p, flag, 0o644)
			if errno == 0 {
				file.Close()
			}
			return errno
		}
	}
	return map[string]func() experimentalsys.Errno{
		"open O_WRONLY":             open("in.txt", wronly),
		"open O_RDWR":               open("in.txt", rdwr),
		"open O_RDONLY|O_TRUNC":     open("in.txt", rdonly|trunc),
		"open O_RDONLY|O_CREAT":     open("new.txt", rdonly|creat),
		"open O_RDONLY|O_CREAT ex":  open("in.txt", rdonly|creat),
		"open O_CREAT|O_EXCL":       open("new.txt", rdonly|creat|excl),
		"open O_RDONLY|O_APPEND":    open("in.txt", rdonly|appnd),
		"open O_WRONLY|O_TRUNC":     open("in.txt", wronly|trunc),
		"open dir O_RDONLY|O_TRUNC": open("sub", rdonly|trunc),
		"open O_TRUNC via link":     open("okchain", rdonly|trunc),
		"open O_TRUNC via abs link": open("abs", rdonly|trunc),
		"open O_CREAT via dangling": open("dangling", wronly|creat),
		"mkdir":                     func() experimentalsys.Errno { return f.Mkdir("newdir", 0o755) },
		"mkdir existing":            func() experimentalsys.Errno { return f.Mkdir("sub", 0o755) },
		"chmod":                     func() experimentalsys.Errno { return f.Chmod("in.txt", 0o777) },
		"chmod via link":            func() experimentalsys.Errno { return f.Chmod("abs", 0o777) },
		"rename":                    func() experimentalsys.Errno { return f.Rename("in.txt", "moved.txt") },
		"rename over":               func() experimentalsys.Errno { return f.Rename("in.txt", "sub/deep.txt") },
		"rmdir":                     func() experimentalsys.Errno { return f.Rmdir("emptydir") },
		"unlink":                    func() experimentalsys.Errno { return f.Unlink("in.txt") },
		"unlink link":               func() experimentalsys.Errno { return f.Unlink("abs") },
		"link":                      func() experimentalsys.Errno { return f.Link("in.txt", "hard.txt") },
		"symlink":                   func() experimentalsys.Errno { return f.Symlink("in.txt", "soft") },
		"symlink out":               func() experimentalsys.Errno { return f.Symlink(filepath.Dir(f.dir), "soft") },
		"utimens":                   func() experimentalsys.Errno { return f.Utimens("in.txt", 0, 0) },
		"utimens omit both": func() experimentalsys.Errno {
			return f.Utimens("in.txt", experimentalsys.UTIME_OMIT, experimentalsys.UTIME_OMIT)
		},
		"utimens via link":           func() experimentalsys.Errno { return f.Utimens("okchain", 0, 0) },
		"open O_NOFOLLOW|O_WRONLY":   open("in.txt", wronly|nofoll),
		"open O_DIRECTORY|O_RDWR":    open("sub", rdwr|dir),
		"open O_EXCL alone":          open("in.txt", rdonly|excl),
		"open O_APPEND|O_CREAT":      open("new.txt", appnd|creat),
		"open O_TRUNC|O_NOFOLLOW":    open("in.txt", rdonly|trunc|nofoll),
		"open O_WRONLY on the root":  open(".", wronly),
		"open O_CREAT in subdir":     open("sub/new.txt", wronly|creat),
		"open O_CREAT|O_TRUNC|RDWR":  open("sub/deep.txt", rdwr|creat|trunc),
		"open O_RDONLY|O_TRUNC deep": open("sub/deep.txt", rdonly|trunc),
	}
}

func TestReadOnlyRefusesEveryChange(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, false)
	before := Snapshot(t, l.Base)
	for name, m := range mutations(f) {
		if errno := m(); errno != experimentalsys.EROFS {
			t.Errorf("%s on a read-only FS = %v; want EROFS", name, errno)
		}
	}
	SameSnapshot(t, "changes on a read-only FS", before, Snapshot(t, l.Base))
	mustRead(t, f, "in.txt", "inside")
}

// A file opened from a read-only FS refuses writes through its descriptor
// too, including setting its times, which the kernel would allow on a
// descriptor opened read-only.
func TestReadOnlyFileRefusesWrites(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, false)
	before := Snapshot(t, l.Base)
	file, errno := f.OpenFile("in.txt", rdonly, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer file.Close()
	if _, errno := file.Write([]byte("x")); errno != experimentalsys.EBADF {
		t.Errorf("Write = %v; want EBADF", errno)
	}
	if _, errno := file.Pwrite([]byte("x"), 0); errno != experimentalsys.EBADF {
		t.Errorf("Pwrite = %v; want EBADF", errno)
	}
	if errno := file.Truncate(0); errno != experimentalsys.EBADF {
		t.Errorf("Truncate = %v; want EBADF", errno)
	}
	if errno := file.Utimens(0, 0); errno != experimentalsys.EROFS {
		t.Errorf("Utimens = %v; want EROFS", errno)
	}
	if errno := file.SetAppend(true); errno != experimentalsys.EBADF {
		t.Errorf("SetAppend(true) = %v; want EBADF", errno)
	}
	d, errno := f.OpenFile(".", rdonly|dir, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer d.Close()
	if errno := d.Utimens(0, 0); errno != experimentalsys.EROFS {
		t.Errorf("Utimens on the root = %v; want EROFS", errno)
	}
	SameSnapshot(t, "writes through a read-only descriptor", before, Snapshot(t, l.Base))
	buf := make([]byte, 6)
	if n, errno := file.Pread(buf, 0); errno != 0 || string(buf[:n]) != "inside" {
		t.Errorf("Pread after the refusals = %q, %v", buf[:n], errno)
	}
}

func TestWritableOperations(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	check := func(what string, errno experimentalsys.Errno) {
		t.Helper()
		if errno != 0 {
			t.Fatalf("%s: %v", what, errno)
		}
	}
	file, errno := f.OpenFile("new.txt", wronly|creat|excl, 0o640)
	check("create", errno)
	_, errno = file.Write([]byte("hello world"))
	check("write", errno)
	_, errno = file.Pwrite([]byte("HELLO"), 0)
	check("pwrite", errno)
	check("truncate", file.Truncate(8))
	check("sync", file.Sync())
	check("datasync", file.Datasync())
	check("utimens", file.Utimens(2_000_000_000_000_000_000, experimentalsys.UTIME_OMIT))
	check("close", file.Close())
	mustRead(t, f, "new.txt", "HELLO wo")
	if st, _ := f.Stat("new.txt"); st.Atim != 2_000_000_000_000_000_000 || st.Mode.Perm() != 0o640&^umask() {
		t.Errorf("new.txt: atime %d, mode %v", st.Atim, st.Mode)
	}
	if _, errno := f.OpenFile("new.txt", wronly|creat|excl, 0o644); errno != experimentalsys.EEXIST {
		t.Errorf("exclusive create of an existing file = %v; want EEXIST", errno)
	}

	file, errno = f.OpenFile("new.txt", wronly|appnd, 0)
	check("open append", errno)
	if !file.IsAppend() {
		t.Error("IsAppend = false after O_APPEND")
	}
	_, errno = file.Write([]byte("!"))
	check("append", errno)
	check("append off", file.SetAppend(false))
	_, errno = file.Pwrite([]byte("h"), 0)
	check("pwrite after append off", errno)
	check("close", file.Close())
	mustRead(t, f, "new.txt", "hELLO wo!")

	check("mkdir", f.Mkdir("d", 0o755))
	if errno := f.Mkdir("d", 0o755); errno != experimentalsys.EEXIST {
		t.Errorf("mkdir existing = %v; want EEXIST", errno)
	}
	if errno := f.Mkdir("nope/d", 0o755); errno != experimentalsys.ENOENT {
		t.Errorf("mkdir in a missing directory = %v; want ENOENT", errno)
	}
	check("rename", f.Rename("new.txt", "d/moved.txt"))
	check("link", f.Link("d/moved.txt", "hard.txt"))
	check("symlink", f.Symlink("d/moved.txt", "soft"))
	mustRead(t, f, "soft", "hELLO wo!")
	check("link a link inside", f.Link("soft", "soft2"))
	if st, errno := f.Lstat("soft2"); errno != 0 || st.Mode&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(soft2) = %v, %v; want a link", st.Mode, errno)
	}
	check("unlink link", f.Unlink("soft2"))
	mustRead(t, f, "hard.txt", "hELLO wo!")
	if st, _ := f.Stat("hard.txt"); st.Nlink != 2 {
		t.Errorf("hard link count = %d; want 2", st.Nlink)
	}
	check("chmod", f.Chmod("hard.txt", 0o600|fs.ModeSetuid))
	if info, _ := os.Stat(filepath.Join(l.Mnt, "hard.txt")); info.Mode() != 0o600 {
		t.Errorf("mode after chmod = %v; want -rw------- (no setuid)", info.Mode())
	}
	check("utimens path", f.Utimens("soft", experimentalsys.UTIME_OMIT, 3_000_000_000_000_000_000))
	if st, _ := f.Stat("hard.txt"); st.Mtim != 3_000_000_000_000_000_000 {
		t.Errorf("mtime = %d after Utimens through a link", st.Mtim)
	}
	if errno := f.Rmdir("d"); errno != experimentalsys.ENOTEMPTY {
		t.Errorf("rmdir non-empty = %v; want ENOTEMPTY", errno)
	}
	if errno := f.Unlink("d"); errno != experimentalsys.EISDIR {
		t.Errorf("unlink a directory = %v; want EISDIR", errno)
	}
	if errno := f.Rmdir("hard.txt"); errno != experimentalsys.ENOTDIR {
		t.Errorf("rmdir a file = %v; want ENOTDIR", errno)
	}
	if errno := f.Unlink("hard.txt/"); errno != experimentalsys.ENOTDIR {
		t.Errorf("unlink file/ = %v; want ENOTDIR", errno)
	}
	check("unlink link", f.Unlink("soft"))
	check("unlink", f.Unlink("d/moved.txt"))
	check("unlink", f.Unlink("hard.txt"))
	check("rmdir", f.Rmdir("d/"))
	// Unlinking a link pointing out removes the link, not its target.
	check("unlink abs", f.Unlink("abs"))
	if b, err := os.ReadFile(l.Secret); err != nil || string(b) != SecretText {
		t.Errorf("the secret after unlinking a link to it: %q, %v", b, err)
	}
	for _, p := range []string{".", "..", "sub/.."} {
		if errno := f.Rmdir(p); errno == 0 {
			t.Errorf("Rmdir(%q) succeeded", p)
		}
	}
}

func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

// A writable FS changes only what is inside the root.
func TestWritableCannotEscape(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	before := Snapshot(t, l.Outside)
	for name, op := range map[string]func() experimentalsys.Errno{
		"create through ..":             func() experimentalsys.Errno { return create(f, "../outside/x") },
		"create through dangling link":  func() experimentalsys.Errno { return create(f, "dangling") },
		"truncate through link":         func() experimentalsys.Errno { return create(f, "rel") },
		"create in linked dir":          func() experimentalsys.Errno { return create(f, "dirlink/x") },
		"create in rel linked dir":      func() experimentalsys.Errno { return create(f, "reldir/x") },
		"create absolute":               func() experimentalsys.Errno { return create(f, filepath.Join(l.Outside, "x")) },
		"mkdir out":                     func() experimentalsys.Errno { return f.Mkdir("../outside/d", 0o755) },
		"mkdir in linked dir":           func() experimentalsys.Errno { return f.Mkdir("dirlink/d", 0o755) },
		"rename in to out":              func() experimentalsys.Errno { return f.Rename("in.txt", "../outside/in.txt") },
		"rename in to linked dir":       func() experimentalsys.Errno { return f.Rename("in.txt", "reldir/in.txt") },
		"rename out to in":              func() experimentalsys.Errno { return f.Rename("../outside/secret.txt", "stolen") },
		"rename linked out to in":       func() experimentalsys.Errno { return f.Rename("dirlink/secret.txt", "stolen") },
		"rename over outside":           func() experimentalsys.Errno { return f.Rename("in.txt", "dirlink/secret.txt") },
		"link out to in":                func() experimentalsys.Errno { return f.Link("../outside/secret.txt", "stolen") },
		"link linked out to in":         func() experimentalsys.Errno { return f.Link("dirlink/secret.txt", "stolen") },
		"link in to out":                func() experimentalsys.Errno { return f.Link("in.txt", "reldir/planted") },
		"link a link out (absolute)":    func() experimentalsys.Errno { return f.Link("abs", "stolen") },
		"link a link out (relative)":    func() experimentalsys.Errno { return f.Link("rel", "stolen") },
		"link a link out in a subdir":   func() experimentalsys.Errno { return f.Link("sub/up", "stolen") },
		"unlink out":                    func() experimentalsys.Errno { return f.Unlink("../outside/secret.txt") },
		"unlink in linked dir":          func() experimentalsys.Errno { return f.Unlink("dirlink/secret.txt") },
		"rmdir out":                     func() experimentalsys.Errno { return f.Rmdir("../outside/dir") },
		"rmdir in linked dir":           func() experimentalsys.Errno { return f.Rmdir("reldir/dir") },
		"chmod out":                     func() experimentalsys.Errno { return f.Chmod("../outside/secret.txt", 0o777) },
		"chmod through link":            func() experimentalsys.Errno { return f.Chmod("abs", 0o777) },
		"chmod through rel link":        func() experimentalsys.Errno { return f.Chmod("rel", 0o777) },
		"utimens through link":          func() experimentalsys.Errno { return f.Utimens("abs", 0, 0) },
		"utimens through chain":         func() experimentalsys.Errno { return f.Utimens("chain1", 0, 0) },
		"symlink in linked dir":         func() experimentalsys.Errno { return f.Symlink("x", "dirlink/planted") },
		"symlink absolute target":       func() experimentalsys.Errno { return f.Symlink(l.Secret, "evil1") },
		"symlink .. target":             func() experimentalsys.Errno { return f.Symlink("../outside/secret.txt", "evil2") },
		"symlink inner .. target":       func() experimentalsys.Errno { return f.Symlink("sub/../../outside/secret.txt", "evil3") },
		"symlink .. that stays inside":  func() experimentalsys.Errno { return f.Symlink("../in.txt", "sub/evil") },
		"symlink empty target":          func() experimentalsys.Errno { return f.Symlink("", "evil4") },
		"symlink NUL target":            func() experimentalsys.Errno { return f.Symlink("a\x00b", "evil5") },
		"symlink named outside":         func() experimentalsys.Errno { return f.Symlink("x", "../outside/planted") },
		"open O_TRUNC through dir link": func() experimentalsys.Errno { return create(f, "dirlink/secret.txt") },
	} {
		if errno := op(); errno == 0 {
			t.Errorf("%s succeeded; want it refused", name)
		}
	}
	SameSnapshot(t, "escape attempts on a writable FS", before, Snapshot(t, l.Outside))
	for _, p := range []string{"evil1", "evil2", "evil3", "evil4", "evil5", "sub/evil", "stolen"} {
		if _, err := os.Lstat(filepath.Join(l.Mnt, p)); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	mustRead(t, f, "in.txt", "inside")
}

func create(f *FS, p string) experimentalsys.Errno {
	file, errno := f.OpenFile(p, wronly|creat|trunc, 0o644)
	if errno != 0 {
		return errno
	}
	file.Write([]byte("pwned"))
	file.Close()
	return 0
}

func TestSafeLinkTarget(t *testing.T) {
	for target, want := range map[string]bool{
		"a": true, "a/b": true, "./a": true, "a/./b": true, "a/": true, ".": true, "...": true, "..a": true,
		"": false, "/": false, "/etc/passwd": false, "..": false, "../a": false, "a/../b": false,
		"a/..": false, "./..": false, "a\x00": false, "a//../b": false,
	} {
		if got := SafeLinkTarget(target); got != want {
			t.Errorf("SafeLinkTarget(%q) = %v; want %v", target, got, want)
		}
	}
}

// Devices, FIFOs and sockets are refused: opening or reading them could
// block the host past the call's deadline.
func TestSpecialFilesAreRefused(t *testing.T) {
	l := NewLayout(t)
	fifo := filepath.Join(l.Mnt, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f := newFS(t, l, true)
	done := make(chan experimentalsys.Errno, 1)
	go func() {
		_, errno := f.OpenFile("fifo", rdonly, 0)
		done <- errno
	}()
	select {
	case errno := <-done:
		if errno != experimentalsys.EACCES {
			t.Errorf("OpenFile(fifo) = %v; want EACCES", errno)
		}
	case <-time.After(time.Minute):
		t.Fatal("opening a FIFO blocked")
	}
	if _, errno := f.OpenFile("fifo", wronly, 0); errno == 0 {
		t.Error("OpenFile(fifo, O_WRONLY) succeeded")
	}
	if st, errno := f.Lstat("fifo"); errno != 0 || st.Mode&fs.ModeNamedPipe == 0 {
		t.Errorf("Lstat(fifo) = %v, %v", st.Mode, errno)
	}
	mustRead(t, f, "in.txt", "inside")
}

func TestReaddir(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	d, errno := f.OpenFile(".", rdonly|dir, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer d.Close()
	names := func(n int) []string {
		t.Helper()
		dirents, errno := d.Readdir(n)
		if errno != 0 {
			t.Fatal(errno)
		}
		var out []string
		for _, e := range dirents {
			st, errno := f.Lstat(e.Name)
			if errno != 0 || st.Ino != e.Ino || st.Mode.Type() != e.Type {
				t.Errorf("dirent %s: ino %d type %v; Lstat says ino %d type %v (%v)", e.Name, e.Ino, e.Type, st.Ino, st.Mode.Type(), errno)
			}
			out = append(out, e.Name)
		}
		slices.Sort(out)
		return out
	}
	want := []string{"abs", "chain1", "chain2", "dangling", "dirlink", "emptydir", "in.txt", "okchain", "rel", "reldir", "sub"}
	first := names(3)
	rest := names(0)
	if got := slices.Sorted(slices.Values(append(first, rest...))); !slices.Equal(got, want) {
		t.Errorf("entries = %v; want %v", got, want)
	}
	if more := names(5); len(more) != 0 {
		t.Errorf("after the end: %v", more)
	}
	// A rewind starts over and sees entries created since.
	if errno := create(f, "late.txt"); errno != 0 {
		t.Fatal(errno)
	}
	if _, errno := d.Seek(0, io.SeekStart); errno != 0 {
		t.Fatal(errno)
	}
	if got := names(0); !slices.Contains(got, "late.txt") || len(got) != len(want)+1 {
		t.Errorf("entries after rewind = %v", got)
	}
	if _, errno := d.Seek(1, io.SeekStart); errno != experimentalsys.EISDIR {
		t.Errorf("Seek(1) on a directory = %v; want EISDIR", errno)
	}
	file, errno := f.OpenFile("in.txt", rdonly, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer file.Close()
	if _, errno := file.Readdir(1); errno != experimentalsys.EBADF {
		t.Errorf("Readdir on a file = %v; want EBADF", errno)
	}
	if _, errno := d.Read(make([]byte, 1)); errno != experimentalsys.EISDIR {
		t.Errorf("Read on a directory = %v; want EISDIR", errno)
	}
}

func TestFileAfterClose(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	file, errno := f.OpenFile("in.txt", rdwr, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := file.Close(); errno != 0 {
		t.Fatal(errno)
	}
	if errno := file.Close(); errno != 0 {
		t.Errorf("second Close = %v", errno)
	}
	if _, errno := file.Read(make([]byte, 1)); errno != experimentalsys.EBADF {
		t.Errorf("Read after Close = %v; want EBADF", errno)
	}
	if _, errno := file.Write([]byte("x")); errno != experimentalsys.EBADF {
		t.Errorf("Write after Close = %v; want EBADF", errno)
	}
	if _, errno := file.Stat(); errno != experimentalsys.EBADF {
		t.Errorf("Stat after Close = %v; want EBADF", errno)
	}
	// Files stay usable after the FS is closed; the FS itself does not.
	file, errno = f.OpenFile("in.txt", rdonly, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer file.Close()
	f.Close()
	if n, errno := file.Read(make([]byte, 6)); errno != 0 || n != 6 {
		t.Errorf("Read after FS.Close = %d, %v", n, errno)
	}
	if _, errno := f.OpenFile("in.txt", rdonly, 0); errno == 0 {
		t.Error("OpenFile after FS.Close succeeded")
	}
}

// An FS is used by concurrent calls when a grant is shared; every
// operation is safe from several goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	l := NewLayout(t)
	f := newFS(t, l, true)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 50 {
				p := filepath.Join("sub", string(rune('a'+i)))
				if errno := create(f, p); errno != 0 {
					t.Error(errno)
					return
				}
				if _, errno := readAll(f, "okchain"); errno != 0 {
					t.Error(errno)
					return
				}
				if _, errno := f.OpenFile("abs", rdonly, 0); errno == 0 {
					t.Error("escape succeeded under concurrency")
					return
				}
				if j%2 == 0 {
					f.Unlink(p)
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func BenchmarkNewClose(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		f, err := New(dir, true)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
