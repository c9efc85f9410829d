package wazero

import (
	"runtime"
	"sync"
)

// Bounds of the memory pool. A memory larger than poolBufferBytes (a guest
// that grew far) goes back to the Go heap; the pool keeps one memory per
// run the runtime lets run at once (engine.Config.MaxRuns, else two per
// CPU), and at most poolBytes in all: a server that ran 16 Go tools at once
// keeps their 4 MiB memories, not a fresh 64 MiB of garbage per round of
// calls (RATIONALE.md).
const (
	poolBufferBytes = 16 << 20
	poolBytes       = 128 << 20
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
// byte of one run reaches another. The pool holds at most max buffers of
// at most maxBytes each.
type memoryPool struct {
	mu sync.Mutex
	// free holds finished runs' memories, each sliced to the extent the
	// run used: memory never shrinks, so nothing past its length was
	// written.
	free     [][]byte
	held     int // capacity of free, in bytes
	max      int // buffers
	maxBytes int // per buffer
	maxHeld  int // in all
}

func newMemoryPool(max, maxBytes, maxHeld int) *memoryPool {
	return &memoryPool{max: max, maxBytes: maxBytes, maxHeld: maxHeld}
}

// get returns a buffer of length size, reused when one with room is free,
// of which every byte from keep on is zero: the caller overwrites the
// first keep bytes before anything reads them.
func (p *memoryPool) get(size, capacity, keep uint64) []byte {
	if p != nil {
		p.mu.Lock()
		// The most recently freed buffer that is large enough: it is the
		// likeliest to be in the CPU's caches.
		for i := len(p.free) - 1; i >= 0; i-- {
			if b := p.free[i]; uint64(cap(b)) >= size {
				p.free = append(p.free[:i], p.free[i+1:]...)
				p.held -= cap(b)
				p.mu.Unlock()
				clear(b[min(keep, uint64(len(b))):])
				return b[:size]
			}
		}
		p.mu.Unlock()
	}
	return make([]byte, size, max(size, capacity))
}

// put keeps b, if there is room, for a later get to clear and reuse.
func (p *memoryPool) put(b []byte) {
	if p == nil || b == nil || cap(b) > p.maxBytes {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.max && p.held+cap(b) <= p.maxHeld {
		p.free = append(p.free, b)
		p.held += cap(b)
		return
	}
	// Full: keep the larger buffer, which serves more runs.
	for i, f := range p.free {
		if cap(f) < cap(b) && p.held-cap(f)+cap(b) <= p.maxHeld {
			p.held += cap(b) - cap(f)
			p.free[i] = b
			return
		}
	}
}
