//go:build !unix

package files

import (
	"context"
	"errors"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// FS is not available on this system: New always fails.
type FS struct {
	experimentalsys.UnimplementedFS
}

var errUnsupported = errors.New("directory mounts are not supported on this system")

// New fails: mounts need the *at system calls of a Unix system.
func New(hostDir string, writable bool) (*FS, error) { return nil, errUnsupported }

// Close does nothing.
func (f *FS) Close() error { return nil }

// DefaultMaxOpen is the Unix value; nothing opens here.
const DefaultMaxOpen = 128

// DefaultTotalOpen returns 512; nothing opens here.
func DefaultTotalOpen() int { return 512 }

// Shared counts nothing here.
type Shared struct{}

// NewShared returns an empty Shared.
func NewShared(maxOpen int) *Shared { return &Shared{} }

// Open is always 0.
func (s *Shared) Open() int { return 0 }

// Call has no file systems here.
type Call struct{}

// NewCall returns an empty Call.
func (s *Shared) NewCall(ctx context.Context, maxOpen int) *Call { return &Call{} }

// Mount fails: mounts need the *at system calls of a Unix system.
func (c *Call) Mount(hostDir string, writable bool) (*FS, error) { return nil, errUnsupported }

// Open is always 0.
func (c *Call) Open() int { return 0 }

// Close does nothing.
func (c *Call) Close() error { return nil }
