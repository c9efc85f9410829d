//go:build !unix

package files

import (
	"errors"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// FS is not available on this system: New always fails.
type FS struct {
	experimentalsys.UnimplementedFS
}

// New fails: mounts need the *at system calls of a Unix system.
func New(hostDir string, writable bool) (*FS, error) {
	return nil, errors.New("directory mounts are not supported on this system")
}

// Close does nothing.
func (f *FS) Close() error { return nil }
