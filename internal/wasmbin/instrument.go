package wasmbin

import (
	"errors"
	"fmt"
	"strings"
)

// sectionOrder is the order non-custom sections must appear in.
var sectionOrder = map[byte]int{
	SectionType: 1, SectionImport: 2, SectionFunction: 3, SectionTable: 4,
	SectionMemory: 5, SectionTag: 6, SectionGlobal: 7, SectionExport: 8,
	SectionStart: 9, SectionElement: 10, SectionDataCount: 11, SectionCode: 12,
	SectionData: 13,
}

// Instrumented describes what Instrument changed.
type Instrumented struct {
	// Module is the rewritten binary.
	Module []byte
	// StartExport is the export name given to the module's start function,
	// which Instrument removed from the start section so that it runs under
	// the interrupt check too; empty when the module had none.
	StartExport string
}

// Instrument adds a mutable i32 global exported as flagExport, and at the
// entry of every function and the head of every loop inserts
//
//	global.get $flag
//	if
//	  unreachable
//	end
//
// Setting the global to a non-zero value from the host therefore stops the
// guest at its next function call or loop iteration, at the cost of one load
// and branch there. A start section is turned into an export named
// startExport, so the host can run it after the flag is reachable.
// DWARF sections are dropped: their code offsets would no longer be right.
func Instrument(wasm []byte, flagExport, startExport string) (*Instrumented, error) {
	sections, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	importedGlobals, definedGlobals := uint32(0), uint32(0)
	var startFunc *uint32
	for _, s := range sections {
		switch s.ID {
		case SectionImport:
			if importedGlobals, err = countImportedGlobals(s.Payload); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case SectionGlobal:
			if definedGlobals, err = NewReader(s.Payload).U32(); err != nil {
				return nil, fmt.Errorf("global section: %w", err)
			}
		case SectionStart:
			f, err := NewReader(s.Payload).U32()
			if err != nil {
				return nil, fmt.Errorf("start section: %w", err)
			}
			startFunc = &f
		}
	}
	flag := importedGlobals + definedGlobals
	check := []byte{0x23}
	check = AppendU32(check, flag)
	check = append(check, 0x04, 0x40, 0x00, 0x0B)

	out := make([]Section, 0, len(sections)+2)
	sawGlobal, sawExport := false, false
	for _, s := range sections {
		switch {
		case s.ID == SectionCustom && strings.HasPrefix(s.Name, ".debug_"):
			continue
		case s.ID == SectionStart:
			continue
		case s.ID == SectionGlobal:
			sawGlobal = true
			s.Payload = appendVec(s.Payload, flagGlobal())
		case s.ID == SectionExport:
			sawExport = true
			p, err := addExports(s.Payload, flagExport, flag, startExport, startFunc)
			if err != nil {
				return nil, err
			}
			s.Payload = p
		case s.ID == SectionCode:
			p, err := instrumentCode(s.Payload, check)
			if err != nil {
				return nil, err
			}
			s.Payload = p
		}
		if s.ID != SectionCustom {
			if !sawGlobal && sectionOrder[s.ID] > sectionOrder[SectionGlobal] {
				sawGlobal = true
				out = append(out, Section{ID: SectionGlobal, Payload: append([]byte{1}, flagGlobal()...)})
			}
			if !sawExport && sectionOrder[s.ID] > sectionOrder[SectionExport] {
				sawExport = true
				p, err := addExports([]byte{0}, flagExport, flag, startExport, startFunc)
				if err != nil {
					return nil, err
				}
				out = append(out, Section{ID: SectionExport, Payload: p})
			}
		}
		out = append(out, s)
	}
	if !sawGlobal {
		out = append(out, Section{ID: SectionGlobal, Payload: append([]byte{1}, flagGlobal()...)})
	}
	if !sawExport {
		p, err := addExports([]byte{0}, flagExport, flag, startExport, startFunc)
		if err != nil {
			return nil, err
		}
		out = append(out, Section{ID: SectionExport, Payload: p})
	}
	res := &Instrumented{Module: Encode(out)}
	if startFunc != nil {
		res.StartExport = startExport
	}
	return res, nil
}

// flagGlobal is (global (mut i32) (i32.const 0)).
func flagGlobal() []byte { return []byte{0x7F, 0x01, 0x41, 0x00, 0x0B} }

// appendVec increments the element count of a vector payload and appends
// one encoded element.
func appendVec(payload, elem []byte) []byte {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		n = 0
	}
	out := AppendU32(nil, n+1)
	out = append(out, payload[r.Pos():]...)
	return append(out, elem...)
}

func addExports(payload []byte, flagName string, flagIdx uint32, startName string, startFunc *uint32) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("export section: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.Name()
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		if name == flagName || (startFunc != nil && name == startName) {
			return nil, fmt.Errorf("module exports %q, a name reserved for wasmgate", name)
		}
		if _, err := r.Byte(); err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		if _, err := r.U32(); err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
	}
	elem := appendName(nil, flagName)
	elem = append(elem, 0x03)
	elem = AppendU32(elem, flagIdx)
	added := uint32(1)
	if startFunc != nil {
		elem = appendName(elem, startName)
		elem = append(elem, 0x00)
		elem = AppendU32(elem, *startFunc)
		added++
	}
	out := AppendU32(nil, n+added)
	out = append(out, payload[NewReader(payload).skipU32():]...)
	return append(out, elem...), nil
}

func (r *Reader) skipU32() int {
	_, _ = r.U32()
	return r.pos
}

func appendName(dst []byte, s string) []byte {
	dst = AppendU32(dst, uint32(len(s)))
	return append(dst, s...)
}

func countImportedGlobals(payload []byte) (uint32, error) {
	imports, err := readImports(payload)
	if err != nil {
		return 0, err
	}
	var globals uint32
	for _, im := range imports {
		if im.Kind == "global" {
			globals++
		}
	}
	return globals, nil
}

func (r *Reader) skipLimits() error {
	flags, err := r.Byte()
	if err != nil {
		return err
	}
	if err := r.SkipLEB(10); err != nil {
		return err
	}
	if flags&0x01 != 0 {
		return r.SkipLEB(10)
	}
	return nil
}

func instrumentCode(payload, check []byte) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("code section: %w", err)
	}
	out := AppendU32(make([]byte, 0, len(payload)+int(n)*len(check)*2), n)
	var body []byte
	for i := uint32(0); i < n; i++ {
		size, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("code section: function body %d: %w", i, err)
		}
		b, err := r.Bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("code section: function body %d: truncated", i)
		}
		body, err = instrumentBody(body[:0], b, check)
		if err != nil {
			return nil, fmt.Errorf("code section: function body %d: %w", i, err)
		}
		out = AppendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	if !r.EOF() {
		return nil, errors.New("code section: trailing bytes after the last function body")
	}
	return out, nil
}

func instrumentBody(dst, body, check []byte) ([]byte, error) {
	r := NewReader(body)
	groups, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	for j := uint32(0); j < groups; j++ {
		if err := r.SkipLEB(5); err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		if err := r.skipValType(); err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
	}
	dst = append(dst, body[:r.pos]...)
	dst = append(dst, check...)
	copied := r.pos
	for !r.EOF() {
		at := r.pos
		op, _ := r.Byte()
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("instruction 0x%02x at body offset %d: %w", op, at, err)
		}
		if op == 0x03 { // loop: check at the head of every iteration
			dst = append(dst, body[copied:r.pos]...)
			dst = append(dst, check...)
			copied = r.pos
		}
	}
	return append(dst, body[copied:]...), nil
}

func (r *Reader) skipValType() error {
	t, err := r.Byte()
	if err != nil {
		return err
	}
	switch t {
	case 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		return nil
	}
	return fmt.Errorf("unsupported value type 0x%02x", t)
}

func (r *Reader) skipBlockType() error {
	if r.EOF() {
		return errEOF
	}
	switch r.b[r.pos] {
	case 0x40, 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		r.pos++
		return nil
	}
	return r.SkipLEB(5) // type index as s33
}

func (r *Reader) skipMemArg() error {
	align, err := r.U32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 { // multi-memory: memory index follows
		if err := r.SkipLEB(5); err != nil {
			return err
		}
	}
	return r.SkipLEB(10) // offset (u64 with memory64)
}

func (r *Reader) skipU32s(n int) error {
	for i := 0; i < n; i++ {
		if _, err := r.U32(); err != nil {
			return err
		}
	}
	return nil
}

// skipImmediates consumes the immediates of op. Unknown opcodes are errors:
// the instrumented module must be exactly as valid as the original.
func (r *Reader) skipImmediates(op byte) error {
	switch {
	case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0B || op == 0x0F || op == 0x1A || op == 0x1B:
		return nil
	case op >= 0x02 && op <= 0x04: // block, loop, if
		return r.skipBlockType()
	case op == 0x0C || op == 0x0D: // br, br_if
		return r.skipU32s(1)
	case op == 0x0E: // br_table
		n, err := r.U32()
		if err != nil {
			return err
		}
		return r.skipU32s(int(n) + 1)
	case op == 0x10 || op == 0x12: // call, return_call
		return r.skipU32s(1)
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		return r.skipU32s(2)
	case op == 0x1C: // select t*
		n, err := r.U32()
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			if err := r.skipValType(); err != nil {
				return err
			}
		}
		return nil
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		return r.skipU32s(1)
	case op >= 0x28 && op <= 0x3E: // loads and stores
		return r.skipMemArg()
	case op == 0x3F || op == 0x40: // memory.size, memory.grow
		return r.skipU32s(1)
	case op == 0x41:
		return r.SkipLEB(5)
	case op == 0x42:
		return r.SkipLEB(10)
	case op == 0x43:
		_, err := r.Bytes(4)
		return err
	case op == 0x44:
		_, err := r.Bytes(8)
		return err
	case op >= 0x45 && op <= 0xC4: // numeric, sign extension
		return nil
	case op == 0xD0: // ref.null heaptype
		return r.SkipLEB(5)
	case op == 0xD1:
		return nil
	case op == 0xD2: // ref.func
		return r.skipU32s(1)
	case op == 0xFC:
		return r.skipFC()
	case op == 0xFD:
		return r.skipSIMD()
	case op == 0xFE:
		return r.skipAtomic()
	}
	return errors.New("unsupported opcode (exception handling, GC and function references are not supported)")
}

func (r *Reader) skipFC() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncation
		return nil
	case sub == 8 || sub == 10 || sub == 12 || sub == 14: // memory.init, memory.copy, table.init, table.copy
		return r.skipU32s(2)
	case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
		return r.skipU32s(1)
	}
	return fmt.Errorf("unsupported 0xFC sub-opcode %d", sub)
}

func (r *Reader) skipSIMD() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // loads, stores, load_zero
		return r.skipMemArg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		_, err := r.Bytes(16)
		return err
	case sub >= 21 && sub <= 34: // extract/replace lane
		_, err := r.Byte()
		return err
	case sub >= 84 && sub <= 91: // load/store lane
		if err := r.skipMemArg(); err != nil {
			return err
		}
		_, err := r.Byte()
		return err
	case sub <= 0x113:
		return nil
	}
	return fmt.Errorf("unsupported SIMD sub-opcode %d", sub)
}

func (r *Reader) skipAtomic() error {
	sub, err := r.U32()
	if err != nil {
		return err
	}
	switch {
	case sub == 0x03: // atomic.fence
		_, err := r.Byte()
		return err
	case sub <= 0x02 || (sub >= 0x10 && sub <= 0x4E):
		return r.skipMemArg()
	}
	return fmt.Errorf("unsupported atomic sub-opcode %d", sub)
}
