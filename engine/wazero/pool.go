package wazero

import (
	"runtime"
	"sync"
)

// Bounds of the memory pool (RATIONALE.md, Reused memories). The pool maps
// one region of poolBufferBytes outside the Go heap per run the runtime
// lets run at once (engine.Config.MaxRuns, else two per CPU), where the
// system allows it, and never unmaps them: a memory that fits lives in one
// of those, is cleared and reused, and neither counts toward the garbage
// collector's target nor becomes garbage. A memory that grows past
// poolBufferBytes, or comes when every region is taken, is a Go slice; the
// pool keeps such slices up to poolHeapBytes in all.
const (
	poolBufferBytes = 16 << 20
	poolHeapBytes   = 64 << 20
)

func poolBuffers(maxRuns int) int {
	if maxRuns > 0 {
		return maxRuns
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// memoryPool keeps the linear memories of finished runs for later runs, so
// that a call does not allocate (and fault in, and later collect) a fresh
// zeroed memory. A memory is cleared before it is reused, except for the
// bytes the next run overwrites before its guest runs (a snapshot's): no
// byte of one run reaches another.
type memoryPool struct {
	mu sync.Mutex
	// free holds finished runs' memories, each sliced to the extent the
	// run used: memory never shrinks, so nothing past its length was
	// written.
	free [][]byte
	// regions are the mapped regions, by their first byte; each is in free
	// or in a run.
	regions    map[*byte]bool
	maxRegions int
	heapHeld   int // capacity of the Go slices in free, in bytes
	maxHeap    int // the most heapHeld may be
	maxBytes   int // the largest memory kept
}

func newMemoryPool(regions, maxBytes, maxHeap int) *memoryPool {
	return &memoryPool{regions: map[*byte]bool{}, maxRegions: regions, maxBytes: maxBytes, maxHeap: maxHeap}
}

// get returns a buffer of length size, reused when one with room is free,
// of which every byte from keep on is zero: the caller overwrites the
// first keep bytes before anything reads them.
func (p *memoryPool) get(size, capacity, keep uint64) []byte {
	if p == nil {
		return make([]byte, size, max(size, capacity))
	}
	p.mu.Lock()
	// The most recently freed buffer that is large enough: it is the
	// likeliest to be in the CPU's caches.
	for i := len(p.free) - 1; i >= 0; i-- {
		if b := p.free[i]; uint64(cap(b)) >= size {
			p.free = append(p.free[:i], p.free[i+1:]...)
			if !p.mapped(b) {
				p.heapHeld -= cap(b)
			}
			p.mu.Unlock()
			clear(b[min(keep, uint64(len(b))):])
			return b[:size]
		}
	}
	if size <= uint64(p.maxBytes) && len(p.regions) < p.maxRegions {
		if b := mapRegion(p.maxBytes); b != nil {
			p.regions[&b[:1][0]] = true
			p.mu.Unlock()
			return b[:size] // a new mapping reads as zero
		}
	}
	p.mu.Unlock()
	return make([]byte, size, max(size, capacity))
}

func (p *memoryPool) mapped(b []byte) bool { return cap(b) > 0 && p.regions[&b[:1][0]] }

// put keeps b for a later get to clear and reuse: always a mapped region
// (they are never unmapped, so a view a host function kept too long stays
// readable), a Go slice if there is room.
func (p *memoryPool) put(b []byte) {
	if p == nil || b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mapped(b) {
		p.free = append(p.free, b)
		return
	}
	if cap(b) > p.maxBytes {
		return
	}
	if p.heapHeld+cap(b) <= p.maxHeap {
		p.free = append(p.free, b)
		p.heapHeld += cap(b)
		return
	}
	// Full: keep the larger slice, which serves more runs.
	for i, f := range p.free {
		if !p.mapped(f) && cap(f) < cap(b) && p.heapHeld-cap(f)+cap(b) <= p.maxHeap {
			p.heapHeld += cap(b) - cap(f)
			p.free[i] = b
			return
		}
	}
}

// release gives the pages of the free mapped regions back to the system;
// they read as zero afterwards, so the regions stay usable.
func (p *memoryPool) release() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.free {
		if p.mapped(b) {
			releaseRegion(b[:cap(b)])
		}
	}
}
