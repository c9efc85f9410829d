//go:build unix

package files

import (
	"context"
	"errors"
	"sync"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"golang.org/x/sys/unix"
)

// DefaultMaxOpen is how many files and directories one call may hold open
// at once over all its mounts. Tools that walk a tree keep one descriptor
// per level and rarely more than a few dozen files at once; 128 leaves
// room for those while a hostile guest can take no more than that.
const DefaultMaxOpen = 128

// Bounds of DefaultTotalOpen.
const (
	minTotalOpen = 64
	maxTotalOpen = 1 << 16
)

// DefaultTotalOpen returns how many descriptors the files of all calls may
// hold open together: half of the process's RLIMIT_NOFILE soft limit
// (which Go raises to the hard limit when it starts), between 64 and
// 65,536. The other half stays for what is not counted: the server's
// sockets and its own files, each mount's root directory, and the
// directories opened for a moment while a path is resolved. When the limit
// cannot be read, it is taken to be 1,024.
func DefaultTotalOpen() int {
	limit := uint64(1024)
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		limit = uint64(rl.Cur)
	}
	return int(min(max(limit/2, minTotalOpen), maxTotalOpen))
}

// Shared is what the file systems of all calls share: how many descriptors
// they may hold open together, and a lock that makes each Rename's checks
// and the rename itself one step for every other Rename (see FS.Rename). A
// Runtime has one. It is safe for concurrent use.
type Shared struct {
	maxOpen int
	mu      sync.Mutex
	open    int
	renames chan struct{} // holds a token while a Rename runs
}

// NewShared returns the state shared by calls that may hold maxOpen
// descriptors together; 0 or less means no limit.
func NewShared(maxOpen int) *Shared {
	return &Shared{maxOpen: maxOpen, renames: make(chan struct{}, 1)}
}

// Open reports how many descriptors the calls' files hold now.
func (s *Shared) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

func (s *Shared) take() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxOpen > 0 && s.open >= s.maxOpen {
		return false
	}
	s.open++
	return true
}

func (s *Shared) give() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
}

// lockRenames waits for the rename lock, or fails with EINTR once ctx is
// done. The returned function releases the lock.
func (s *Shared) lockRenames(ctx context.Context) (func(), experimentalsys.Errno) {
	if ctx.Err() != nil {
		return nil, experimentalsys.EINTR
	}
	select {
	case s.renames <- struct{}{}:
		return func() { <-s.renames }, 0
	case <-ctx.Done():
		return nil, experimentalsys.EINTR
	}
}

// Call is the file systems of one guest call. Its files hold at most its
// own number of descriptors at once, each also counted in its Shared; past
// either limit, opening a file or directory fails with EAGAIN (wazero's
// WASI functions can report neither EMFILE nor ENFILE: what they do not
// know becomes EIO). Once the call's context is done, reading, writing and
// listing through its files fail with EINTR, so that a guest stuck in one
// long host call stops at its deadline like one in a loop.
type Call struct {
	ctx     context.Context
	shared  *Shared
	maxOpen int

	mu     sync.Mutex
	held   int // descriptors counted: open files, and opens under way
	files  map[*osFile]struct{}
	mounts []*FS
	closed bool
}

// NewCall starts the file systems of a call whose context is ctx. Its files
// may hold maxOpen descriptors at once (0 or less: no limit of the call's
// own). Close it when the call ends.
func (s *Shared) NewCall(ctx context.Context, maxOpen int) *Call {
	return &Call{ctx: ctx, shared: s, maxOpen: maxOpen, files: map[*osFile]struct{}{}}
}

// Mount opens hostDir as a file system of the call: see New.
func (c *Call) Mount(hostDir string, writable bool) (*FS, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("mount after the call ended")
	}
	f, err := mount(c, hostDir, writable)
	if err != nil {
		return nil, err
	}
	c.mounts = append(c.mounts, f)
	return f, nil
}

// Open reports how many descriptors the call's files hold now.
func (c *Call) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Close closes every file of the call still open, then its mounts'
// directories, and returns their descriptors to the Shared count. wazero
// closes a module's files when the module is closed; Close makes sure none
// outlives the call whatever the guest did. Opening fails after Close.
func (c *Call) Close() error {
	c.mu.Lock()
	c.closed = true
	left := make([]*osFile, 0, len(c.files))
	for f := range c.files {
		left = append(left, f)
	}
	mounts := c.mounts
	c.mounts = nil
	c.mu.Unlock()
	var errs []error
	for _, f := range left {
		if errno := f.Close(); errno != 0 {
			errs = append(errs, errno)
		}
	}
	for _, m := range mounts {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// stopped reports whether the call must stop.
func (c *Call) stopped() bool { return c.ctx.Err() != nil }

// reserve counts a descriptor about to be opened; release or keep must
// follow.
func (c *Call) reserve() experimentalsys.Errno {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return experimentalsys.EBADF
	}
	if c.maxOpen > 0 && c.held >= c.maxOpen {
		return experimentalsys.EAGAIN
	}
	if !c.shared.take() {
		return experimentalsys.EAGAIN
	}
	c.held++
	return 0
}

// keep records the file opened on a reserved descriptor.
func (c *Call) keep(f *osFile) {
	c.mu.Lock()
	c.files[f] = struct{}{}
	c.mu.Unlock()
}

// release gives back a reserved descriptor: f is the file that held it, or
// nil when the open failed.
func (c *Call) release(f *osFile) {
	c.mu.Lock()
	if f != nil {
		delete(c.files, f)
	}
	c.held--
	c.mu.Unlock()
	c.shared.give()
}
