package wazero

import (
	"runtime"
	"sync"
)

// defaultPoolBufferBytes is the largest memory kept for reuse: larger ones
// (a guest that grew far) go back to the Go heap. With defaultPoolBuffers
// it bounds what the pool keeps: 16 MiB per CPU and a half (64 MiB on two
// CPUs), while typical tools use 1-8 MiB (RATIONALE.md).
const defaultPoolBufferBytes = 16 << 20

// defaultPoolBuffers is how many memories are kept for reuse: enough for
// every core to run a call while as many more wait in the pool.
func defaultPoolBuffers() int { return 2 * runtime.GOMAXPROCS(0) }

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
	max      int
	maxBytes int
}

func newMemoryPool(max, maxBytes int) *memoryPool {
	return &memoryPool{max: max, maxBytes: maxBytes}
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
	if len(p.free) < p.max {
		p.free = append(p.free, b)
		return
	}
	// Full: keep the larger buffer, which serves more runs.
	for i, f := range p.free {
		if cap(f) < cap(b) {
			p.free[i] = b
			return
		}
	}
}
