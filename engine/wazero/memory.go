package wazero

import (
	"slices"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

const pageSize = 65536

// tableElemSize is what one table element costs the host: wazero keeps
// tables as slices of pointer-sized references.
const tableElemSize = 8

// limitedAllocator backs one run's linear memory and keeps it and the
// run's tables within limit bytes together: memory.grow and table.grow then
// return -1 to the guest, which may cope or fail; a failure after a refusal
// is reported as an engine.MemoryLimitError.
//
// Memory grows on the guest's goroutine and tables are counted there too
// (table_grow), so the counters need no lock; they are atomic because the
// outcome is read after the run.
type limitedAllocator struct {
	limit uint64
	pool  *memoryPool
	// keep is how many bytes of the first memory the run overwrites
	// before its guest runs (a snapshot's): a reused memory need not be
	// cleared there.
	keep   uint64
	denied atomic.Bool
	// memory is the linear memory's current size; tables holds each table's
	// size in elements, starting from the declared minimums.
	memory atomic.Uint64
	tables []uint64
}

func newLimitedAllocator(limit uint64, tableMins []uint64, pool *memoryPool, keep uint64) *limitedAllocator {
	return &limitedAllocator{limit: limit, tables: slices.Clone(tableMins), pool: pool, keep: keep}
}

// tableBytes is what the run's tables hold.
func (a *limitedAllocator) tableBytes() uint64 {
	var n uint64
	for _, t := range a.tables {
		n += t
	}
	return n * tableElemSize
}

// growTable reports whether table, now size elements long, may grow by
// delta within the limit, and counts the growth if so.
func (a *limitedAllocator) growTable(table, size, delta uint32) bool {
	if int(table) >= len(a.tables) {
		return false // validation makes this unreachable
	}
	old := a.tables[table]
	a.tables[table] = uint64(size) + uint64(delta)
	if a.tableBytes()+a.memory.Load() > a.limit {
		a.tables[table] = max(old, uint64(size))
		a.denied.Store(true)
		return false
	}
	return true
}

func (a *limitedAllocator) Allocate(_, _ uint64) experimental.LinearMemory {
	return &limitedMemory{a: a}
}

type limitedMemory struct {
	a   *limitedAllocator
	buf []byte
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size+m.a.tableBytes() > m.a.limit {
		m.a.denied.Store(true)
		return nil
	}
	m.a.memory.Store(size)
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically to keep repeated small grows cheap, never past
	// what the limit leaves beside the tables.
	room := m.a.limit - m.a.tableBytes()
	newCap := max(size, min(2*uint64(cap(m.buf)), room))
	newCap = (newCap + pageSize - 1) / pageSize * pageSize
	if newCap > room {
		newCap = size
	}
	// The new memory's first bytes are the old memory's, or, for the
	// first, the snapshot's (keep).
	keep := uint64(len(m.buf))
	if m.buf == nil {
		keep = m.a.keep
	}
	nb := m.a.pool.get(size, newCap, keep)
	copy(nb, m.buf)
	m.a.pool.put(m.buf)
	m.buf = nb
	return nb
}

// Free gives the memory back to the pool, which clears it before reuse. wazero calls it
// when the instance is closed, after the guest stopped running.
func (m *limitedMemory) Free() {
	m.a.pool.put(m.buf)
	m.buf = nil
}
