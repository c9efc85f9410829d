//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package wazero

// Without mmap every memory is a Go slice.
func mapRegion(int) []byte { return nil }
func releaseRegion([]byte) {}
