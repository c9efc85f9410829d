package wazero

import (
	"bytes"
	"testing"
)

func dirty(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xAA
	}
	return b
}

func fill(b []byte) {
	for i := range b {
		b[i] = 0xAA
	}
}

// A reused memory is zero past what its taker overwrites, whatever the
// run before it left, and the pool keeps no more Go slices than its bound.
func TestMemoryPoolSlices(t *testing.T) {
	p := newMemoryPool(0, 4<<10, 6<<10)
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
	p = newMemoryPool(0, 4<<10, 6<<10)
	p.put(dirty(8 << 10))
	if len(p.free) != 0 {
		t.Fatal("kept a buffer over the per-buffer bound")
	}
	for i := 0; i < 4; i++ {
		p.put(dirty(3 << 10))
	}
	if len(p.free) != 2 || p.heapHeld != 6<<10 {
		t.Fatalf("kept %d buffers, %d bytes; want 2 and 6 KiB", len(p.free), p.heapHeld)
	}
	p.put(dirty(4 << 10))
	if p.heapHeld > 6<<10 {
		t.Fatalf("held %d bytes, over the bound", p.heapHeld)
	}
	for len(p.free) > 0 {
		p.get(1, 1, 0)
	}
	if p.heapHeld != 0 {
		t.Fatalf("held %d bytes with nothing pooled", p.heapHeld)
	}
}

// Mapped regions: at most the bound is mapped, each is always kept, and a
// reused or released one reads as zero.
func TestMemoryPoolRegions(t *testing.T) {
	p := newMemoryPool(1, 64<<10, 0)
	a := p.get(16<<10, 16<<10, 0)
	if !p.mapped(a) {
		t.Skip("no mapped regions on this system")
	}
	if cap(a) != 64<<10 || !bytes.Equal(a, make([]byte, 16<<10)) {
		t.Fatalf("a new region: cap %d, not zero", cap(a))
	}
	fill(a)
	if b := p.get(1<<10, 1<<10, 0); p.mapped(b) {
		t.Fatal("mapped a second region past the bound")
	}
	p.put(a)
	b := p.get(32<<10, 32<<10, 0)
	if &b[0] != &a[0] || !bytes.Equal(b, make([]byte, 32<<10)) {
		t.Fatal("the region was not reused cleared")
	}
	fill(b)
	p.put(b)
	p.release()
	if !bytes.Equal(b[:cap(b)], make([]byte, cap(b))) {
		t.Fatal("a released region does not read as zero")
	}
	if c := p.get(1<<10, 1<<10, 0); &c[0] != &a[0] {
		t.Fatal("a released region is not reused")
	}
}
