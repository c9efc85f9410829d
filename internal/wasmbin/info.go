package wasmbin

import "fmt"

// Import is one entry of a module's import section.
type Import struct {
	Module string
	Name   string
	// Kind is "func", "table", "memory", "global" or "tag".
	Kind string
}

// Info is what the runtime checks about a module before compiling it.
type Info struct {
	Imports []Import
	// Memories is the number of memories the module defines itself.
	Memories int
	// MemoryMinPages is the initial size of the first defined memory.
	MemoryMinPages uint64
	// Tables are the tables the module defines, in index order.
	Tables []Table
}

// Table is a defined table's declared size in elements.
type Table struct {
	Min uint64
	// Max is the declared maximum; HasMax says whether there is one.
	Max    uint64
	HasMax bool
}

var importKinds = []string{"func", "table", "memory", "global", "tag"}

// ReadInfo reads a module's imports and the initial size of its memory.
func ReadInfo(wasm []byte) (*Info, error) {
	sections, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	info := &Info{}
	for _, s := range sections {
		switch s.ID {
		case SectionImport:
			if info.Imports, err = readImports(s.Payload); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
		case SectionTable:
			if info.Tables, err = readTables(s.Payload); err != nil {
				return nil, fmt.Errorf("table section: %w", err)
			}
		case SectionMemory:
			r := NewReader(s.Payload)
			n, err := r.U32()
			if err != nil {
				return nil, fmt.Errorf("memory section: %w", err)
			}
			info.Memories = int(n)
			if n > 0 {
				if _, err := r.Byte(); err != nil { // flags
					return nil, fmt.Errorf("memory section: %w", err)
				}
				if info.MemoryMinPages, err = r.u64(); err != nil {
					return nil, fmt.Errorf("memory section: %w", err)
				}
			}
		}
	}
	return info, nil
}

func readTables(payload []byte) ([]Table, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	var out []Table
	for i := uint32(0); i < n; i++ {
		if _, err := r.Byte(); err != nil { // element type
			return nil, err
		}
		flags, err := r.Byte()
		if err != nil {
			return nil, err
		}
		var t Table
		if t.Min, err = r.u64(); err != nil {
			return nil, err
		}
		if flags&0x01 != 0 {
			t.HasMax = true
			if t.Max, err = r.u64(); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func (r *Reader) u64() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 70; shift += 7 {
		c, err := r.Byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("integer representation too long")
}

func readImports(payload []byte) ([]Import, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	var out []Import
	for i := uint32(0); i < n; i++ {
		mod, err := r.Name()
		if err != nil {
			return nil, err
		}
		name, err := r.Name()
		if err != nil {
			return nil, err
		}
		start := r.pos
		kind, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if int(kind) >= len(importKinds) {
			return nil, fmt.Errorf("import %s.%s: unknown kind 0x%02x", mod, name, kind)
		}
		r.pos = start
		if err := r.skipImportDesc(); err != nil {
			return nil, fmt.Errorf("import %s.%s: %w", mod, name, err)
		}
		out = append(out, Import{Module: mod, Name: name, Kind: importKinds[kind]})
	}
	return out, nil
}

// skipImportDesc skips a kind byte and its descriptor.
func (r *Reader) skipImportDesc() error {
	kind, err := r.Byte()
	if err != nil {
		return err
	}
	switch kind {
	case 0x00:
		return r.SkipLEB(5)
	case 0x01:
		if _, err := r.Byte(); err != nil {
			return err
		}
		return r.skipLimits()
	case 0x02:
		return r.skipLimits()
	case 0x03:
		if _, err := r.Byte(); err != nil {
			return err
		}
		_, err := r.Byte()
		return err
	case 0x04:
		if _, err := r.Byte(); err != nil {
			return err
		}
		return r.SkipLEB(5)
	}
	return fmt.Errorf("unknown import kind 0x%02x", kind)
}
