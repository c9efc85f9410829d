//go:build unix && !linux

package files

import (
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// futimens sets a file's times through its descriptor, to the microsecond;
// an omitted time keeps its current value.
func futimens(f *os.File, atim, mtim int64) experimentalsys.Errno {
	if atim == experimentalsys.UTIME_OMIT || mtim == experimentalsys.UTIME_OMIT {
		info, err := f.Stat()
		if err != nil {
			return toErrno(err)
		}
		st := sys.NewStat_t(info)
		if atim == experimentalsys.UTIME_OMIT {
			atim = st.Atim
		}
		if mtim == experimentalsys.UTIME_OMIT {
			mtim = st.Mtim
		}
	}
	tv := []unix.Timeval{unix.NsecToTimeval(atim), unix.NsecToTimeval(mtim)}
	return toErrno(unix.Futimes(int(f.Fd()), tv))
}

func datasync(f *os.File) experimentalsys.Errno { return toErrno(f.Sync()) }

// oDSYNC stands in for O_DSYNC, which not every system defines: O_SYNC
// gives at least the same guarantee.
const oDSYNC = os.O_SYNC
