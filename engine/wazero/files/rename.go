//go:build unix

package files

import (
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"golang.org/x/sys/unix"
)

// maxWalk bounds the entries Rename reads in a directory it moves closer to
// the root: reading them takes a few milliseconds.
const maxWalk = 10_000

// maxClimb bounds how far FS.depth climbs: a directory deeper than that is
// taken to be maxClimb deep.
const maxClimb = 1024

// Rename renames a file, directory or symbolic link; both names are inside
// the root. EROFS on a read-only FS.
//
// A rename does not leave a symbolic link pointing outside the root, where
// a host program that later walks the directory without os.Root would
// follow it (the kernel resolves a relative target from the directory the
// link is in):
//
//   - A link moves only to where its target stays inside: a relative target
//     whose ".." components all come first, no more of them than there are
//     directories between the link's new place and the root. A link with
//     an absolute target, or with ".." after a name (whose meaning depends
//     on what that name is when the link is followed), does not move at all
//     (EPERM), as Link refuses to give it a new name.
//   - A directory moved closer to the root is walked first, and the move
//     fails with EPERM if a link inside would then point outside by the
//     same rule, or if the tree holds more than maxWalk entries. A
//     directory moved to the same depth or deeper is not walked: every link
//     in it that pointed inside still does.
//
// Depths are measured from the directories themselves, by climbing ".."
// from their descriptors, not from the names, which links can make look
// deeper or shallower than they are; the rename is then made on those
// descriptors (renameat), so the names cannot be redirected in between.
// The renames of all calls that share a Shared take turns, so none moves a
// link into a tree while another checks it; only renames move the links
// this guards against. A link that another program on the host moves at the
// same time is not covered.
//
// As rename(2) and unlike os.Root, a name with a trailing slash must be a
// directory, not a link to one (ENOTDIR), and a last component "." or ".."
// is EINVAL. As os.Rename, replacing a directory fails with EEXIST.
func (f *FS) Rename(from, to string) experimentalsys.Errno {
	if !f.writable {
		return experimentalsys.EROFS
	}
	unlock, errno := f.call.shared.lockRenames(f.call.ctx)
	if errno != 0 {
		return errno
	}
	defer unlock()
	oldDir, oldBase, oldSlash := split(name(from))
	newDir, newBase, newSlash := split(name(to))
	if isDots(oldBase) || isDots(newBase) {
		return experimentalsys.EINVAL
	}
	oldParent, err := f.root.OpenFile(oldDir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return toErrno(err)
	}
	defer oldParent.Close()
	newParent, err := f.root.OpenFile(newDir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return toErrno(err)
	}
	defer newParent.Close()

	var st, dst unix.Stat_t
	if err := lstatat(oldParent, oldBase, &st); err != nil {
		return toErrno(err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if (oldSlash || newSlash) && !isDir {
		return experimentalsys.ENOTDIR
	}
	if err := lstatat(newParent, newBase, &dst); err == nil && dst.Mode&unix.S_IFMT == unix.S_IFDIR {
		if newBase == oldBase || !sameStat(&st, &dst) {
			return experimentalsys.EEXIST
		}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		errno = f.checkMovedLink(oldParent, oldBase, newParent)
	case unix.S_IFDIR:
		errno = f.checkMovedDir(oldParent, oldBase, newParent)
	}
	if errno != 0 {
		return errno
	}
	for {
		err = unix.Renameat(int(oldParent.Fd()), oldBase, int(newParent.Fd()), newBase)
		if err != syscall.EINTR {
			return toErrno(err)
		}
	}
}

func isDots(base string) bool { return base == "." || base == ".." }

// checkMovedLink fails with EPERM unless the link base in oldParent points
// inside the root once it is in newParent.
func (f *FS) checkMovedLink(oldParent *os.File, base string, newParent *os.File) experimentalsys.Errno {
	target, err := readlinkat(int(oldParent.Fd()), base)
	if err != nil {
		return toErrno(err)
	}
	up, ok := climbs(target)
	if !ok {
		return experimentalsys.EPERM
	}
	if up == 0 {
		return 0
	}
	d, errno := f.depth(newParent, up)
	if errno != 0 {
		return errno
	}
	if d < up {
		return experimentalsys.EPERM
	}
	return 0
}

// checkMovedDir fails with EPERM if the directory base in oldParent, moved
// to newParent, would hold a link pointing outside the root.
func (f *FS) checkMovedDir(oldParent *os.File, base string, newParent *os.File) experimentalsys.Errno {
	same, errno := sameDir(oldParent, newParent)
	if errno != 0 || same {
		return errno
	}
	from, errno := f.depth(oldParent, maxClimb)
	if errno != 0 {
		return errno
	}
	to, errno := f.depth(newParent, maxClimb)
	if errno != 0 {
		return errno
	}
	if to > from || (to == from && to < maxClimb) {
		return 0
	}
	return f.checkTree(oldParent, base, to+1)
}

// climbs returns how many directories a relative link target climbs (its
// leading ".." components), and false for a target that may lead anywhere
// whatever the link's place: absolute, or with ".." after a name.
func climbs(target string) (int, bool) {
	if target == "" || strings.HasPrefix(target, "/") {
		return 0, false
	}
	up, named := 0, false
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if named {
				return 0, false
			}
			up++
		default:
			named = true
		}
	}
	return up, true
}

// depth returns how many directories lie between the root and dir: 0 for
// the root itself, limit if that many or more. It climbs ".." from dir's
// descriptor, so it measures where the directory is, whatever names led to
// it. A directory not under the root fails with EPERM.
func (f *FS) depth(dir *os.File, limit int) (int, experimentalsys.Errno) {
	fd, owned := int(dir.Fd()), -1
	defer func() {
		if owned >= 0 {
			unix.Close(owned)
		}
	}()
	var st, prev unix.Stat_t
	for d := 0; ; d++ {
		if err := unix.Fstat(fd, &st); err != nil {
			return 0, toErrno(err)
		}
		if uint64(st.Dev) == f.rootDev && uint64(st.Ino) == f.rootIno {
			return d, 0
		}
		if d > 0 && sameStat(&st, &prev) {
			return 0, experimentalsys.EPERM // "/": the root was not on the way
		}
		if d >= limit {
			return limit, 0
		}
		if f.call.stopped() {
			return 0, experimentalsys.EINTR
		}
		up, err := openat(fd, "..", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, toErrno(err)
		}
		if owned >= 0 {
			unix.Close(owned)
		}
		fd, owned, prev = up, up, st
	}
}

// checkTree walks the directory base in parent, about to be moved to depth
// top, and fails with EPERM if a symbolic link in it would then point
// outside the root, or if it holds more than maxWalk entries. It opens two
// descriptors at a time; the walk goes by the names read, so a directory
// removed meanwhile (it was empty, then) is skipped.
func (f *FS) checkTree(parent *os.File, base string, top int) experimentalsys.Errno {
	fd, err := openat(int(parent.Fd()), base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return toErrno(err)
	}
	tree := os.NewFile(uintptr(fd), base)
	defer tree.Close()
	type dir struct {
		rel   string
		depth int
	}
	queue := []dir{{".", top}}
	seen := 0
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if f.call.stopped() {
			return experimentalsys.EINTR
		}
		fd, err := openat(int(tree.Fd()), d.rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ELOOP {
			continue
		}
		if err != nil {
			return toErrno(err)
		}
		subdirs, errno := checkDir(os.NewFile(uintptr(fd), d.rel), d.depth, &seen)
		if errno != 0 {
			return errno
		}
		for _, s := range subdirs {
			queue = append(queue, dir{path.Join(d.rel, s), d.depth + 1})
		}
	}
	return 0
}

// checkDir reads the directory dir, at depth depth once moved, and closes
// it. It fails with EPERM on a link that would point outside, or once seen
// passes maxWalk; it returns the names of the subdirectories.
func checkDir(dir *os.File, depth int, seen *int) ([]string, experimentalsys.Errno) {
	defer dir.Close()
	var subdirs []string
	for {
		entries, err := dir.ReadDir(256)
		for _, e := range entries {
			if *seen++; *seen > maxWalk {
				return nil, experimentalsys.EPERM
			}
			switch e.Type() {
			case fs.ModeSymlink:
				target, err := readlinkat(int(dir.Fd()), e.Name())
				if err == unix.ENOENT || err == unix.EINVAL {
					continue // no longer there, or no longer a link
				}
				if err != nil {
					return nil, toErrno(err)
				}
				if up, ok := climbs(target); !ok || up > depth {
					return nil, experimentalsys.EPERM
				}
			case fs.ModeDir:
				subdirs = append(subdirs, e.Name())
			}
		}
		if err == io.EOF || (err == nil && len(entries) == 0) {
			return subdirs, 0
		}
		if err != nil {
			return nil, toErrno(err)
		}
	}
}

func lstatat(dir *os.File, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(int(dir.Fd()), name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err != syscall.EINTR {
			return err
		}
	}
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func sameStat(a, b *unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// sameDir reports whether two open directories are the same one.
func sameDir(a, b *os.File) (bool, experimentalsys.Errno) {
	var sa, sb unix.Stat_t
	if err := unix.Fstat(int(a.Fd()), &sa); err != nil {
		return false, toErrno(err)
	}
	if err := unix.Fstat(int(b.Fd()), &sb); err != nil {
		return false, toErrno(err)
	}
	return sameStat(&sa, &sb), 0
}
