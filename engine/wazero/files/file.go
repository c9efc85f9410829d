//go:build unix

package files

import (
	"io"
	"os"
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// osFile is a file or directory opened by FS. It works on its descriptor
// only: nothing it does resolves a path again, so it cannot be led outside
// the root after it was opened. It is used by one guest instance at a time,
// as wazero's own files are.
//
// One WASI read or write is a loop over the guest's iovec list inside a
// single host call, which the guest's interrupt checks never reach. So
// Read, Pread, Write, Pwrite and Readdir fail with EINTR once the call must
// stop, and split what they are asked into chunks (chunkSize bytes,
// direntChunk entries), checking again between two (a read or write stopped
// after some chunks returns what it moved, as one a signal interrupts): one
// chunk is the most work a guest can make the host do after its deadline.
type osFile struct {
	f    *os.File
	flag experimentalsys.Oflag // as opened, O_APPEND as currently set
	// canWrite is whether the file was opened for writing (never on a
	// read-only FS); fsWritable whether its FS accepts changes.
	canWrite, fsWritable bool
	st                   cached
	closed               bool
	call                 *Call // counts the descriptor and says when to stop
}

// chunkSize is the most one read or write system call moves: 1 MiB, a
// fraction of a millisecond to copy from or into the page cache.
const chunkSize = 1 << 20

// direntChunk is how many entries Readdir reads between two checks; each
// one costs an lstat.
const direntChunk = 1024

var _ experimentalsys.File = (*osFile)(nil)

// cached holds what cannot change while the file is open.
type cached struct {
	dev   uint64
	ino   sys.Inode
	isDir bool
}

// Dev implements experimentalsys.File.
func (f *osFile) Dev() (uint64, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	return f.st.dev, 0
}

// Ino implements experimentalsys.File.
func (f *osFile) Ino() (sys.Inode, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	return f.st.ino, 0
}

// IsDir implements experimentalsys.File.
func (f *osFile) IsDir() (bool, experimentalsys.Errno) {
	if f.closed {
		return false, experimentalsys.EBADF
	}
	return f.st.isDir, 0
}

// IsAppend implements experimentalsys.File.
func (f *osFile) IsAppend() bool { return f.flag&experimentalsys.O_APPEND != 0 }

// SetAppend turns append mode on or off with fcntl on the descriptor (Linux
// and the BSDs allow changing O_APPEND this way), so the file is never
// reopened by name. A file not opened for writing cannot be put in append
// mode (EBADF).
func (f *osFile) SetAppend(enable bool) experimentalsys.Errno {
	if errno := f.check(false); errno != 0 {
		return errno
	}
	if enable && !f.canWrite {
		return experimentalsys.EBADF
	}
	fd := int(f.f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return toErrno(err)
	}
	if enable {
		fl |= unix.O_APPEND
	} else {
		fl &^= unix.O_APPEND
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl); err != nil {
		return toErrno(err)
	}
	if enable {
		f.flag |= experimentalsys.O_APPEND
	} else {
		f.flag &^= experimentalsys.O_APPEND
	}
	return 0
}

// Stat implements experimentalsys.File.
func (f *osFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if f.closed {
		return sys.Stat_t{}, experimentalsys.EBADF
	}
	info, err := f.f.Stat()
	if err != nil {
		return sys.Stat_t{}, toErrno(err)
	}
	return sys.NewStat_t(info), 0
}

// Read implements experimentalsys.File.
func (f *osFile) Read(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 {
		return 0, errno
	}
	if f.call.stopped() {
		return 0, experimentalsys.EINTR
	}
	read := 0
	for read < len(buf) && (read == 0 || !f.call.stopped()) {
		want := min(len(buf)-read, chunkSize)
		n, err := f.f.Read(buf[read : read+want])
		read += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return read, toErrno(err)
		}
		if n < want {
			break // the end of the file, for now
		}
	}
	return read, 0
}

// Pread implements experimentalsys.File.
func (f *osFile) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.check(true); errno != 0 {
		return 0, errno
	}
	if off < 0 {
		return 0, experimentalsys.EINVAL
	}
	if f.call.stopped() {
		return 0, experimentalsys.EINTR
	}
	read := 0
	for read < len(buf) && (read == 0 || !f.call.stopped()) {
		want := min(len(buf)-read, chunkSize)
		n, err := f.f.ReadAt(buf[read:read+want], off+int64(read))
		read += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return read, toErrno(err)
		}
	}
	return read, 0
}

// fileOffset is int64. Spelling Seek's offset with an alias keeps go vet's
// stdmethods check, which takes any Seek(int64, int) for io.Seeker, from
// failing on the Errno result that experimentalsys.File requires (wazero's
// own files fail that check).
type fileOffset = int64

// Seek implements experimentalsys.File. On a directory only a rewind
// (offset 0 from the start) is allowed; it makes Readdir start over.
func (f *osFile) Seek(offset fileOffset, whence int) (int64, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	if whence < io.SeekStart || whence > io.SeekEnd {
		return 0, experimentalsys.EINVAL
	}
	if f.st.isDir && (offset != 0 || whence != io.SeekStart) {
		return 0, experimentalsys.EISDIR
	}
	n, err := f.f.Seek(offset, whence)
	return n, toErrno(err)
}

// Readdir implements experimentalsys.File. Entries other than "." and ".."
// come with their type and inode, read relative to the directory's own
// descriptor (fstatat), never through a path. It reads direntChunk entries
// at a time and fails with EINTR once the call must stop: fewer entries than
// asked would tell wazero the directory ended.
func (f *osFile) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if f.closed || !f.st.isDir {
		return nil, experimentalsys.EBADF
	}
	dirents := []experimentalsys.Dirent{}
	for n <= 0 || len(dirents) < n {
		if f.call.stopped() {
			return nil, experimentalsys.EINTR
		}
		want := direntChunk
		if n > 0 {
			want = min(n-len(dirents), direntChunk)
		}
		infos, err := f.f.Readdir(want)
		if err == io.EOF {
			err = nil
		}
		if errno := toErrno(err); errno != 0 {
			if errno == experimentalsys.EINVAL || errno == experimentalsys.ENOTDIR {
				errno = experimentalsys.EBADF
			}
			return nil, errno
		}
		for _, info := range infos {
			var ino sys.Inode
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				ino = st.Ino
			}
			dirents = append(dirents, experimentalsys.Dirent{Name: info.Name(), Ino: ino, Type: info.Mode().Type()})
		}
		if len(infos) < want {
			break
		}
	}
	return dirents, 0
}

// Write implements experimentalsys.File.
func (f *osFile) Write(buf []byte) (int, experimentalsys.Errno) {
	if errno := f.checkWrite(); errno != 0 {
		return 0, errno
	}
	if f.call.stopped() {
		return 0, experimentalsys.EINTR
	}
	written := 0
	for written < len(buf) && (written == 0 || !f.call.stopped()) {
		n, err := f.f.Write(buf[written:min(len(buf), written+chunkSize)])
		written += n
		if err != nil {
			return written, toErrno(err)
		}
	}
	return written, 0
}

// Pwrite implements experimentalsys.File. It calls pwrite on the
// descriptor: os.File.WriteAt refuses files opened with O_APPEND even after
// SetAppend(false). On Linux a pwrite to a file in append mode appends.
func (f *osFile) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if errno := f.checkWrite(); errno != 0 {
		return 0, errno
	}
	if off < 0 {
		return 0, experimentalsys.EINVAL
	}
	if f.call.stopped() {
		return 0, experimentalsys.EINTR
	}
	written := 0
	for written < len(buf) && (written == 0 || !f.call.stopped()) {
		n, err := unix.Pwrite(int(f.f.Fd()), buf[written:min(len(buf), written+chunkSize)], off+int64(written))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return written, toErrno(err)
		}
		if n == 0 {
			return written, experimentalsys.EIO
		}
		written += n
	}
	return written, 0
}

// Truncate implements experimentalsys.File; a file not opened for writing
// cannot be truncated (EBADF). Like Sync and Datasync, it is one system
// call that may take long (dropping or flushing what was written), so it
// does not start once the call must stop (EINTR).
func (f *osFile) Truncate(size int64) experimentalsys.Errno {
	if errno := f.checkWrite(); errno != 0 {
		return errno
	}
	if size < 0 {
		return experimentalsys.EINVAL
	}
	if f.call.stopped() {
		return experimentalsys.EINTR
	}
	return toErrno(f.f.Truncate(size))
}

// Sync implements experimentalsys.File.
func (f *osFile) Sync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if f.call.stopped() {
		return experimentalsys.EINTR
	}
	return toErrno(f.f.Sync())
}

// Datasync implements experimentalsys.File.
func (f *osFile) Datasync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if f.call.stopped() {
		return experimentalsys.EINTR
	}
	return datasync(f.f)
}

// Utimens sets the file's times through its descriptor (futimens), which
// the kernel allows even on a descriptor opened read-only: on a read-only FS
// it is refused here (EROFS).
func (f *osFile) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if !f.fsWritable {
		return experimentalsys.EROFS
	}
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return 0
	}
	return futimens(f.f, atim, mtim)
}

// Close implements experimentalsys.File. Closing twice is not an error.
// The descriptor goes back to the call's count.
func (f *osFile) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	err := f.f.Close()
	f.call.release(f)
	return toErrno(err)
}

// check fails on a closed file, and on a directory when data is wanted.
func (f *osFile) check(data bool) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if data && f.st.isDir {
		return experimentalsys.EISDIR
	}
	return 0
}

// checkWrite fails unless the file is open for writing.
func (f *osFile) checkWrite() experimentalsys.Errno {
	if errno := f.check(true); errno != 0 {
		return errno
	}
	if !f.canWrite {
		return experimentalsys.EBADF
	}
	return 0
}
