package runtime

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

const pageSize = 65536

// limitedAllocator backs one call's linear memory and refuses to grow it past
// limit bytes: memory.grow then returns -1 to the guest, which may cope or
// fail; a failure after a refusal is reported as KindMemory.
type limitedAllocator struct {
	limit  uint64
	denied atomic.Bool
}

func (a *limitedAllocator) Allocate(_, _ uint64) experimental.LinearMemory {
	return &limitedMemory{a: a}
}

type limitedMemory struct {
	a   *limitedAllocator
	buf []byte
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.a.limit {
		m.a.denied.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically to keep repeated small grows cheap, never past the limit.
	newCap := max(size, min(2*uint64(cap(m.buf)), m.a.limit))
	newCap = (newCap + pageSize - 1) / pageSize * pageSize
	if newCap > m.a.limit {
		newCap = size
	}
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *limitedMemory) Free() { m.buf = nil }
