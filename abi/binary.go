package abi

import (
	"bytes"
	"errors"
	"fmt"
)

// The little of the WebAssembly binary format that finding, checking and
// embedding the manifest section needs: sections, LEB128 integers and
// names. (The runtime's own reader, with the structural limits, is
// internal/wasmbin; abi stays free of the rest of the module.)

const (
	sectionCustom   byte = 0
	sectionFunction byte = 3
	sectionExport   byte = 7
	sectionCode     byte = 10
)

// wasmHeader is the magic number and version 1 that start every core module.
var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// section is one section of a module. For custom sections name is set and
// payload excludes the name; for the others payload is the whole content.
type section struct {
	id      byte
	name    string
	payload []byte
}

// parseSections splits a module into its sections. Payloads alias b.
func parseSections(b []byte) ([]section, error) {
	if len(b) < len(wasmHeader) || !bytes.Equal(b[:4], wasmHeader[:4]) {
		return nil, errors.New("not a WebAssembly module (missing \\0asm version 1 header)")
	}
	if !bytes.Equal(b[4:8], wasmHeader[4:]) {
		return nil, fmt.Errorf("unsupported wasm binary version %x (only version 1 core modules are supported; components are not)", b[4:8])
	}
	var out []section
	r := &reader{b: b, pos: 8}
	for r.pos < len(r.b) {
		start := r.pos
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section at offset %d: size: %w", start, err)
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d at offset %d: %d bytes declared, %d left: truncated module", id, start, size, len(r.b)-r.pos)
		}
		s := section{id: id, payload: payload}
		if id == sectionCustom {
			pr := &reader{b: payload}
			name, err := pr.name()
			if err != nil {
				return nil, fmt.Errorf("custom section at offset %d: name: %w", start, err)
			}
			s.name = name
			s.payload = payload[pr.pos:]
		}
		out = append(out, s)
	}
	return out, nil
}

// encodeSections writes sections back into a module binary.
func encodeSections(sections []section) []byte {
	n := len(wasmHeader)
	for _, s := range sections {
		n += len(s.payload) + len(s.name) + 16
	}
	out := make([]byte, 0, n)
	out = append(out, wasmHeader...)
	for _, s := range sections {
		out = append(out, s.id)
		if s.id != sectionCustom {
			out = appendU32(out, uint32(len(s.payload)))
			out = append(out, s.payload...)
			continue
		}
		size := uint32(len(appendU32(nil, uint32(len(s.name))))) + uint32(len(s.name)) + uint32(len(s.payload))
		out = appendU32(out, size)
		out = appendU32(out, uint32(len(s.name)))
		out = append(out, s.name...)
		out = append(out, s.payload...)
	}
	return out
}

// appendU32 appends v as unsigned LEB128.
func appendU32(dst []byte, v uint32) []byte {
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

// reader decodes the primitive encodings of the binary format.
type reader struct {
	b   []byte
	pos int
}

var errEOF = errors.New("unexpected end of input")

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errEOF
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

// bytes reads n bytes (aliasing the input).
func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, errEOF
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

// u32 reads an unsigned LEB128 of at most 32 bits.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c, err := r.byte()
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

// name reads a length-prefixed name.
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
