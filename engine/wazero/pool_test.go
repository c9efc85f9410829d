package wazero

import (
	"bytes"
	"testing"
)

// A reused memory is zero past what its taker overwrites, whatever the
// run before it left, and the pool keeps no more than its bounds.
func TestMemoryPool(t *testing.T) {
	p := newMemoryPool(2, 4<<10, 6<<10)
	dirty := func(n int) []byte {
		b := make([]byte, n, n)
		for i := range b {
			b[i] = 0xAA
		}
		return b
	}
	p.put(dirty(2 << 10))
	b := p.get(1<<10, 1<<10, 0)
	if len(b) != 1<<10 || cap(b) != 2<<10 {
		t.Fatalf("got len %d cap %d, want the pooled buffer", len(b), cap(b))
	}
	if !bytes.Equal(b[:cap(b)], make([]byte, 2<<10)) {
		t.Fatal("a reused buffer is not zero")
	}
	p.put(dirty(2 << 10))
	b = p.get(2<<10, 2<<10, 1<<10)
	if !bytes.Equal(b[1<<10:], make([]byte, 1<<10)) {
		t.Fatal("a reused buffer is not zero past keep")
	}
	// Bounds: buffers over maxBytes are dropped, and at most max buffers
	// and maxHeld bytes are kept.
	p = newMemoryPool(2, 4<<10, 6<<10)
	p.put(dirty(8 << 10))
	if len(p.free) != 0 {
		t.Fatal("kept a buffer over the per-buffer bound")
	}
	for i := 0; i < 4; i++ {
		p.put(dirty(3 << 10))
	}
	if len(p.free) != 2 || p.held != 6<<10 {
		t.Fatalf("kept %d buffers, %d bytes; want 2 and 6 KiB", len(p.free), p.held)
	}
	p.put(dirty(4 << 10))
	if p.held > 6<<10 {
		t.Fatalf("held %d bytes, over the bound", p.held)
	}
	for len(p.free) > 0 {
		p.get(1, 1, 0)
	}
	if p.held != 0 {
		t.Fatalf("held %d bytes with nothing pooled", p.held)
	}
}
