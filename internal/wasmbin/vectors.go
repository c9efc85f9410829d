package wasmbin

import "fmt"

// A decoder sizes what it allocates by the counts and lengths a module
// declares before it reads what they count: wazero makes a slice of a
// section's declared entries, a map of its exports, a buffer of a name's
// declared length, before it finds the section ends sooner. Measured with
// wazero v1.12.0 by compiling, in the interpreter, a module of one
// section declaring 2^28 entries and nothing more, then reading
// runtime.MemStats.HeapSys: 10 GiB for globals, 14 GiB for data segments,
// 18 GiB for element segments; for exports, the compile had not returned
// after 60 s; a declared import count ended the process ("fatal error:
// runtime: out of memory"). The checks below walk every vector the
// decoder sizes that way and refuse a count over its limit, or a length
// past the end of its section, so that what a decoder allocates stays
// proportional to the module's real size.

// exports checks the export section: its count, and each export's name
// against the bytes that are there.
func (c *checker) exports(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), c.Exports) {
		return over("Exports", uint64(n), c.Exports, "", "module has %d exports", n)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.Name(); err != nil {
			return fmt.Errorf("export %d: name: %w", i, err)
		}
		if _, err := r.Byte(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		if err := r.SkipLEB(5); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
	}
	return nil
}

// data checks that each data segment's bytes are there.
func (c *checker) data(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), c.DataSegments) {
		return over("DataSegments", uint64(n), c.DataSegments, "", "module has %d data segments", n)
	}
	for i := uint32(0); i < n; i++ {
		flags, err := r.U32()
		if err != nil {
			return fmt.Errorf("data segment %d: %w", i, err)
		}
		switch flags {
		case 0: // active, memory 0
			err = r.skipConstExpr()
		case 1: // passive
		case 2: // active, explicit memory
			if err = r.SkipLEB(5); err == nil {
				err = r.skipConstExpr()
			}
		default:
			err = fmt.Errorf("unknown data segment kind %d", flags)
		}
		if err != nil {
			return fmt.Errorf("data segment %d: %w", i, err)
		}
		size, err := r.U32()
		if err != nil {
			return fmt.Errorf("data segment %d: %w", i, err)
		}
		if _, err := r.Bytes(int(size)); err != nil {
			return fmt.Errorf("data segment %d declares %d bytes, %d are left in the section: truncated", i, size, r.Len())
		}
	}
	return nil
}

// elements checks the element segments and the entries of all of them
// together.
func (c *checker) elements(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), c.ElementSegments) {
		return over("ElementSegments", uint64(n), c.ElementSegments, "", "module has %d element segments", n)
	}
	var items uint64
	for i := uint32(0); i < n; i++ {
		count, err := r.elementHeader()
		if err != nil {
			return fmt.Errorf("element segment %d: %w", i, err)
		}
		if items += uint64(count.n); exceeds(items, c.ElementItems) {
			return over("ElementItems", items, c.ElementItems, "", "module's element segments have %d entries or more", items)
		}
		for j := uint32(0); j < count.n; j++ {
			if count.exprs {
				err = r.skipConstExpr()
			} else {
				err = r.SkipLEB(5)
			}
			if err != nil {
				return fmt.Errorf("element segment %d entry %d: %w", i, j, err)
			}
		}
	}
	return nil
}

type elementCount struct {
	n     uint32
	exprs bool // entries are constant expressions, not function indices
}

// elementHeader reads an element segment up to its entries.
func (r *Reader) elementHeader() (elementCount, error) {
	flags, err := r.U32()
	if err != nil {
		return elementCount{}, err
	}
	if flags > 7 {
		return elementCount{}, fmt.Errorf("unknown element segment kind %d", flags)
	}
	if flags&0x02 != 0 && flags&0x01 == 0 { // explicit table index (2, 6)
		if err := r.SkipLEB(5); err != nil {
			return elementCount{}, err
		}
	}
	if flags&0x01 == 0 { // active: offset expression (0, 2, 4, 6)
		if err := r.skipConstExpr(); err != nil {
			return elementCount{}, err
		}
	}
	if flags&0x03 != 0 { // elemkind or reftype byte (1, 2, 3, 5, 6, 7)
		if _, err := r.Byte(); err != nil {
			return elementCount{}, err
		}
	}
	n, err := r.U32()
	return elementCount{n: n, exprs: flags&0x04 != 0}, err
}

// tags checks the exception-handling tag section, which wazero decodes
// whatever features are enabled.
func (c *checker) tags(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), c.Tags) {
		return over("Tags", uint64(n), c.Tags, "", "module has %d tags", n)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.Byte(); err != nil {
			return fmt.Errorf("tag %d: %w", i, err)
		}
		if err := r.SkipLEB(5); err != nil {
			return fmt.Errorf("tag %d: %w", i, err)
		}
	}
	return nil
}

// names checks the function and local name maps of a "name" custom
// section: a map names at most every function, and each function's locals
// at most its parameters and locals.
func (c *checker) names(payload []byte) error {
	r := NewReader(payload)
	for !r.EOF() {
		id, err := r.Byte()
		if err != nil {
			return err
		}
		size, err := r.U32()
		if err != nil {
			return err
		}
		sub, err := r.Bytes(int(size))
		if err != nil {
			return fmt.Errorf("subsection %d: truncated", id)
		}
		if id != 1 && id != 2 {
			continue // other subsections hold one name or are not decoded
		}
		sr := NewReader(sub)
		n, err := sr.U32()
		if err != nil {
			return err
		}
		if exceeds(uint64(n), c.Functions) {
			return over("Functions", uint64(n), c.Functions, "", "name section names %d functions", n)
		}
		for i := uint32(0); i < n; i++ {
			if err := sr.SkipLEB(5); err != nil {
				return err
			}
			if id == 1 {
				if _, err := sr.Name(); err != nil {
					return fmt.Errorf("function name %d: %w", i, err)
				}
				continue
			}
			m, err := sr.U32()
			if err != nil {
				return err
			}
			if max := c.Locals + c.Params; c.Locals != 0 && c.Params != 0 && uint64(m) > max {
				return over("Locals", uint64(m), max, "", "name section names %d locals of one function", m)
			}
			for j := uint32(0); j < m; j++ {
				if err := sr.SkipLEB(5); err != nil {
					return err
				}
				if _, err := sr.Name(); err != nil {
					return fmt.Errorf("local name %d of entry %d: %w", j, i, err)
				}
			}
		}
	}
	return nil
}

// skipConstExpr skips a constant expression up to and including its end.
func (r *Reader) skipConstExpr() error {
	for {
		op, err := r.Byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b: // end
			return nil
		case 0x41, 0x42, 0x23, 0xd2: // i32.const, i64.const, global.get, ref.func
			err = r.SkipLEB(10)
		case 0x43: // f32.const
			_, err = r.Bytes(4)
		case 0x44: // f64.const
			_, err = r.Bytes(8)
		case 0xd0: // ref.null t
			_, err = r.Byte()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constant arithmetic
		case 0xfd: // v128.const
			var sub uint32
			if sub, err = r.U32(); err == nil {
				if sub != 12 {
					return fmt.Errorf("instruction 0xfd %d is not constant", sub)
				}
				_, err = r.Bytes(16)
			}
		default:
			return fmt.Errorf("instruction 0x%02x is not constant", op)
		}
		if err != nil {
			return err
		}
	}
}
