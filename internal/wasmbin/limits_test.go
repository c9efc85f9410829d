package wasmbin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vec encodes a vector of already encoded items.
func vec(items ...[]byte) []byte {
	out := AppendU32(nil, uint32(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// repeat is n copies of item.
func repeat(item []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = item
	}
	return out
}

// code is a function body: locals declared in one group of i32, then the
// instructions and the final end.
func code(locals uint32, instrs ...byte) []byte {
	b := []byte{0}
	if locals > 0 {
		b = append(AppendU32([]byte{1}, locals), 0x7F)
	}
	return append(append(b, instrs...), 0x0B)
}

// nested is n blocks of op (0x02 block, 0x03 loop) nested in each other.
func nested(op byte, n int) []byte {
	return append(bytes.Repeat([]byte{op, 0x40}, n), bytes.Repeat([]byte{0x0B}, n)...)
}

// module has the type () -> (), one function of that type per body, and the
// extra sections.
func module(bodies [][]byte, extra ...Section) []byte {
	funcs := repeat([]byte{0}, len(bodies))
	var sized [][]byte
	for _, b := range bodies {
		sized = append(sized, append(AppendU32(nil, uint32(len(b))), b...))
	}
	secs := []Section{{ID: SectionType, Payload: vec([]byte{0x60, 0, 0})}, {ID: SectionFunction, Payload: vec(funcs...)}}
	secs = append(secs, extra...)
	secs = append(secs, Section{ID: SectionCode, Payload: vec(sized...)})
	// Sections in the order the binary format wants them.
	order := func(s Section) int { return sectionOrder[s.ID] }
	for i := range secs {
		for j := i; j > 0 && order(secs[j]) < order(secs[j-1]); j-- {
			secs[j], secs[j-1] = secs[j-1], secs[j]
		}
	}
	return Encode(secs)
}

// moduleOfSize is a module of exactly n bytes.
func moduleOfSize(t *testing.T, n int) []byte {
	for k := n - 40; k < n; k++ {
		if m := module([][]byte{code(0, bytes.Repeat([]byte{0x01}, k)...)}); len(m) == n {
			return m
		}
	}
	t.Fatalf("no module of %d bytes", n)
	return nil
}

func TestLimits(t *testing.T) {
	one := [][]byte{code(0)}
	fill := []byte{0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 11, 0}
	tests := []struct {
		name   string
		limits Limits
		wasm   []byte // at the limit
		past   []byte // one past it
		want   string // the error for past
	}{
		{
			name:   "module size",
			limits: Limits{ModuleSize: 24},
			wasm:   module(one),
			past:   module([][]byte{code(0, 0x01)}),
			want:   "module is 25 bytes, over the limit of 24 bytes",
		},
		{
			name:   "module size in MiB",
			limits: Limits{ModuleSize: 1 << 20},
			wasm:   moduleOfSize(t, 1<<20),
			past:   moduleOfSize(t, 1<<20+1),
			want:   "module is 1048577 bytes, over the limit of 1048576 bytes (1 MiB)",
		},
		{
			name:   "functions",
			limits: Limits{Functions: 3},
			wasm:   module(repeat(code(0), 3)),
			past:   module(repeat(code(0), 4)),
			want:   "function section: module has 4 functions (0 imported), over the limit of 3",
		},
		{
			name:   "functions imported",
			limits: Limits{Functions: 3},
			wasm:   module(repeat(code(0), 2), Section{ID: SectionImport, Payload: vec([]byte{1, 'm', 1, 'f', 0, 0})}),
			past:   module(repeat(code(0), 3), Section{ID: SectionImport, Payload: vec([]byte{1, 'm', 1, 'f', 0, 0})}),
			want:   "function section: module has 4 functions (1 imported), over the limit of 3",
		},
		{
			name:   "body size",
			limits: Limits{BodySize: 4},
			wasm:   module([][]byte{code(0, 0x01, 0x01)}),
			past:   module([][]byte{code(0, 0x01, 0x01, 0x01)}),
			want:   "function 0 has a body of 5 bytes, over the limit of 4 bytes",
		},
		{
			name:   "locals",
			limits: Limits{Locals: 100},
			wasm:   module([][]byte{code(100)}),
			past:   module([][]byte{code(101)}),
			want:   "function 0 declares 101 locals, over the limit of 100",
		},
		{
			name:   "locals in several groups",
			limits: Limits{Locals: 100},
			wasm:   module([][]byte{{3, 50, 0x7F, 40, 0x7E, 10, 0x7D, 0x0B}}),
			past:   module([][]byte{{3, 50, 0x7F, 40, 0x7E, 11, 0x7D, 0x0B}}),
			want:   "function 0 declares 101 locals, over the limit of 100",
		},
		{
			name:   "params",
			limits: Limits{Params: 2},
			wasm:   module(one, Section{ID: SectionType, Payload: vec([]byte{0x60, 0, 0}, []byte{0x60, 2, 0x7F, 0x7F, 0})}),
			past:   module(one, Section{ID: SectionType, Payload: vec([]byte{0x60, 0, 0}, []byte{0x60, 0, 3, 0x7F, 0x7F, 0x7F})}),
			want:   "type section: type 1 has 3 results, over the limit of 2",
		},
		{
			name:   "nesting",
			limits: Limits{Nesting: 10},
			wasm:   module([][]byte{code(0, nested(0x02, 10)...)}),
			past:   module([][]byte{code(0, append(nested(0x02, 3), nested(0x04, 1)...)...), code(0, nested(0x03, 11)...)}),
			want:   "function 1 nests blocks 11 deep, over the limit of 10",
		},
		{
			name:   "br_table",
			limits: Limits{BrTable: 3},
			wasm:   module([][]byte{code(0, 0x02, 0x40, 0x41, 0, 0x0E, 3, 0, 0, 0, 0, 0x0B)}),
			past:   module([][]byte{code(0, 0x02, 0x40, 0x41, 0, 0x0E, 4, 0, 0, 0, 0, 0, 0x0B)}),
			want:   "function 0 has a br_table of 4 targets at body offset 5, over the limit of 3",
		},
		{
			name:   "types",
			limits: Limits{Types: 2},
			wasm:   module(one, Section{ID: SectionType, Payload: vec(repeat([]byte{0x60, 0, 0}, 2)...)}),
			past:   module(one, Section{ID: SectionType, Payload: vec(repeat([]byte{0x60, 0, 0}, 3)...)}),
			want:   "type section: module has 3 types, over the limit of 2",
		},
		{
			name:   "globals",
			limits: Limits{Globals: 2},
			wasm:   module(one, Section{ID: SectionGlobal, Payload: vec(repeat([]byte{0x7F, 0, 0x41, 0, 0x0B}, 2)...)}),
			past:   module(one, Section{ID: SectionGlobal, Payload: vec(repeat([]byte{0x7F, 0, 0x41, 0, 0x0B}, 3)...)}),
			want:   "global section: module has 3 globals, over the limit of 2",
		},
		{
			name:   "data segments",
			limits: Limits{DataSegments: 2},
			wasm:   module(one, Section{ID: SectionData, Payload: vec(repeat([]byte{1, 1, 'x'}, 2)...)}),
			past:   module(one, Section{ID: SectionData, Payload: vec(repeat([]byte{1, 1, 'x'}, 3)...)}),
			want:   "data section: module has 3 data segments, over the limit of 2",
		},
		{
			name:   "element segments",
			limits: Limits{ElementSegments: 2},
			wasm:   module(one, Section{ID: SectionElement, Payload: vec(repeat([]byte{1, 0, 1, 0}, 2)...)}),
			past:   module(one, Section{ID: SectionElement, Payload: vec(repeat([]byte{1, 0, 1, 0}, 3)...)}),
			want:   "element section: module has 3 element segments, over the limit of 2",
		},
		{
			name:   "table minimum",
			limits: Limits{TableMin: 1000},
			wasm:   module(one, Section{ID: SectionTable, Payload: vec([]byte{0x70, 0, 0xE8, 0x07})}),
			past:   module(one, Section{ID: SectionTable, Payload: vec([]byte{0x70, 0, 0xE8, 0x07}, []byte{0x70, 1, 0xE9, 0x07, 0xE9, 0x07})}),
			want:   "table section: table 1 declares a minimum of 1001 elements, over the limit of 1000 elements",
		},
		{
			name:   "memory minimum",
			limits: Limits{MemoryMin: 16},
			wasm:   module(one, Section{ID: SectionMemory, Payload: vec([]byte{0, 16})}),
			past:   module(one, Section{ID: SectionMemory, Payload: vec([]byte{1, 17, 20})}),
			want:   "memory section: memory 0 declares a minimum of 17 pages, over the limit of 16 pages (1 MiB)",
		},
		{
			// 3 for the function, 1 per block, 10 per loop, 3 per if and
			// br_if, 1 per br_table target and 1, 40 per memory.fill.
			name:   "branches",
			limits: Limits{Branches: 3 + 1 + 10 + 3 + 3 + 3 + 40},
			wasm:   module([][]byte{code(0, append([]byte{0x02, 0x40, 0x03, 0x40, 0x41, 0, 0x04, 0x40, 0x0B, 0x41, 0, 0x0D, 0, 0x41, 0, 0x0E, 2, 0, 0, 0, 0x0B, 0x0B}, fill...)...)}),
			past:   module([][]byte{code(0, append([]byte{0x02, 0x40, 0x03, 0x40, 0x41, 0, 0x04, 0x40, 0x0B, 0x41, 0, 0x0D, 0, 0x41, 0, 0x0E, 3, 0, 0, 0, 0, 0x0B, 0x0B}, fill...)...)}),
			want:   "module has 64 branch points, over the limit of 63",
		},
		{
			name:   "branches squared",
			limits: Limits{BranchesSquared: 2*13*13 + 3*3},
			wasm:   module([][]byte{code(0, 0x03, 0x40, 0x0B), code(0), code(0, 0x03, 0x40, 0x0B)}),
			past:   module([][]byte{code(0, 0x03, 0x40, 0x0B), code(0, 0x02, 0x40, 0x0B), code(0, 0x03, 0x40, 0x0B)}),
			want:   "module's functions have 354 branch points squared (function 0 has 13 branch points), over the limit of 347",
		},
		{
			name:   "locals times branches",
			limits: Limits{LocalsTimesBranches: 10*13 + 2*3},
			wasm:   module([][]byte{code(2), code(10, 0x03, 0x40, 0x0B)}, Section{ID: SectionImport, Payload: vec([]byte{1, 'm', 1, 'f', 0, 0})}),
			past:   module([][]byte{code(2), code(11, 0x03, 0x40, 0x0B)}, Section{ID: SectionImport, Payload: vec([]byte{1, 'm', 1, 'f', 0, 0})}),
			want:   "module's functions have 149 locals times branch points (function 2 has 11 locals and 13 branch points), over the limit of 136",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.limits.ReadInfo(tc.wasm); err != nil {
				t.Errorf("at the limit: %v", err)
			}
			_, err := tc.limits.ReadInfo(tc.past)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("past the limit: err = %v, want %q", err, tc.want)
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Value <= le.Max {
				t.Errorf("err = %#v, want a *LimitError with Value > Max", err)
			}
		})
	}
}

// TestLimitsParams counts a function's parameters among its locals.
func TestLimitsParams(t *testing.T) {
	types := Section{ID: SectionType, Payload: vec([]byte{0x60, 0, 0}, []byte{0x60, 4, 0x7F, 0x7F, 0x7F, 0x7F, 0})}
	wasm := Encode([]Section{types, {ID: SectionFunction, Payload: vec([]byte{1})}, {ID: SectionCode, Payload: vec([]byte{4, 1, 6, 0x7F, 0x0B})}})
	l := Limits{LocalsTimesBranches: (4 + 6) * 3}
	if _, err := l.ReadInfo(wasm); err != nil {
		t.Fatal(err)
	}
	l.LocalsTimesBranches--
	if _, err := l.ReadInfo(wasm); err == nil || !strings.Contains(err.Error(), "function 0 has 10 locals and 3 branch points") {
		t.Errorf("err = %v, want 10 locals (4 parameters, 6 declared)", err)
	}
}

// TestDefaultLimitsAcceptGuests: every module committed to the repository
// loads, the largest Go programs included.
func TestDefaultLimitsAcceptGuests(t *testing.T) {
	var paths []string
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != "../.." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".wasm") {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 20 {
		t.Fatalf("found only %d modules", len(paths))
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadInfo(b); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestDefaultLimitsRefuse: the attacks that motivated the limits fail with
// the defaults.
func TestDefaultLimitsRefuse(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"50,000 nested blocks", module([][]byte{code(0, nested(0x02, 50_000)...)}), "function 0 nests blocks 50000 deep, over the limit of 4096"},
		{"4,294,967,295 locals", module([][]byte{{1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B}}), "function 0 declares 4294967295 locals, over the limit of 1000"},
		{"locals past 2^32 in groups", module([][]byte{{2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B}}), "function 0 declares 8589934590 locals, over the limit of 1000"},
		{"10,000 loops in a row", module([][]byte{code(0, bytes.Repeat([]byte{0x03, 0x40, 0x0B}, 10_000)...)}), "module's functions have 10000600009 branch points squared (function 0 has 100003 branch points), over the limit of 800000000"},
		{"huge body", module([][]byte{code(0, make([]byte, 2<<20)...)}), "function 0 has a body of 2097154 bytes, over the limit of 262144 bytes (256 KiB)"},
		{"table of 2^32-1 elements", module([][]byte{code(0)}, Section{ID: SectionTable, Payload: vec([]byte{0x70, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F})}), "table section: table 0 declares a minimum of 4294967295 elements, over the limit of 134217728 elements"},
		{"memory over 4 GiB", module([][]byte{code(0)}, Section{ID: SectionMemory, Payload: vec([]byte{0, 0x81, 0x80, 0x04})}), "memory section: memory 0 declares a minimum of 65537 pages, over the limit of 65536 pages (4 GiB)"},
	}
	for _, tc := range tests {
		if _, err := ReadInfo(tc.wasm); err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestReadInfoTruncated: a real module cut anywhere inside a section is an
// error, never a panic.
func TestReadInfoTruncated(t *testing.T) {
	for _, p := range []string{"../../guests/wat/add/add.wasm", "../../guests/c/hash/hash.wasm"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(b)/3000)
		for n := 0; n < len(b); n += step {
			_, err := ReadInfo(b[:n])
			if _, perr := Parse(b[:n]); perr != nil && err == nil {
				t.Errorf("%s cut to %d bytes: no error", p, n)
			}
		}
	}
}

// FuzzReadInfo reads arbitrary bytes: it must never panic, and what it
// accepts must have parsed.
func FuzzReadInfo(f *testing.F) {
	f.Add(minimal)
	f.Add(module([][]byte{code(3, nested(0x03, 5)...)}, Section{ID: SectionTable, Payload: vec([]byte{0x70, 1, 1, 2})}))
	for _, dir := range []string{"../../runtime/testdata", "../../guests/testdata/hostile", "../../guests/wat/add"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
	small := Limits{ModuleSize: 1 << 16, Functions: 8, BodySize: 256, Locals: 8, Params: 4, Nesting: 4, BrTable: 4,
		Types: 4, Imports: 4, Globals: 4, Exports: 4, DataSegments: 4, ElementSegments: 4, Tags: 4, ElementItems: 16, TableMin: 16, MemoryMin: 2,
		Branches: 64, BranchesSquared: 512, LocalsTimesBranches: 128}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		for _, l := range []Limits{DefaultLimits(), small, {}} {
			info, err := l.ReadInfo(wasm)
			if err == nil && info == nil {
				t.Fatal("no error and no info")
			}
			if err != nil {
				continue
			}
			if _, err := Parse(wasm); err != nil {
				t.Fatalf("accepted a module Parse refuses: %v", err)
			}
		}
	})
}

// TestReadHeaderLeavesTheCode: ReadHeader reads what ReadInfo reads and
// checks every limit but the code's, which ReadInfo still refuses.
func TestReadHeaderLeavesTheCode(t *testing.T) {
	deep := module([][]byte{code(0, nested(0x02, 5_000)...)})
	info, err := DefaultLimits().ReadHeader(deep)
	if err != nil {
		t.Fatalf("ReadHeader: %v", err)
	}
	want, _ := DefaultLimits().ReadHeader(module([][]byte{code(0)}))
	if len(info.Imports) != len(want.Imports) || info.Memories != want.Memories {
		t.Errorf("ReadHeader read %+v, want %+v", info, want)
	}
	var le *LimitError
	if _, err := ReadInfo(deep); !errors.As(err, &le) || le.Limit != "Nesting" {
		t.Fatalf("ReadInfo: %v, want the nesting limit", err)
	}
	if _, err := DefaultLimits().ReadHeader(moduleOfSize(t, 17<<20)); !errors.As(err, &le) || le.Limit != "ModuleSize" {
		t.Fatalf("ReadHeader of 17 MiB: %v, want the size limit", err)
	}
}

// TestDeclaredCountsRefused: counts and lengths a decoder sizes its
// allocations by are checked against the limits and the bytes that are
// there, before anything decodes the module. Each module here is a few
// dozen bytes; before these checks the export one made wazero allocate
// gigabytes.
func TestDeclaredCountsRefused(t *testing.T) {
	huge := []byte{0xFF, 0xFF, 0xFF, 0x7F} // 268,435,455
	nameSection := func(sub byte, body ...byte) Section {
		payload := append(AppendU32([]byte{sub}, uint32(len(body))), body...)
		return Section{ID: SectionCustom, Name: "name", Payload: payload}
	}
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"2^28 exports", module([][]byte{code(0)}, Section{ID: SectionExport, Payload: append(huge, 0, 0, 0)}),
			"export section: module has 268435455 exports, over the limit of 100000"},
		{"an export name of 2^28 bytes", module([][]byte{code(0)}, Section{ID: SectionExport, Payload: append([]byte{1}, append(huge, 'a', 0, 0)...)}),
			"export section: export 0: name: "},
		{"2^28 imports", module([][]byte{code(0)}, Section{ID: SectionImport, Payload: append(huge, 0, 0, 0)}),
			"import section: module has 268435455 imports, over the limit of 100000"},
		{"2^28 tags", module([][]byte{code(0)}, Section{ID: SectionTag, Payload: append(huge, 0, 0)}),
			"tag section: module has 268435455 tags, over the limit of 10000"},
		{"an element segment of 2^28 entries", module([][]byte{code(0)}, Section{ID: SectionElement, Payload: append([]byte{1, 1, 0}, append(huge, 0)...)}),
			"element section: module's element segments have 268435455 entries or more, over the limit of 1000000"},
		{"a data segment of 2^28 bytes", module([][]byte{code(0)}, Section{ID: SectionData, Payload: append([]byte{1, 1}, append(huge, 0)...)}),
			"data section: data segment 0 declares 268435455 bytes, 1 are left in the section: truncated"},
		{"2^28 function names", module([][]byte{code(0)}, nameSection(1, append(huge, 0, 0)...)),
			"name section: name section names 268435455 functions, over the limit of 50000"},
		{"2^28 local names", module([][]byte{code(0)}, nameSection(2, append([]byte{1, 0}, append(huge, 0)...)...)),
			"name section: name section names 268435455 locals of one function, over the limit of 2000"},
	}
	for _, tc := range tests {
		if _, err := ReadInfo(tc.wasm); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
