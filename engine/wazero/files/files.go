//go:build unix

// Package files gives a guest a host directory that it cannot leave.
//
// New returns an FS (wazero's experimental/sys.FS) rooted with os.Root: every
// path the guest names, and every symbolic link met while resolving it, is
// resolved inside the directory. A ".." past the top, an absolute path, or a
// symbolic link that points outside (absolute, or relative but climbing out)
// fails with EPERM instead of reaching the host. wazero's own
// WithDirMount/WithReadOnlyDirMount follow such links out to the host; this
// package exists so that no mount does.
//
// A read-only FS (writable false) refuses every change before it reaches the
// operating system: opening with any write, create, truncate or append flag,
// rename, unlink, rmdir, mkdir, chmod, link, symlink and setting times all
// fail with EROFS, and files it opens are opened read-only, so the kernel
// refuses writes too.
//
// What an FS does not contain, by design or because it cannot:
//
//   - Hard links the host operator made inside the directory to files outside
//     it share those files' contents; os.Root sees an ordinary file. A guest
//     can only create hard links between names inside the directory.
//   - Symbolic links the operator made are never followed out, but Readlink
//     reports their target text, absolute or not.
//   - Mount points and bind mounts inside the directory are crossed, as
//     os.Root documents.
//   - Devices, FIFOs and sockets inside the directory can be listed and
//     stat'ed but not opened (EACCES): opening or reading them can block the
//     host beyond the call's deadline.
//
// A guest on a writable FS may create symbolic links only to relative paths
// without ".." components, so a link it leaves behind cannot lead a host
// program that later walks the directory (one not using os.Root) outside it,
// wherever the link or its directory is later renamed to. A link the
// operator made that breaks this rule cannot be hard-linked to a new name,
// and a rename may not move it, or a directory holding it, to where it would
// point outside (see FS.Rename).
//
// The file systems of one guest call are opened together (Shared.NewCall,
// Call.Mount): they hold a bounded number of descriptors, and stop reading
// and writing once the call's context is done (see Call).
package files

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// FS is a host directory as a wazero file system that cannot be escaped.
// It is safe for concurrent use. Close it when no guest uses it any more;
// files opened from it stay usable until they are closed.
//
// FS implements every method of experimentalsys.FS itself and embeds no
// UnimplementedFS: a method a later wazero adds must be reviewed here before
// this package compiles again, rather than being silently answered.
type FS struct {
	root     *os.Root
	dir      string
	writable bool
	call     *Call
	// rootDev and rootIno identify the root directory, where FS.depth
	// stops climbing.
	rootDev, rootIno uint64
}

var _ experimentalsys.FS = (*FS)(nil)

// New opens hostDir as a file system. Paths are resolved with os.Root, so
// nothing outside hostDir is reachable through it. With writable false the
// file system is read-only (see the package documentation).
//
// New serves a directory outside any call: its files are not counted, never
// interrupted, and its renames are ordered only among themselves. A guest
// call's mounts are opened with Call.Mount.
func New(hostDir string, writable bool) (*FS, error) {
	return NewShared(0).NewCall(context.Background(), 0).Mount(hostDir, writable)
}

func mount(c *Call, hostDir string, writable bool) (*FS, error) {
	root, err := os.OpenRoot(hostDir)
	if err != nil {
		return nil, err
	}
	info, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, err
	}
	st := sys.NewStat_t(info)
	return &FS{root: root, dir: hostDir, writable: writable, call: c, rootDev: st.Dev, rootIno: st.Ino}, nil
}

// Close releases the directory. Files already opened stay open.
func (f *FS) Close() error { return f.root.Close() }

// Writable reports whether the file system accepts changes.
func (f *FS) Writable() bool { return f.writable }

// String returns the host directory, for logs.
func (f *FS) String() string { return f.dir }

// name turns a guest path into a name for os.Root. wazero hands over cleaned
// relative paths, "." for the directory itself, and keeps a trailing slash;
// os.Root refuses "" and anything absolute or leaving the root on its own.
func name(p string) string {
	if p == "" {
		return "."
	}
	return p
}

// writeFlags are the open flags that change a file or the directory.
const writeFlags = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_APPEND |
	experimentalsys.O_CREAT | experimentalsys.O_TRUNC | experimentalsys.O_EXCL

// OpenFile opens a file or directory inside the root. On a read-only FS any
// flag that could change something (write, append, create, exclusive create,
// truncate: O_TRUNC truncates even with O_RDONLY) fails with EROFS. O_NOFOLLOW
// is honoured for the last path component (ELOOP on a symbolic link); links
// in earlier components are followed, inside the root only. Past the call's
// limit of open descriptors, or the shared one, it fails with EAGAIN.
func (f *FS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if !f.writable && flag&writeFlags != 0 {
		return nil, experimentalsys.EROFS
	}
	if f.call.stopped() {
		return nil, experimentalsys.EINTR
	}
	if errno := f.call.reserve(); errno != 0 {
		return nil, errno
	}
	file, errno := f.open(p, flag, perm)
	if errno != 0 {
		f.call.release(nil)
		return nil, errno
	}
	f.call.keep(file)
	return file, 0
}

// open opens a file or directory on a descriptor the call reserved.
func (f *FS) open(p string, flag experimentalsys.Oflag, perm fs.FileMode) (*osFile, experimentalsys.Errno) {
	osFlag := toOSFlag(flag) | syscall.O_NONBLOCK // a FIFO must not block the open
	var file *os.File
	var err error
	if flag&experimentalsys.O_NOFOLLOW != 0 {
		file, err = f.openNoFollow(name(p), osFlag, perm.Perm())
	} else {
		// os.Root opens every component with O_NOFOLLOW itself and
		// resolves links it meets inside the root.
		file, err = f.root.OpenFile(name(p), osFlag, perm.Perm())
	}
	if err != nil {
		return nil, toErrno(err)
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, toErrno(err)
	}
	if t := info.Mode().Type(); t != 0 && t != fs.ModeDir {
		// Devices, FIFOs and sockets: reads and writes on them can block
		// in the host where no deadline reaches.
		file.Close()
		return nil, experimentalsys.EACCES
	}
	st := sys.NewStat_t(info)
	canWrite := flag&(experimentalsys.O_WRONLY|experimentalsys.O_RDWR) != 0
	return &osFile{
		f: file, flag: flag, canWrite: canWrite && f.writable, fsWritable: f.writable,
		st: cached{dev: st.Dev, ino: st.Ino, isDir: info.IsDir()}, call: f.call,
	}, 0
}

// openNoFollow opens name without following a symbolic link in its last
// component. The parent directory is resolved by os.Root; the last component
// is then opened relative to it with O_NOFOLLOW, as os.Root itself does for
// every component.
func (f *FS) openNoFollow(n string, osFlag int, perm fs.FileMode) (*os.File, error) {
	dir, base, slash := split(n)
	if base == "." || base == ".." {
		// Neither can be a symbolic link; os.Root handles both.
		return f.root.OpenFile(n, osFlag, perm)
	}
	if slash {
		// "link/" would make the kernel follow the link: ask for a
		// directory without following instead.
		osFlag |= syscall.O_DIRECTORY
	}
	parent, err := f.root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	fd, err := openat(int(parent.Fd()), base, osFlag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, uint32(perm))
	if err != nil {
		return nil, &os.PathError{Op: "openat", Path: n, Err: err}
	}
	return os.NewFile(uintptr(fd), n), nil
}

// split returns the directory and the last component of a relative path,
// and whether the path ended in a slash. The component has no slash.
func split(n string) (dir, base string, slash bool) {
	trimmed := strings.TrimRight(n, "/")
	slash = trimmed != n
	if trimmed == "" {
		return ".", ".", slash
	}
	dir, base = path.Split(trimmed)
	if dir == "" {
		dir = "."
	}
	return dir, base, slash
}

func openat(dirfd int, name string, flag int, perm uint32) (fd int, err error) {
	for {
		fd, err = unix.Openat(dirfd, name, flag, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// toOSFlag maps wazero's open flags to the host's. O_NOFOLLOW is handled
// by OpenFile itself (os.Root would follow the link regardless).
func toOSFlag(flag experimentalsys.Oflag) int {
	var o int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		o = os.O_RDWR
	case experimentalsys.O_WRONLY:
		o = os.O_WRONLY
	default:
		o = os.O_RDONLY
	}
	for _, m := range []struct {
		from experimentalsys.Oflag
		to   int
	}{
		{experimentalsys.O_APPEND, os.O_APPEND},
		{experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL},
		{experimentalsys.O_SYNC, os.O_SYNC},
		{experimentalsys.O_TRUNC, os.O_TRUNC},
		{experimentalsys.O_DIRECTORY, syscall.O_DIRECTORY},
		{experimentalsys.O_DSYNC, oDSYNC},
		{experimentalsys.O_RSYNC, os.O_SYNC}, // Linux defines O_RSYNC as O_SYNC
		{experimentalsys.O_NONBLOCK, syscall.O_NONBLOCK},
	} {
		if flag&m.from != 0 {
			o |= m.to
		}
	}
	return o
}

// Lstat returns the status of a file without following a symbolic link in
// its last component.
func (f *FS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	info, err := f.root.Lstat(name(p))
	if err != nil {
		return sys.Stat_t{}, toErrno(err)
	}
	return sys.NewStat_t(info), 0
}

// Stat returns the status of a file, following symbolic links inside the
// root; a link leading outside fails with EPERM.
func (f *FS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	info, err := f.root.Stat(name(p))
	if err != nil {
		return sys.Stat_t{}, toErrno(err)
	}
	return sys.NewStat_t(info), 0
}

// Mkdir creates a directory; EROFS on a read-only FS.
func (f *FS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	errno := toErrno(f.root.Mkdir(name(p), perm.Perm()))
	if errno == experimentalsys.ENOTDIR {
		errno = experimentalsys.ENOENT // as wazero's own file systems answer
	}
	return errno
}

// Chmod changes the permission bits (only those: no setuid, setgid or
// sticky bit) of a file, following links inside the root; EROFS on a
// read-only FS. WASI preview 1 has no chmod, so no guest reaches this today.
func (f *FS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	return toErrno(f.root.Chmod(name(p), perm.Perm()))
}

// Rmdir removes an empty directory; EROFS on a read-only FS.
func (f *FS) Rmdir(p string) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	return f.unlinkat(p, unix.AT_REMOVEDIR)
}

// Unlink removes a directory entry that is not a directory (a symbolic
// link itself, never its target); EROFS on a read-only FS.
func (f *FS) Unlink(p string) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	errno := f.unlinkat(p, 0)
	if errno == experimentalsys.EPERM {
		// Linux answers EPERM for unlink on a directory; POSIX and WASI
		// say EISDIR. A refused path is EPERM too, so check which.
		if st, err := f.root.Lstat(name(p)); err == nil && st.IsDir() {
			errno = experimentalsys.EISDIR
		}
	}
	return errno
}

// unlinkat removes the last component of p in its parent directory, which
// os.Root resolves. os.Root's Remove would remove either a file or a
// directory; WASI distinguishes the two.
func (f *FS) unlinkat(p string, flags int) experimentalsys.Errno {
	dir, base, slash := split(name(p))
	if base == "." || base == ".." {
		return experimentalsys.EINVAL
	}
	parent, err := f.root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return toErrno(err)
	}
	defer parent.Close()
	if slash {
		// The kernel does not follow a link for a trailing slash here: it
		// answers ENOTDIR for anything but a directory.
		base += "/"
	}
	for {
		err = unix.Unlinkat(int(parent.Fd()), base, flags)
		if err != syscall.EINTR {
			return toErrno(err)
		}
	}
}

// Link creates newPath as a hard link to oldPath, both inside the root. A
// symbolic link at oldPath is linked itself, not followed; one whose target
// Symlink would refuse (the host operator made it) cannot be linked (EPERM),
// so a guest cannot give it a new name. EROFS on a read-only FS.
func (f *FS) Link(oldPath, newPath string) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	if info, err := f.root.Lstat(name(oldPath)); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		target, err := f.root.Readlink(name(oldPath))
		if err != nil {
			return toErrno(err)
		}
		if !SafeLinkTarget(target) {
			return experimentalsys.EPERM
		}
	}
	return toErrno(f.root.Link(name(oldPath), name(newPath)))
}

// Symlink creates linkName as a symbolic link to target. The target must be
// a relative path with no ".." component (EPERM otherwise): the link then
// points below its own directory wherever it is moved, and cannot lead a
// host program that walks the directory outside it. EROFS on a read-only FS.
func (f *FS) Symlink(target, linkName string) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	if !SafeLinkTarget(target) {
		return experimentalsys.EPERM
	}
	return toErrno(f.root.Symlink(target, name(linkName)))
}

// SafeLinkTarget reports whether a guest may create a symbolic link with
// this target: a non-empty relative path with no ".." component and no NUL.
func SafeLinkTarget(target string) bool {
	if target == "" || strings.HasPrefix(target, "/") || strings.ContainsRune(target, 0) {
		return false
	}
	for _, c := range strings.Split(target, "/") {
		if c == ".." {
			return false
		}
	}
	return true
}

// Readlink returns the target of a symbolic link inside the root, as
// written, whether or not it points inside.
func (f *FS) Readlink(p string) (string, experimentalsys.Errno) {
	target, err := f.root.Readlink(name(p))
	if err != nil {
		return "", toErrno(err)
	}
	return target, 0
}

// Utimens sets the access and modification times of a file (UTIME_OMIT
// keeps one), following links inside the root; EROFS on a read-only FS.
func (f *FS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		_, err := f.root.Stat(name(p))
		return toErrno(err)
	}
	// os.Root.Chtimes leaves a time unchanged when it is the zero Time.
	return toErrno(f.root.Chtimes(name(p), timeOf(atim), timeOf(mtim)))
}

func timeOf(ns int64) time.Time {
	if ns == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// toErrno maps an error from os.Root or an *os.File to an Errno. os.Root
// reports a path that leaves the root (a ".." past the top, an absolute
// path, a link pointing out) with an error that has no errno: that is EPERM,
// as wazero answers for a path that is not valid.
func toErrno(err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return experimentalsys.UnwrapOSError(errno)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return experimentalsys.ENOENT
	case errors.Is(err, fs.ErrExist):
		return experimentalsys.EEXIST
	case errors.Is(err, fs.ErrPermission):
		return experimentalsys.EPERM
	case errors.Is(err, fs.ErrClosed):
		return experimentalsys.EBADF
	case errors.Is(err, fs.ErrInvalid):
		return experimentalsys.EINVAL
	case strings.Contains(err.Error(), "path escapes from parent"):
		return experimentalsys.EPERM
	}
	return experimentalsys.EIO
}
