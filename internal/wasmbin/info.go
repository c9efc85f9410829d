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

// ReadInfo reads a module's imports and the sizes of its memory and tables,
// and checks the module against DefaultLimits.
func ReadInfo(wasm []byte) (*Info, error) {
	return DefaultLimits().ReadInfo(wasm)
}

// ReadInfo reads a module's imports and the sizes of its memory and tables,
// and checks the module against l. A module over a limit is a *LimitError.
func (l Limits) ReadInfo(wasm []byte) (*Info, error) { return l.readInfo(wasm, true) }

// ReadHeader is ReadInfo without walking the function bodies: it checks
// every limit but those of the code (body size, locals, nesting, br_table
// targets, branch points), in a fraction of the time. A module that passes
// it must still pass ReadInfo before it is compiled.
func (l Limits) ReadHeader(wasm []byte) (*Info, error) { return l.readInfo(wasm, false) }

func (l Limits) readInfo(wasm []byte, code bool) (*Info, error) {
	if err := l.CheckSize(uint64(len(wasm))); err != nil {
		return nil, err
	}
	sections, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	info := &Info{}
	c := &checker{Limits: l}
	for _, s := range sections {
		switch s.ID {
		case SectionType:
			if err := c.types(s.Payload); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		case SectionImport:
			if err := count(s.Payload, "Imports", "imports", l.Imports); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			if info.Imports, err = readImports(s.Payload); err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			for _, im := range info.Imports {
				if im.Kind == "func" {
					c.imported++
				}
			}
		case SectionFunction:
			if err := c.functions(s.Payload); err != nil {
				return nil, fmt.Errorf("function section: %w", err)
			}
		case SectionTable:
			if info.Tables, err = c.tables(s.Payload); err != nil {
				return nil, fmt.Errorf("table section: %w", err)
			}
		case SectionMemory:
			mins, err := c.memories(s.Payload)
			if err != nil {
				return nil, fmt.Errorf("memory section: %w", err)
			}
			info.Memories = len(mins)
			if len(mins) > 0 {
				info.MemoryMinPages = mins[0]
			}
		case SectionGlobal:
			if err := count(s.Payload, "Globals", "globals", l.Globals); err != nil {
				return nil, fmt.Errorf("global section: %w", err)
			}
		case SectionExport:
			if err := c.exports(s.Payload); err != nil {
				return nil, fmt.Errorf("export section: %w", err)
			}
		case SectionElement:
			if err := c.elements(s.Payload); err != nil {
				return nil, fmt.Errorf("element section: %w", err)
			}
		case SectionData:
			if err := c.data(s.Payload); err != nil {
				return nil, fmt.Errorf("data section: %w", err)
			}
		case SectionTag:
			if err := c.tags(s.Payload); err != nil {
				return nil, fmt.Errorf("tag section: %w", err)
			}
		case SectionCustom:
			if s.Name != "name" {
				continue
			}
			if err := c.names(s.Payload); err != nil {
				return nil, fmt.Errorf("name section: %w", err)
			}
		case SectionCode:
			if !code {
				continue
			}
			if err := c.code(s.Payload); err != nil {
				return nil, err
			}
		}
	}
	return info, nil
}

// limits reads the limits of a table or memory type.
func (r *Reader) limits() (min, max uint64, hasMax bool, err error) {
	flags, err := r.Byte()
	if err != nil {
		return 0, 0, false, err
	}
	if min, err = r.u64(); err != nil {
		return 0, 0, false, err
	}
	if flags&0x01 != 0 {
		if max, err = r.u64(); err != nil {
			return 0, 0, false, err
		}
	}
	return min, max, flags&0x01 != 0, nil
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

// CheckSize returns the *LimitError for a module of n bytes, or nil: a
// reader can refuse a file by its size before reading it.
func (l Limits) CheckSize(n uint64) error {
	if exceeds(n, l.ModuleSize) {
		return over("ModuleSize", n, l.ModuleSize, inBytes(l.ModuleSize), "module is %d bytes", n)
	}
	return nil
}
