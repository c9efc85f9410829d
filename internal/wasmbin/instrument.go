package wasmbin

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// sectionOrder is the order non-custom sections must appear in.
var sectionOrder = map[byte]int{
	SectionType: 1, SectionImport: 2, SectionFunction: 3, SectionTable: 4,
	SectionMemory: 5, SectionTag: 6, SectionGlobal: 7, SectionExport: 8,
	SectionStart: 9, SectionElement: 10, SectionDataCount: 11, SectionCode: 12,
	SectionData: 13,
}

// Names of the functions Instrument imports from the host module it is given.
const (
	// FuncYield is () -> i32: the host checks for interruption and returns
	// a fresh fuel budget.
	FuncYield = "yield"
	// FuncTableGrow is (delta, size, table i32) -> i32: called before every
	// table.grow with the table's current size; the host returns delta to
	// let the growth happen, or 0xFFFFFFFF to make it fail (table.grow then
	// returns -1, as it does past a table's declared maximum).
	FuncTableGrow = "table_grow"
	// FuncMemoryGrow is (delta, size, memory i32) -> i32, imported by
	// InstrumentGrowth: called before every memory.grow with the memory's
	// current size in pages; the host returns delta to let the growth
	// happen, or 0xFFFFFFFF to make it fail (no 32-bit memory can grow by
	// that many pages, so memory.grow returns -1).
	FuncMemoryGrow = "memory_grow"
)

// GrowthVersion changes whenever InstrumentGrowth's output for the same
// input does, so that caches of what it produced are keyed by it.
const GrowthVersion = 1

// InstrumentVersion changes whenever Instrument's output for the same input
// does, so that caches of instrumented modules are keyed by it.
const InstrumentVersion = 2

// IsInstrumented reports whether wasm parses as a module that imports
// hostModule.FuncYield, as Instrument's output does: a cheap check of a
// cached copy, not a validation.
func IsInstrumented(wasm []byte, hostModule string) bool {
	sections, err := Parse(wasm)
	if err != nil {
		return false
	}
	for _, s := range sections {
		if s.ID != SectionImport {
			continue
		}
		imports, err := readImports(s.Payload)
		if err != nil {
			return false
		}
		for _, im := range imports {
			if im.Module == hostModule && im.Name == FuncYield {
				return true
			}
		}
	}
	return false
}

// Fuel charged for bulk instructions, which do work in proportion to an
// operand rather than per instruction: one unit per 2^MemoryFuelShift bytes
// of memory.fill/copy/init and per 2^TableFuelShift elements of
// table.fill/copy/init. A loop iteration costs one unit.
const (
	MemoryFuelShift = 10
	TableFuelShift  = 7
)

// Instrument bounds how long a guest can run without returning to the host.
// It imports hostModule.FuncYield and hostModule.FuncTableGrow and adds a
// mutable i32 global, the fuel, and at the entry of every function and the
// head of every loop inserts
//
//	global.get $fuel
//	i32.eqz
//	if
//	  call $yield       ;; the host checks for interruption, returns new fuel
//	  global.set $fuel
//	end
//	global.get $fuel
//	i32.const 1
//	i32.sub
//	global.set $fuel
//
// so the guest calls the host once every fuel-worth of calls and loop
// iterations. That call is where the host stops a guest whose deadline has
// passed, and where the Go scheduler and garbage collector get the goroutine
// back: compiled wasm is otherwise never preempted.
//
// Bulk instructions (memory.fill, memory.copy, memory.init, table.fill,
// table.copy, table.init) are charged in proportion to their length operand
// (see MemoryFuelShift), through a scratch local added to the function:
//
//	local.tee $n
//	i32.const SHIFT
//	i32.shr_u
//	global.get $fuel
//	i32.ge_u
//	if                  ;; costs at least what is left: check in with the host
//	  call $yield
//	  global.set $fuel
//	else
//	  global.get $fuel  ;; fuel -= n >> SHIFT
//	  ...
//	end
//	local.get $n
//
// so one uninterruptible step is at most one bulk instruction, whatever
// the loop around it. Every table.grow first asks the host (FuncTableGrow),
// which counts table elements against the call's memory limit.
//
// Adding function imports shifts every defined function's index;
// Instrument rewrites every reference (calls, ref.func, element segments,
// exports, the start function, global initializers and the name section).
// DWARF and code-metadata sections are dropped: their offsets would be wrong.
func Instrument(wasm []byte, hostModule string) ([]byte, error) {
	return instrument(wasm, hostModule, true)
}

// InstrumentGrowth makes a module ask the host before it grows a memory or
// a table, for an engine that stops guests by other means than fuel but
// counts memory and tables against one limit together: it imports
// hostModule.FuncMemoryGrow and hostModule.FuncTableGrow and puts a call
// before every memory.grow and table.grow, as Instrument does for
// table.grow. It adds no fuel, no checks and no locals; function references
// are renumbered as by Instrument.
func InstrumentGrowth(wasm []byte, hostModule string) ([]byte, error) {
	return instrument(wasm, hostModule, false)
}

// instrument is Instrument with fuel, else InstrumentGrowth.
func instrument(wasm []byte, hostModule string, fuel bool) ([]byte, error) {
	sections, err := Parse(wasm)
	if err != nil {
		return nil, err
	}
	var importedFuncs, importedGlobals, definedGlobals, types uint32
	var params []uint32    // parameter count of each type
	var funcTypes []uint32 // type of each defined function
	for _, s := range sections {
		switch s.ID {
		case SectionType:
			if params, err = readParamCounts(s.Payload); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
			types = uint32(len(params))
		case SectionImport:
			imports, err := readImports(s.Payload)
			if err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			for _, im := range imports {
				switch im.Kind {
				case "func":
					importedFuncs++
				case "global":
					importedGlobals++
				}
			}
		case SectionFunction:
			r := NewReader(s.Payload)
			n, err := r.U32()
			if err != nil {
				return nil, fmt.Errorf("function section: %w", err)
			}
			for i := uint32(0); i < n; i++ {
				t, err := r.U32()
				if err != nil {
					return nil, fmt.Errorf("function section: %w", err)
				}
				if t >= types {
					return nil, fmt.Errorf("function section: function %d has type %d, but there are %d types", i, t, types)
				}
				funcTypes = append(funcTypes, t)
			}
		case SectionGlobal:
			if definedGlobals, err = NewReader(s.Payload).U32(); err != nil {
				return nil, fmt.Errorf("global section: %w", err)
			}
		}
	}
	// The host imports come after the existing function imports, so they
	// take the first defined functions' indices; the fuel global comes after
	// every existing global.
	ins := &instrumenter{
		shiftFrom:  importedFuncs,
		yield:      importedFuncs,
		tableGrow:  importedFuncs + 1,
		memoryGrow: noFunc,
		params:     params,
		funcTypes:  funcTypes,
	}
	// (i32, i32, i32) -> i32, the type of table_grow and memory_grow.
	growType := []byte{0x60, 0x03, 0x7F, 0x7F, 0x7F, 0x01, 0x7F}
	newTypes := [][]byte{
		{0x60, 0x00, 0x01, 0x7F}, // yield: () -> i32
		growType,                 // table_grow
	}
	names := []string{FuncYield, FuncTableGrow}
	// The fuel global, when there is one: (mut i32) (i32.const 0).
	var fuelGlobal []byte
	if fuel {
		ins.fuel, ins.charging = importedGlobals+definedGlobals, true
		ins.check = ins.checkSequence()
		fuelGlobal = []byte{0x7F, 0x01, 0x41, 0x00, 0x0B}
	} else {
		// memory_grow takes yield's place: the same number of imports,
		// so function indices shift alike.
		ins.yield, ins.memoryGrow = noFunc, importedFuncs
		newTypes[0], names[0] = growType, FuncMemoryGrow
	}
	var newImports [][]byte
	for i, name := range names {
		im := appendName(nil, hostModule)
		im = appendName(im, name)
		im = append(im, 0x00)
		newImports = append(newImports, AppendU32(im, types+uint32(i)))
	}

	added := map[byte][]byte{
		SectionType:   appendVec(nil, newTypes...),
		SectionImport: appendVec(nil, newImports...),
	}
	missing := []byte{SectionType, SectionImport}
	if fuel {
		added[SectionGlobal] = appendVec(nil, fuelGlobal)
		missing = append(missing, SectionGlobal)
	}
	seen := map[byte]bool{}
	out := make([]Section, 0, len(sections)+3)
	insertMissing := func(before byte) {
		for _, id := range missing {
			if !seen[id] && sectionOrder[id] < sectionOrder[before] {
				seen[id] = true
				out = append(out, Section{ID: id, Payload: added[id]})
			}
		}
	}
	for _, s := range sections {
		if s.ID == SectionCustom {
			switch {
			case strings.HasPrefix(s.Name, ".debug_"), strings.HasPrefix(s.Name, "metadata.code."):
				continue
			case s.Name == "name":
				p, err := ins.names(s.Payload)
				if err != nil {
					continue // names are for stack traces only: drop rather than mislead
				}
				s.Payload = p
			}
			out = append(out, s)
			continue
		}
		insertMissing(s.ID)
		seen[s.ID] = true
		var err error
		switch s.ID {
		case SectionType:
			s.Payload = appendVec(s.Payload, newTypes...)
		case SectionImport:
			s.Payload = appendVec(s.Payload, newImports...)
		case SectionGlobal:
			s.Payload, err = ins.globals(s.Payload, fuelGlobal)
		case SectionExport:
			s.Payload, err = ins.exports(s.Payload)
		case SectionStart:
			var f uint32
			if f, err = NewReader(s.Payload).U32(); err == nil {
				s.Payload = AppendU32(nil, ins.shift(f))
			}
		case SectionElement:
			s.Payload, err = ins.elements(s.Payload)
		case SectionCode:
			s.Payload, err = ins.code(s.Payload)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	insertMissing(0xFF)
	return Encode(out), nil
}

type instrumenter struct {
	shiftFrom  uint32 // function indices >= this move up by addedImports
	yield      uint32 // index of the yield import, or noFunc
	tableGrow  uint32 // index of the table_grow import
	memoryGrow uint32 // index of the memory_grow import, or noFunc
	fuel       uint32 // index of the fuel global, when charging
	// charging is set when the module spends fuel: checks at function
	// entries and loop heads (check), charges before bulk instructions.
	charging  bool
	params    []uint32
	funcTypes []uint32
	check     []byte
	buf       []byte // reused buffer for one body's instructions
}

// noFunc marks an import the instrumenter does not add.
const noFunc = math.MaxUint32

// addedImports is how many functions Instrument imports.
const addedImports = 2

func (ins *instrumenter) shift(f uint32) uint32 {
	if f >= ins.shiftFrom {
		return f + addedImports
	}
	return f
}

func (ins *instrumenter) checkSequence() []byte {
	g := AppendU32(nil, ins.fuel)
	b := append([]byte{0x23}, g...)       // global.get $fuel
	b = append(b, 0x45, 0x04, 0x40, 0x10) // i32.eqz; if; call
	b = AppendU32(b, ins.yield)           // $yield
	b = append(append(b, 0x24), g...)     // global.set $fuel
	b = append(b, 0x0B, 0x23)             // end; global.get
	b = append(b, g...)                   // $fuel
	b = append(b, 0x41, 0x01, 0x6B, 0x24) // i32.const 1; i32.sub; global.set
	return append(b, g...)                // $fuel
}

// appendVec adds encoded elements to a vector payload (nil is the empty
// vector) and updates its count.
func appendVec(payload []byte, elems ...[]byte) []byte {
	var n uint32
	var rest []byte
	if payload != nil {
		r := NewReader(payload)
		n, _ = r.U32()
		rest = payload[r.Pos():]
	}
	out := AppendU32(nil, n+uint32(len(elems)))
	out = append(out, rest...)
	for _, e := range elems {
		out = append(out, e...)
	}
	return out
}

// readParamCounts returns the parameter count of each function type.
func readParamCounts(payload []byte) ([]uint32, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, min(n, uint32(len(payload))))
	for i := uint32(0); i < n; i++ {
		form, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if form != 0x60 {
			return nil, fmt.Errorf("type %d: unsupported type form 0x%02x (only function types are supported)", i, form)
		}
		var np uint32
		for k := 0; k < 2; k++ { // parameters, then results
			c, err := r.U32()
			if err != nil {
				return nil, err
			}
			for j := uint32(0); j < c; j++ {
				if err := r.skipValType(); err != nil {
					return nil, fmt.Errorf("type %d: %w", i, err)
				}
			}
			if k == 0 {
				np = c
			}
		}
		out = append(out, np)
	}
	return out, nil
}

func appendName(dst []byte, s string) []byte {
	dst = AppendU32(dst, uint32(len(s)))
	return append(dst, s...)
}

// globals rewrites initializers (which may hold ref.func) and appends g.
func (ins *instrumenter) globals(payload, g []byte) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("global section: %w", err)
	}
	added := uint32(0)
	if g != nil {
		added = 1
	}
	out := AppendU32(nil, n+added)
	for i := uint32(0); i < n; i++ {
		start := r.pos
		if err := r.skipValType(); err != nil {
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
		if _, err := r.Byte(); err != nil { // mutability
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
		out = append(out, payload[start:r.pos]...)
		if out, err = ins.constExpr(out, r); err != nil {
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
	}
	return append(out, g...), nil
}

// constExpr copies a constant expression up to and including its end,
// shifting ref.func indices.
func (ins *instrumenter) constExpr(out []byte, r *Reader) ([]byte, error) {
	for {
		at := r.pos
		op, err := r.Byte()
		if err != nil {
			return nil, err
		}
		if op == 0xD2 {
			f, err := r.U32()
			if err != nil {
				return nil, err
			}
			out = AppendU32(append(out, op), ins.shift(f))
			continue
		}
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("constant expression: opcode 0x%02x: %w", op, err)
		}
		out = append(out, r.b[at:r.pos]...)
		if op == 0x0B {
			return out, nil
		}
	}
}

func (ins *instrumenter) exports(payload []byte) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("export section: %w", err)
	}
	out := AppendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		name, err := r.Name()
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		kind, err := r.Byte()
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		idx, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		if kind == 0x00 {
			idx = ins.shift(idx)
		}
		out = append(appendName(out, name), kind)
		out = AppendU32(out, idx)
	}
	return out, nil
}

func (ins *instrumenter) elements(payload []byte) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("element section: %w", err)
	}
	out := AppendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		if out, err = ins.element(out, r); err != nil {
			return nil, fmt.Errorf("element segment %d: %w", i, err)
		}
	}
	return out, nil
}

func (ins *instrumenter) element(out []byte, r *Reader) ([]byte, error) {
	flags, err := r.U32()
	if err != nil {
		return nil, err
	}
	if flags > 7 {
		return nil, fmt.Errorf("unknown element segment kind %d", flags)
	}
	out = AppendU32(out, flags)
	copyU32 := func() error {
		v, err := r.U32()
		out = AppendU32(out, v)
		return err
	}
	copyByte := func() error {
		b, err := r.Byte()
		out = append(out, b)
		return err
	}
	if flags&0x02 != 0 && flags&0x01 == 0 { // explicit table index (2, 6)
		if err := copyU32(); err != nil {
			return nil, err
		}
	}
	if flags&0x01 == 0 { // active: offset expression (0, 2, 4, 6)
		if out, err = ins.constExpr(out, r); err != nil {
			return nil, err
		}
	}
	if flags&0x03 != 0 { // elemkind or reftype byte (1, 2, 3, 5, 6, 7)
		if err := copyByte(); err != nil {
			return nil, err
		}
	}
	count, err := r.U32()
	if err != nil {
		return nil, err
	}
	out = AppendU32(out, count)
	for j := uint32(0); j < count; j++ {
		if flags&0x04 == 0 { // function indices
			f, err := r.U32()
			if err != nil {
				return nil, err
			}
			out = AppendU32(out, ins.shift(f))
		} else if out, err = ins.constExpr(out, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// names rewrites the function and local name maps of a "name" section.
func (ins *instrumenter) names(payload []byte) ([]byte, error) {
	r := NewReader(payload)
	var out []byte
	for !r.EOF() {
		id, err := r.Byte()
		if err != nil {
			return nil, err
		}
		size, err := r.U32()
		if err != nil {
			return nil, err
		}
		sub, err := r.Bytes(int(size))
		if err != nil {
			return nil, err
		}
		switch id {
		case 1: // function names: vec(funcidx name)
			if sub, err = ins.nameMap(sub, false); err != nil {
				return nil, err
			}
		case 2: // local names: vec(funcidx vec(localidx name))
			if sub, err = ins.nameMap(sub, true); err != nil {
				return nil, err
			}
		}
		out = append(out, id)
		out = AppendU32(out, uint32(len(sub)))
		out = append(out, sub...)
	}
	return out, nil
}

func (ins *instrumenter) nameMap(b []byte, indirect bool) ([]byte, error) {
	r := NewReader(b)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	out := AppendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		f, err := r.U32()
		if err != nil {
			return nil, err
		}
		out = AppendU32(out, ins.shift(f))
		start := r.pos
		if indirect {
			m, err := r.U32()
			if err != nil {
				return nil, err
			}
			for j := uint32(0); j < m; j++ {
				if err := r.SkipLEB(5); err != nil {
					return nil, err
				}
				if _, err := r.Name(); err != nil {
					return nil, err
				}
			}
		} else if _, err := r.Name(); err != nil {
			return nil, err
		}
		out = append(out, b[start:r.pos]...)
	}
	if !r.EOF() {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

func (ins *instrumenter) code(payload []byte) ([]byte, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("code section: %w", err)
	}
	out := AppendU32(make([]byte, 0, len(payload)+len(payload)/4), n)
	if int(n) != len(ins.funcTypes) {
		return nil, fmt.Errorf("code section: %d function bodies for %d functions", n, len(ins.funcTypes))
	}
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
		body, err = ins.body(body[:0], b, ins.params[ins.funcTypes[i]])
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

// body instruments one function body. params is the function's parameter
// count: a scratch local, when bulk instructions need one, comes after the
// parameters and the declared locals.
func (ins *instrumenter) body(dst, body []byte, params uint32) ([]byte, error) {
	r := NewReader(body)
	groups, err := r.U32()
	if err != nil {
		return nil, fmt.Errorf("locals: %w", err)
	}
	groupsEnd := r.pos
	locals := uint64(params)
	for j := uint32(0); j < groups; j++ {
		c, err := r.U32()
		if err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
		locals += uint64(c)
		if err := r.skipValType(); err != nil {
			return nil, fmt.Errorf("locals: %w", err)
		}
	}
	localsEnd := r.pos
	if locals >= math.MaxUint32 {
		return nil, fmt.Errorf("locals: %d parameters and locals, too many", locals)
	}
	scratch := uint32(locals) // the added local's index, if one is added
	usedScratch := false

	code := append(ins.buf[:0], ins.check...)
	copied := r.pos
	for !r.EOF() {
		at := r.pos
		op, _ := r.Byte()
		switch op {
		case 0x10, 0x12, 0xD2: // call, return_call, ref.func: shift the index
			f, err := r.U32()
			if err != nil {
				return nil, fmt.Errorf("instruction 0x%02x at body offset %d: %w", op, at, err)
			}
			code = append(code, body[copied:at]...)
			code = AppendU32(append(code, op), ins.shift(f))
			copied = r.pos
			continue
		case 0xFC:
			sub, err := r.U32()
			if err != nil {
				return nil, fmt.Errorf("instruction 0xfc at body offset %d: %w", at, err)
			}
			switch sub {
			case 8, 10, 11: // memory.init, memory.copy, memory.fill
				if !ins.charging {
					break
				}
				code = append(code, body[copied:at]...)
				code = ins.charge(code, scratch, MemoryFuelShift)
				copied, usedScratch = at, true
			case 12, 14, 17: // table.init, table.copy, table.fill
				if !ins.charging {
					break
				}
				code = append(code, body[copied:at]...)
				code = ins.charge(code, scratch, TableFuelShift)
				copied, usedScratch = at, true
			case 15: // table.grow x: ask the host first
				x, err := NewReader(body[r.pos:]).U32()
				if err != nil {
					return nil, fmt.Errorf("table.grow at body offset %d: %w", at, err)
				}
				code = append(code, body[copied:at]...)
				code = AppendU32(append(code, 0xFC, 16), x) // table.size x
				code = appendI32Const(code, int32(x))
				code = AppendU32(append(code, 0x10), ins.tableGrow)
				copied = at
			}
			r.pos = at + 1 // let skipImmediates read the sub-opcode again
		case 0x40: // memory.grow x: ask the host first, when it is asked
			if ins.memoryGrow == noFunc {
				break
			}
			x, err := NewReader(body[r.pos:]).U32()
			if err != nil {
				return nil, fmt.Errorf("memory.grow at body offset %d: %w", at, err)
			}
			code = append(code, body[copied:at]...)
			code = AppendU32(append(code, 0x3F), x) // memory.size x
			code = appendI32Const(code, int32(x))
			code = AppendU32(append(code, 0x10), ins.memoryGrow)
			copied = at
		}
		if err := r.skipImmediates(op); err != nil {
			return nil, fmt.Errorf("instruction 0x%02x at body offset %d: %w", op, at, err)
		}
		if op == 0x03 && ins.charging { // loop: check at the head of every iteration
			code = append(code, body[copied:r.pos]...)
			code = append(code, ins.check...)
			copied = r.pos
		}
	}
	code = append(code, body[copied:]...)
	ins.buf = code

	if !usedScratch {
		dst = append(dst, body[:localsEnd]...)
	} else {
		dst = AppendU32(dst, groups+1)
		dst = append(dst, body[groupsEnd:localsEnd]...)
		dst = append(dst, 0x01, 0x7F) // one more i32
	}
	return append(dst, code...), nil
}

// charge appends the sequence that charges fuel for a bulk instruction
// whose length operand is on top of the stack, leaving it there.
func (ins *instrumenter) charge(code []byte, scratch uint32, shift int32) []byte {
	g := AppendU32(nil, ins.fuel)
	l := AppendU32(nil, scratch)
	code = append(append(code, 0x22), l...) // local.tee $n
	code = appendI32Const(code, shift)
	code = append(code, 0x76, 0x23)       // i32.shr_u; global.get
	code = append(code, g...)             // $fuel
	code = append(code, 0x4F, 0x04, 0x40) // i32.ge_u; if
	code = AppendU32(append(code, 0x10), ins.yield)
	code = append(append(code, 0x24), g...)       // global.set $fuel
	code = append(append(code, 0x05, 0x23), g...) // else; global.get $fuel
	code = append(append(code, 0x20), l...)       // local.get $n
	code = appendI32Const(code, shift)
	code = append(code, 0x76, 0x6B, 0x24)         // i32.shr_u; i32.sub; global.set
	code = append(code, g...)                     // $fuel
	code = append(append(code, 0x0B, 0x20), l...) // end; local.get $n
	return code
}

// appendI32Const appends i32.const v (a signed LEB128 immediate).
func appendI32Const(dst []byte, v int32) []byte {
	dst = append(dst, 0x41)
	for {
		b := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
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
