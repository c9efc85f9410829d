// Package wasmbin reads and rewrites the section structure of WebAssembly
// binaries: enough to embed a custom section and to instrument function
// bodies, without a full decoder. Anything it does not understand is an error,
// never a guess.
package wasmbin

import (
	"bytes"
	"errors"
	"fmt"
)

// Section IDs from the WebAssembly core specification.
const (
	SectionCustom    byte = 0
	SectionType      byte = 1
	SectionImport    byte = 2
	SectionFunction  byte = 3
	SectionTable     byte = 4
	SectionMemory    byte = 5
	SectionGlobal    byte = 6
	SectionExport    byte = 7
	SectionStart     byte = 8
	SectionElement   byte = 9
	SectionCode      byte = 10
	SectionData      byte = 11
	SectionDataCount byte = 12
	SectionTag       byte = 13
)

// Header is the magic number and version 1 that start every core module.
var Header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// ErrNotWasm is returned for input that does not start with the wasm header.
var ErrNotWasm = errors.New("not a WebAssembly module (missing \\0asm version 1 header)")

// Section is one section of a module. For custom sections Name is set and
// Payload excludes the name; for the others Payload is the whole content.
type Section struct {
	ID      byte
	Name    string
	Payload []byte
}

// Parse splits a module into its sections. Payloads alias b.
func Parse(b []byte) ([]Section, error) {
	if len(b) < len(Header) || !bytes.Equal(b[:4], Header[:4]) {
		return nil, ErrNotWasm
	}
	if !bytes.Equal(b[4:8], Header[4:]) {
		return nil, fmt.Errorf("unsupported wasm binary version %x (only version 1 core modules are supported; components are not)", b[4:8])
	}
	var out []Section
	r := &Reader{b: b, pos: 8}
	for !r.EOF() {
		start := r.pos
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("section at offset %d: size: %w", start, err)
		}
		payload, err := r.Bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d at offset %d: %d bytes declared, %d left: truncated module", id, start, size, r.Len())
		}
		s := Section{ID: id, Payload: payload}
		if id == SectionCustom {
			pr := &Reader{b: payload}
			name, err := pr.Name()
			if err != nil {
				return nil, fmt.Errorf("custom section at offset %d: name: %w", start, err)
			}
			s.Name = name
			s.Payload = payload[pr.pos:]
		}
		out = append(out, s)
	}
	return out, nil
}

// Encode writes sections back into a module binary.
func Encode(sections []Section) []byte {
	n := len(Header)
	for _, s := range sections {
		n += len(s.Payload) + len(s.Name) + 16
	}
	out := make([]byte, 0, n)
	out = append(out, Header...)
	for _, s := range sections {
		out = AppendSection(out, s)
	}
	return out
}

// AppendSection appends one encoded section to dst.
func AppendSection(dst []byte, s Section) []byte {
	dst = append(dst, s.ID)
	if s.ID != SectionCustom {
		dst = AppendU32(dst, uint32(len(s.Payload)))
		return append(dst, s.Payload...)
	}
	size := uint32(len(AppendU32(nil, uint32(len(s.Name))))) + uint32(len(s.Name)) + uint32(len(s.Payload))
	dst = AppendU32(dst, size)
	dst = AppendU32(dst, uint32(len(s.Name)))
	dst = append(dst, s.Name...)
	return append(dst, s.Payload...)
}

// AppendU32 appends v as unsigned LEB128.
func AppendU32(dst []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			dst = append(dst, c|0x80)
			continue
		}
		return append(dst, c)
	}
}

// Reader decodes the primitive encodings of the binary format.
type Reader struct {
	b   []byte
	pos int
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// EOF reports whether all input was consumed.
func (r *Reader) EOF() bool { return r.pos >= len(r.b) }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.pos }

// Pos is the offset of the next unread byte.
func (r *Reader) Pos() int { return r.pos }

var errEOF = errors.New("unexpected end of input")

// Byte reads one byte.
func (r *Reader) Byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// Bytes reads n bytes (aliasing the input).
func (r *Reader) Bytes(n int) ([]byte, error) {
	if n < 0 || n > r.Len() {
		return nil, errEOF
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// U32 reads an unsigned LEB128 of at most 32 bits.
func (r *Reader) U32() (uint32, error) {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		if shift == 28 && c > 0x0f {
			return 0, errors.New("integer representation too long")
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
}

// SkipLEB skips a signed or unsigned LEB128 of at most maxBytes bytes.
func (r *Reader) SkipLEB(maxBytes int) error {
	for i := 0; i < maxBytes; i++ {
		c, err := r.Byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errors.New("integer representation too long")
}

// Name reads a length-prefixed UTF-8 name.
func (r *Reader) Name() (string, error) {
	n, err := r.U32()
	if err != nil {
		return "", err
	}
	b, err := r.Bytes(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
