package files

import (
	"os"
	"unsafe"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"golang.org/x/sys/unix"
)

// futimens sets a file's times through its descriptor: utimensat with a
// NULL path acts on the descriptor itself.
func futimens(f *os.File, atim, mtim int64) experimentalsys.Errno {
	ts := [2]unix.Timespec{timespec(atim), timespec(mtim)}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return toErrno(e)
	}
	return 0
}

func datasync(f *os.File) experimentalsys.Errno {
	return toErrno(unix.Fdatasync(int(f.Fd())))
}

// timespec converts a time for utimensat, UTIME_OMIT included.
func timespec(ns int64) unix.Timespec {
	if ns == experimentalsys.UTIME_OMIT {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(ns)
}

// oDSYNC is the host's O_DSYNC.
const oDSYNC = unix.O_DSYNC
