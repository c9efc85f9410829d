package wasmbin

import (
	"fmt"
	"slices"
)

// Bounds of CoalesceData.
const (
	// DataGap is the longest run of bytes no segment covers that
	// CoalesceData fills with zeros to join two segments: copying that many
	// zeros costs less than starting another segment.
	DataGap = 4 << 10
	// maxDataImage is the furthest end of the segments CoalesceData
	// rewrites; past it a module keeps its segments.
	maxDataImage = 256 << 20
)

// CoalesceData joins a module's active data segments into as few as keep
// its memory's initial contents the same: segments no more than DataGap
// apart become one, the gap filled with the zeros memory starts with, and
// where segments overlap the later one's bytes are kept, as instantiation
// would leave them. Instantiation then copies a few large segments instead
// of many small ones: Go's linker, for one, writes tens of thousands.
//
// The union of the segments' extents is unchanged, so a module whose
// segments do not fit its memory still fails to instantiate. A module with
// passive segments, segments at an offset that is not a constant, or
// segments past maxDataImage is returned as it is, and so is one that has
// nothing to join.
func CoalesceData(wasm []byte) ([]byte, error) {
	sections, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	at := slices.IndexFunc(sections, func(s Section) bool { return s.ID == SectionData })
	if at < 0 {
		return wasm, nil
	}
	segs, ok, err := readActiveSegments(sections[at].Payload)
	if err != nil {
		return nil, fmt.Errorf("data section: %w", err)
	}
	if !ok || len(segs) < 2 {
		return wasm, nil
	}
	var end uint64
	for _, s := range segs {
		end = max(end, uint64(s.offset)+uint64(len(s.data)))
	}
	if end > maxDataImage {
		return wasm, nil
	}
	// The image of memory the segments leave, and which bytes they cover.
	image := make([]byte, end)
	covered := make([]span, 0, len(segs))
	for _, s := range segs {
		copy(image[s.offset:], s.data)
		covered = append(covered, span{uint64(s.offset), uint64(s.offset) + uint64(len(s.data))})
	}
	slices.SortFunc(covered, func(a, b span) int {
		if a.from != b.from {
			return int(int64(a.from) - int64(b.from))
		}
		return int(int64(a.to) - int64(b.to))
	})
	var runs []span
	for _, c := range covered {
		if n := len(runs); n > 0 && c.from <= runs[n-1].to+DataGap {
			runs[n-1].to = max(runs[n-1].to, c.to)
			continue
		}
		runs = append(runs, c)
	}
	if runs[len(runs)-1].to < end {
		// A zero-length segment lies past every byte: keep its bounds check.
		runs = append(runs, span{end, end})
	}
	if len(runs) >= len(segs) {
		return wasm, nil
	}
	payload := AppendU32(nil, uint32(len(runs)))
	for _, r := range runs {
		payload = append(payload, 0x00) // active, memory 0
		payload = append(appendI32Const(payload, int32(uint32(r.from))), 0x0B)
		payload = AppendU32(payload, uint32(r.to-r.from))
		payload = append(payload, image[r.from:r.to]...)
	}
	out := slices.Clone(sections)
	out[at].Payload = payload
	for i, s := range out {
		if s.ID == SectionDataCount {
			out[i].Payload = AppendU32(nil, uint32(len(runs)))
		}
	}
	return Encode(out), nil
}

type span struct{ from, to uint64 }

type segment struct {
	offset uint32
	data   []byte
}

// readActiveSegments reads a data section whose segments are all active,
// in memory 0, at an i32.const offset; ok is false for any other.
func readActiveSegments(payload []byte) (segs []segment, ok bool, err error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, false, err
	}
	for i := uint32(0); i < n; i++ {
		flags, err := r.U32()
		if err != nil {
			return nil, false, err
		}
		if flags != 0 {
			return nil, false, nil // passive, or an explicit memory index
		}
		op, err := r.Byte()
		if err != nil {
			return nil, false, err
		}
		if op != 0x41 {
			return nil, false, nil
		}
		off, err := r.I32()
		if err != nil {
			return nil, false, err
		}
		if end, err := r.Byte(); err != nil || end != 0x0B {
			return nil, false, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, false, err
		}
		data, err := r.Bytes(int(size))
		if err != nil {
			return nil, false, err
		}
		segs = append(segs, segment{offset: uint32(off), data: data})
	}
	if !r.EOF() {
		return nil, false, fmt.Errorf("trailing bytes after %d segments", n)
	}
	return segs, true, nil
}

// I32 reads a signed LEB128 32-bit integer.
func (r *Reader) I32() (int32, error) {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		b, err := r.Byte()
		if err != nil {
			return 0, err
		}
		v |= int64(b&0x7F) << shift
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, fmt.Errorf("signed 32-bit integer out of range")
			}
			return int32(v), nil
		}
	}
	return 0, fmt.Errorf("signed 32-bit integer longer than 5 bytes")
}
