package wasmbin

import (
	"fmt"
	"strconv"
	"strings"
)

// Export names ExposeState adds. A guest cannot rely on them: they are
// added after the runtime read the guest's own exports.
const (
	StateMemory       = "wasmgate.state.memory"
	StateGlobalPrefix = "wasmgate.state.global."
)

// StateVersion changes whenever ExposeState's output for the same input
// does, so that caches of its output are keyed by it.
const StateVersion = 1

// State says what ExposeState exported and whether an instance's state
// can be captured and restored.
type State struct {
	// Globals are the indices of the defined mutable globals it exported,
	// each as StateGlobalPrefix plus the index in decimal, in index order.
	Globals []uint32
	// Reason is why an instance of the module cannot be captured and
	// restored from its memory and globals alone; "" when it can.
	Reason string
}

// ExposeState exports the module's defined memory and each of its defined
// mutable numeric globals under reserved names, so that an engine can read
// and set them from outside (a snapshot: capture an initialised instance,
// restore it into a fresh one), and reports whether a snapshot would be
// whole.
//
// A snapshot of memory and globals misses state the module can change
// elsewhere: tables (table.set, table.grow, table.fill, table.copy,
// table.init, elem.drop), dropped data segments (memory.init, data.drop),
// imported memory and globals, globals holding references or vectors, and a
// start function. A module that has any of these gets a Reason, and its
// exports are left as they are.
func ExposeState(wasm []byte) ([]byte, State, error) {
	return exposeState(wasm, true)
}

// StateOf is what ExposeState reports about wasm, without rewriting it.
func StateOf(wasm []byte) (State, error) {
	_, st, err := exposeState(wasm, false)
	return st, err
}

func exposeState(wasm []byte, rewrite bool) ([]byte, State, error) {
	sections, err := Parse(wasm)
	if err != nil {
		return nil, State{}, err
	}
	var (
		importedGlobals uint32
		definedMemory   bool
		reason          string
		globals         []uint32
	)
	why := func(r string) {
		if reason == "" {
			reason = r
		}
	}
	for _, s := range sections {
		switch s.ID {
		case SectionImport:
			imports, err := readImports(s.Payload)
			if err != nil {
				return nil, State{}, fmt.Errorf("import section: %w", err)
			}
			for _, im := range imports {
				switch im.Kind {
				case "global":
					importedGlobals++
					why("it imports a global")
				case "memory":
					why("it imports its memory")
				}
			}
		case SectionMemory:
			n, err := NewReader(s.Payload).U32()
			if err != nil {
				return nil, State{}, fmt.Errorf("memory section: %w", err)
			}
			definedMemory = n > 0
			if n > 1 {
				why("it defines more than one memory")
			}
		case SectionStart:
			why("it has a start function")
		case SectionGlobal:
			g, err := mutableGlobals(s.Payload, importedGlobals)
			if err != nil {
				return nil, State{}, err
			}
			if g.reason != "" {
				why(g.reason)
			}
			globals = g.indices
		case SectionCode:
			r, err := stateOutsideMemory(s.Payload)
			if err != nil {
				return nil, State{}, err
			}
			if r != "" {
				why(r)
			}
		}
	}
	if reason != "" {
		return wasm, State{Reason: reason}, nil
	}
	if !rewrite {
		return nil, State{Globals: globals}, nil
	}
	var added [][]byte
	if definedMemory {
		added = append(added, AppendU32(append(appendName(nil, StateMemory), 0x02), 0))
	}
	for _, g := range globals {
		added = append(added, AppendU32(append(appendName(nil, StateGlobalPrefix+strconv.FormatUint(uint64(g), 10)), 0x03), g))
	}
	out := make([]Section, 0, len(sections)+1)
	done := false
	for _, s := range sections {
		if !done && s.ID != SectionCustom && sectionOrder[s.ID] > sectionOrder[SectionExport] {
			out = append(out, Section{ID: SectionExport, Payload: appendVec(nil, added...)})
			done = true
		}
		if s.ID == SectionExport {
			r := NewReader(s.Payload)
			n, err := r.U32()
			if err != nil {
				return nil, State{}, fmt.Errorf("export section: %w", err)
			}
			p := AppendU32(nil, n+uint32(len(added)))
			p = append(p, s.Payload[r.Pos():]...)
			for _, a := range added {
				p = append(p, a...)
			}
			s.Payload = p
			done = true
		}
		out = append(out, s)
	}
	if !done {
		out = append(out, Section{ID: SectionExport, Payload: appendVec(nil, added...)})
	}
	return Encode(out), State{Globals: globals}, nil
}

type globalsFound struct {
	indices []uint32
	reason  string
}

// mutableGlobals lists the defined mutable globals; first is the index of
// the first defined one.
func mutableGlobals(payload []byte, first uint32) (globalsFound, error) {
	var g globalsFound
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return g, fmt.Errorf("global section: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		t, err := r.Byte()
		if err != nil {
			return g, fmt.Errorf("global %d: %w", i, err)
		}
		if t != 0x7F && t != 0x7E && t != 0x7D && t != 0x7C {
			// A reference type may carry a heap type: step back and
			// skip it properly.
			r.pos--
			if err := r.skipValType(); err != nil {
				return g, fmt.Errorf("global %d: %w", i, err)
			}
		}
		mut, err := r.Byte()
		if err != nil {
			return g, fmt.Errorf("global %d: %w", i, err)
		}
		if mut == 1 {
			switch t {
			case 0x7F, 0x7E, 0x7D, 0x7C:
				g.indices = append(g.indices, first+i)
			default:
				if g.reason == "" {
					g.reason = "it has a mutable global that holds a reference or a vector"
				}
			}
		}
		if err := r.skipConstExpr(); err != nil {
			return g, fmt.Errorf("global %d: %w", i, err)
		}
	}
	return g, nil
}

// stateOutsideMemory walks the code and names the first instruction that
// changes state a snapshot of memory and globals misses, or "".
func stateOutsideMemory(payload []byte) (string, error) {
	r := NewReader(payload)
	n, err := r.U32()
	if err != nil {
		return "", fmt.Errorf("code section: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		size, err := r.U32()
		if err != nil {
			return "", fmt.Errorf("code section: function body %d: %w", i, err)
		}
		b, err := r.Bytes(int(size))
		if err != nil {
			return "", fmt.Errorf("code section: function body %d: truncated", i)
		}
		if what, err := bodyChangesOutsideMemory(b); err != nil || what != "" {
			if err != nil {
				return "", fmt.Errorf("code section: function body %d: %w", i, err)
			}
			return "its code uses " + what, nil
		}
	}
	return "", nil
}

// Instructions that change tables or data and element segments.
var outsideMemoryFC = map[uint32]string{
	8: "memory.init", 9: "data.drop", 12: "table.init", 13: "elem.drop",
	14: "table.copy", 15: "table.grow", 17: "table.fill",
}

func bodyChangesOutsideMemory(body []byte) (string, error) {
	r := NewReader(body)
	groups, err := r.U32()
	if err != nil {
		return "", err
	}
	for j := uint32(0); j < groups; j++ {
		if _, err := r.U32(); err != nil {
			return "", err
		}
		if err := r.skipValType(); err != nil {
			return "", err
		}
	}
	for !r.EOF() {
		op, err := r.Byte()
		if err != nil {
			return "", err
		}
		switch op {
		case 0x26:
			return "table.set", nil
		case 0xFE:
			return "atomic instructions", nil
		case 0xFC:
			at := r.pos
			sub, err := r.U32()
			if err != nil {
				return "", err
			}
			if what, ok := outsideMemoryFC[sub]; ok {
				return what, nil
			}
			r.pos = at
		}
		if err := r.skipImmediates(op); err != nil {
			return "", fmt.Errorf("opcode 0x%02x: %w", op, err)
		}
	}
	return "", nil
}

// ExposedState reads back from a module ExposeState rewrote what it
// reported, from the exports it added: cheaper than StateOf, which walks
// the code. ok is false when the module has no such exports (ExposeState
// left it alone, or never saw it).
func ExposedState(wasm []byte) (st State, ok bool) {
	sections, err := Parse(wasm)
	if err != nil {
		return State{}, false
	}
	for _, s := range sections {
		if s.ID != SectionExport {
			continue
		}
		r := NewReader(s.Payload)
		n, err := r.U32()
		if err != nil {
			return State{}, false
		}
		for i := uint32(0); i < n; i++ {
			name, err := r.Name()
			if err != nil {
				return State{}, false
			}
			kind, err := r.Byte()
			if err != nil {
				return State{}, false
			}
			idx, err := r.U32()
			if err != nil {
				return State{}, false
			}
			switch {
			case kind == 0x02 && name == StateMemory:
				ok = true
			case kind == 0x03 && strings.HasPrefix(name, StateGlobalPrefix):
				st.Globals = append(st.Globals, idx)
			}
		}
	}
	return st, ok
}
