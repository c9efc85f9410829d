package wasmbin

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Limits bound a module's structure and, through it, the time wazero takes to
// compile it. ReadInfo checks them in one linear pass over the bytes, before
// anything compiles the module: a hostile module must fail to load in
// milliseconds, not stall a server's start. A field that is zero is not
// checked.
//
// Size and count limits alone do not bound compile time. wazero's compiler
// is superlinear in the control flow of each function: its dominator and
// loop passes walk the dominator tree from every basic block (time grows
// with the square of a function's branches), and building SSA form visits
// every local in every block it is live across (locals times branches).
// Here 10,000 loops in sequence in one 30 KB function took 92 s to compile,
// and 1,000 locals read across 1,000 ifs 2.7 s for 14 KB. Branches, BranchesSquared and
// LocalsTimesBranches bound that work for the whole module, however it is
// split between functions. A function's branch points are counted as
//
//	block 1; if, br_if 3; loop 10; br_table 1 per target, plus 1;
//	memory.fill, table.fill 40; other bulk memory and table operations 3;
//	each function 3
//
// roughly each instruction's compile cost relative to a block's, measured
// with the fuel checks the runtime inserts at function entries and loop heads
// (wazero expands memory.fill and table.fill into loops).
type Limits struct {
	// ModuleSize is the largest module, in bytes.
	ModuleSize uint64
	// Functions bounds the functions of a module, imported and defined.
	Functions uint64
	// BodySize bounds one function body, in bytes.
	BodySize uint64
	// Locals bounds the locals one function declares, parameters not
	// included (Params bounds those).
	Locals uint64
	// Params bounds the parameters, and the results, of one function type.
	Params uint64
	// Nesting bounds how deep block, loop and if nest in one function.
	// (try and the other exception-handling instructions are refused, like
	// every instruction the walker does not know.)
	Nesting uint64
	// BrTable bounds the targets of one br_table instruction.
	BrTable uint64
	// Types, Imports, Globals, Exports, DataSegments, ElementSegments and
	// Tags bound the entries of their sections. (A decoder sizes its
	// tables by these counts before it reads the entries.)
	Types, Imports, Globals, Exports, DataSegments, ElementSegments, Tags uint64
	// ElementItems bounds the entries of all element segments together.
	ElementItems uint64
	// TableMin bounds the declared minimum size, in elements, of each table
	// the module defines: every instance allocates it before running any
	// code.
	TableMin uint64
	// MemoryMin bounds the declared minimum size, in 64 KiB pages, of each
	// memory the module defines.
	MemoryMin uint64
	// Branches bounds the branch points of all functions: compile work
	// proportional to the control flow.
	Branches uint64
	// BranchesSquared bounds the sum over functions of the square of each
	// one's branch points: the dominator and loop passes.
	BranchesSquared uint64
	// LocalsTimesBranches bounds the sum over functions of locals
	// (parameters included) times branch points: SSA construction.
	LocalsTimesBranches uint64
}

// DefaultLimits returns the limits ReadInfo applies. Each is well above the
// largest value found in the modules committed to this repository (Go, Rust,
// C, AssemblyScript and WAT guests, the largest a 4.4 MiB Go program), which
// the comments give; RATIONALE.md records how compile time was measured
// against them.
func DefaultLimits() Limits {
	return Limits{
		// 16 MiB: the largest module here is 4.4 MiB (Go), and a Go tool
		// with a few large dependencies passes 8 MiB. With the limits below
		// in place compile time grows with size: up to about 1 s per MiB
		// for the dearest plain code on a busy 2-core machine (15-16 s for
		// the worst 7.2 MB found), half that for Go's. The runtime's compile
		// time limit bounds what is left.
		ModuleSize: 16 << 20,
		// 50,000: the most is 2,641 (Go). Each function costs about 15 µs
		// to compile, however small.
		Functions: 50_000,
		// 256 KiB: the biggest body is 50,636 bytes (Go's runtime). Big
		// bodies compile slower per byte: 2 MB of i64.div_s in bodies of
		// 600 KB took two to four times as long as in bodies of 60 KB.
		BodySize: 256 << 10,
		// 1,000: the most is 39 (Rust). Locals cost compile time in
		// proportion to the branches they live across (LocalsTimesBranches);
		// wazero allocates them before validating the body.
		Locals: 1_000,
		// 1,000 parameters or results: the most is 9.
		Params: 1_000,
		// 4,096 deep: the deepest is 549 (Go, which nests a block for every
		// call site of a function and jumps into them with one br_table).
		Nesting: 4_096,
		// 16,384 targets: the most is 1,144 (Go).
		BrTable: 16_384,
		// 100,000 types, 100,000 imports, 10,000 globals, 100,000 exports,
		// 200,000 data segments (Go emits one per symbol: 45,713 in
		// 4.4 MiB), 10,000 element segments with 1,000,000 entries in all,
		// 10,000 tags: the most are 27, 31, 22, 5, 45,713, 3 with 2,620
		// entries, and none.
		Types:           100_000,
		Imports:         100_000,
		Globals:         10_000,
		Exports:         100_000,
		Tags:            10_000,
		ElementItems:    1_000_000,
		DataSegments:    200_000,
		ElementSegments: 10_000,
		// 134,217,728 elements (1 GiB of references), wazero's own maximum:
		// the most is 6,715. Below it a call's memory limit decides, since
		// tables count against it.
		TableMin: 1 << 27,
		// 65,536 pages, 4 GiB: the whole 32-bit address space. Below that a
		// call's memory limit decides.
		MemoryMin: 65_536,
		// 3,000,000 branch points: the most is 338,559 (Go, 4.4 MiB), so
		// that a Go program of 16 MiB has room.
		Branches: 3_000_000,
		// 800,000,000: the most is 156,644,481 (Go, 4.4 MiB; its biggest
		// function has 4,594 branch points), and a Go program of 16 MiB
		// has about four times that. One function may have up to 28,000.
		BranchesSquared: 800_000_000,
		// 10,000,000: the most is 2,627,978 (Go, 4.4 MiB, which has about
		// 21 locals in every function, so that a 16 MiB Go program has
		// about 10,000,000). The dearest budget per unit: 1,000 locals read
		// across 1,666 ifs took 3.5 s at half this budget.
		LocalsTimesBranches: 10_000_000,
	}
}

// LimitError is a module over one of its Limits.
type LimitError struct {
	// Limit names the Limits field: "Nesting", "Locals", ...
	Limit string
	// Value is what the module has or declares; Max is the limit.
	Value, Max uint64
	msg        string
}

func (e *LimitError) Error() string { return e.msg }

// over returns a LimitError reading what, then the limit and its unit.
func over(limit string, value, max uint64, unit, what string, args ...any) *LimitError {
	msg := fmt.Sprintf(what, args...) + fmt.Sprintf(", over the limit of %d", max)
	if unit != "" {
		msg += " " + unit
	}
	return &LimitError{Limit: limit, Value: value, Max: max, msg: msg}
}

// exceeds reports whether v is over a limit that is set.
func exceeds(v, limit uint64) bool { return limit != 0 && v > limit }

// inBytes is the unit of a limit of n bytes: "bytes (8 MiB)", with the
// largest binary unit that divides n, or "bytes".
func inBytes(n uint64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("bytes (%d %s)", n>>u.shift, u.name)
		}
	}
	return "bytes"
}

// Branch point weights (see Limits).
const (
	branchesBlock    = 1
	branchesIf       = 3 // also br_if
	branchesLoop     = 10
	branchesFill     = 40
	branchesBulk     = 3
	branchesFunction = 3
)

// checker holds what checking a module's sections needs from earlier ones.
type checker struct {
	Limits
	imported  uint64   // imported functions
	params    []uint64 // parameter count of each type
	funcTypes []uint32 // type of each defined function

	branches, squared, localBranches uint64
	// The heaviest functions, for errors.
	mostBranches, mostLocalBranches weight
}

// weight is what a function adds to the module's compile work.
type weight struct{ function, locals, branches uint64 }

// count checks the entry count that starts a section.
func count(payload []byte, limit, what string, max uint64) error {
	n, err := NewReader(payload).U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), max) {
		return over(limit, uint64(n), max, "", "module has %d %s", n, what)
	}
	return nil
}

func (c *checker) types(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if exceeds(uint64(n), c.Types) {
		return over("Types", uint64(n), c.Types, "", "module has %d types", n)
	}
	for i := uint32(0); i < n; i++ {
		form, err := r.Byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return fmt.Errorf("type %d: unsupported type form 0x%02x (only function types are supported)", i, form)
		}
		for k, what := range []string{"parameters", "results"} {
			m, err := r.U32()
			if err != nil {
				return err
			}
			if exceeds(uint64(m), c.Params) {
				return over("Params", uint64(m), c.Params, "", "type %d has %d %s", i, m, what)
			}
			for j := uint32(0); j < m; j++ {
				if err := r.skipValType(); err != nil {
					return fmt.Errorf("type %d: %w", i, err)
				}
			}
			if k == 0 {
				c.params = append(c.params, uint64(m))
			}
		}
	}
	return nil
}

func (c *checker) functions(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return err
	}
	if total := c.imported + uint64(n); exceeds(total, c.Functions) {
		return over("Functions", total, c.Functions, "", "module has %d functions (%d imported)", total, c.imported)
	}
	c.funcTypes = make([]uint32, 0, min(int(n), r.Len()))
	for i := uint32(0); i < n; i++ {
		t, err := r.U32()
		if err != nil {
			return err
		}
		c.funcTypes = append(c.funcTypes, t)
	}
	return nil
}

func (c *checker) tables(payload []byte) ([]Table, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	var out []Table
	for i := uint32(0); i < n; i++ {
		if _, err := r.Byte(); err != nil { // element type
			return nil, fmt.Errorf("table %d: %w", i, err)
		}
		var t Table
		if t.Min, t.Max, t.HasMax, err = r.limits(); err != nil {
			return nil, fmt.Errorf("table %d: %w", i, err)
		}
		if exceeds(t.Min, c.TableMin) {
			return nil, over("TableMin", t.Min, c.TableMin, "elements", "table %d declares a minimum of %d elements", i, t.Min)
		}
		out = append(out, t)
	}
	return out, nil
}

// memories returns the declared minimum, in pages, of each memory.
func (c *checker) memories(payload []byte) ([]uint64, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	var out []uint64
	for i := uint32(0); i < n; i++ {
		min, _, _, err := r.limits()
		if err != nil {
			return nil, fmt.Errorf("memory %d: %w", i, err)
		}
		if exceeds(min, c.MemoryMin) {
			return nil, over("MemoryMin", min, c.MemoryMin, "pages"+strings.TrimPrefix(inBytes(c.MemoryMin<<16), "bytes"), "memory %d declares a minimum of %d pages", i, min)
		}
		out = append(out, min)
	}
	return out, nil
}

// code checks every function body, then the module's compile work. Function
// indices in errors count imported functions, as wazero's and the name
// section's do.
func (c *checker) code(payload []byte) error {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return fmt.Errorf("code section: %w", err)
	}
	if total := c.imported + uint64(n); exceeds(total, c.Functions) {
		return over("Functions", total, c.Functions, "", "module has %d function bodies and %d imported functions", n, c.imported)
	}
	for i := uint32(0); i < n; i++ {
		f := c.imported + uint64(i)
		size, err := r.U32()
		if err != nil {
			return fmt.Errorf("code section: function %d: %w", f, err)
		}
		if exceeds(uint64(size), c.BodySize) {
			return over("BodySize", uint64(size), c.BodySize, inBytes(c.BodySize), "function %d has a body of %d bytes", f, size)
		}
		body, err := r.Bytes(int(size))
		if err != nil {
			return fmt.Errorf("code section: function %d: truncated", f)
		}
		var params uint64
		if int(i) < len(c.funcTypes) && int(c.funcTypes[i]) < len(c.params) {
			params = c.params[c.funcTypes[i]]
		}
		if err := c.body(f, params, body); err != nil {
			return err
		}
	}
	switch {
	case exceeds(c.branches, c.Branches):
		return over("Branches", c.branches, c.Branches, "", "module has %d branch points", c.branches)
	case exceeds(c.squared, c.BranchesSquared):
		return over("BranchesSquared", c.squared, c.BranchesSquared, "",
			"module's functions have %d branch points squared (function %d has %d branch points)", c.squared, c.mostBranches.function, c.mostBranches.branches)
	case exceeds(c.localBranches, c.LocalsTimesBranches):
		return over("LocalsTimesBranches", c.localBranches, c.LocalsTimesBranches, "",
			"module's functions have %d locals times branch points (function %d has %d locals and %d branch points)", c.localBranches, c.mostLocalBranches.function, c.mostLocalBranches.locals, c.mostLocalBranches.branches)
	}
	return nil
}

// body walks the instructions of function f's body, counting its branch
// points and tracking how deep blocks nest.
func (c *checker) body(f, params uint64, body []byte) error {
	r := NewReader(body)
	groups, err := r.U32()
	if err != nil {
		return fmt.Errorf("function %d: locals: %w", f, err)
	}
	var locals uint64
	for j := uint32(0); j < groups; j++ {
		n, err := r.U32()
		if err != nil {
			return fmt.Errorf("function %d: locals: %w", f, err)
		}
		if locals += uint64(n); exceeds(locals, c.Locals) {
			return c.tooManyLocals(f, r, locals, groups-j-1)
		}
		if err := r.skipValType(); err != nil {
			return fmt.Errorf("function %d: locals: %w", f, err)
		}
	}
	var depth, deepest uint64
	branches := uint64(branchesFunction)
	for !r.EOF() {
		at := r.pos
		op, _ := r.Byte()
		switch op {
		case 0x02, 0x03, 0x04: // block, loop, if
			depth++
			deepest = max(deepest, depth)
			switch op {
			case 0x02:
				branches += branchesBlock
			case 0x03:
				branches += branchesLoop
			default:
				branches += branchesIf
			}
		case 0x0B: // end (the last one ends the body itself)
			if depth > 0 {
				depth--
			}
		case 0x0D: // br_if
			branches += branchesIf
		case 0x0E: // br_table
			n, err := r.U32()
			if err != nil {
				return fmt.Errorf("function %d: instruction 0x%02x at body offset %d: %w", f, op, at, err)
			}
			if exceeds(uint64(n), c.BrTable) {
				return over("BrTable", uint64(n), c.BrTable, "", "function %d has a br_table of %d targets at body offset %d", f, n, at)
			}
			branches += uint64(n) + 1
			r.pos = at + 1
		case 0xFC:
			sub, err := r.U32()
			if err != nil {
				return fmt.Errorf("function %d: instruction 0x%02x at body offset %d: %w", f, op, at, err)
			}
			switch sub {
			case 11, 17: // memory.fill, table.fill
				branches += branchesFill
			case 8, 10, 12, 14, 15: // memory.init, memory.copy, table.init, table.copy, table.grow
				branches += branchesBulk
			}
			r.pos = at + 1
		}
		if err := r.skipImmediates(op); err != nil {
			return fmt.Errorf("function %d: instruction 0x%02x at body offset %d: %w", f, op, at, err)
		}
	}
	if exceeds(deepest, c.Nesting) {
		return over("Nesting", deepest, c.Nesting, "", "function %d nests blocks %d deep", f, deepest)
	}
	locals += params
	c.branches = addSat(c.branches, branches)
	c.squared = addSat(c.squared, mulSat(branches, branches))
	c.localBranches = addSat(c.localBranches, mulSat(locals, branches))
	if branches > c.mostBranches.branches {
		c.mostBranches = weight{f, locals, branches}
	}
	if mulSat(locals, branches) > mulSat(c.mostLocalBranches.locals, c.mostLocalBranches.branches) {
		c.mostLocalBranches = weight{f, locals, branches}
	}
	return nil
}

// addSat and mulSat saturate instead of overflowing, for limits set to 0.
func addSat(a, b uint64) uint64 {
	if s, carry := bits.Add64(a, b, 0); carry == 0 {
		return s
	}
	return math.MaxUint64
}

func mulSat(a, b uint64) uint64 {
	if hi, lo := bits.Mul64(a, b); hi == 0 {
		return lo
	}
	return math.MaxUint64
}

// tooManyLocals adds up the rest of the local declarations, for the error.
// r is at the type of the group that went over.
func (c *checker) tooManyLocals(f uint64, r *Reader, locals uint64, groups uint32) error {
	if _, err := r.Byte(); err != nil {
		groups = 0
	}
	for ; groups > 0; groups-- {
		n, err := r.U32()
		if err != nil {
			break
		}
		locals += uint64(n)
		if _, err := r.Byte(); err != nil {
			break
		}
	}
	return over("Locals", locals, c.Locals, "", "function %d declares %d locals", f, locals)
}
