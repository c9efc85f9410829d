//go:build linux || darwin || freebsd || netbsd || openbsd

package wazero

import "syscall"

// mapRegion maps n bytes of private anonymous memory, or returns nil.
func mapRegion(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	return b[:0]
}

// releaseRegion drops b's pages; b reads as zero afterwards.
func releaseRegion(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
