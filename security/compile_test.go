package security

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
	"github.com/wasmgate/wasmgate/runtime"
)

// TestHostileCompile loads modules built to stall wazero's compiler, whose
// time grows faster than the module (50,000 nested blocks, 150 KB, took
// 10.8 s to compile; 500,000 over 100 s), or to make it allocate gigabytes
// while decoding. Each must be
// refused at load, before compiling, with an error that says which limit it
// exceeds and by how much; a good module must load and answer right after on
// the same runtime.
func TestHostileCompile(t *testing.T) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	dir := t.TempDir()
	one := func(body []byte) []byte { return hostile{bodies: [][]byte{body}}.wasm() }

	attacks := []struct {
		name string
		wasm []byte
		want string
	}{
		{"50,000 nested blocks", one(body(0, nestedBlocks(50_000))), "function 1 nests blocks 50000 deep, over the limit of 4096"},
		{"500,000 nested blocks", one(body(0, nestedBlocks(500_000))), "function 1 has a body of 1500002 bytes, over the limit of 262144 bytes (256 KiB)"},
		{"4,294,967,295 locals", one(body(1<<32-1, nil)), "function 1 declares 4294967295 locals, over the limit of 1000"},
		{"a body declared 4 GiB long", one([]byte{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0x0B}), "function 1 has a body of 4294967295 bytes, over the limit of 262144 bytes (256 KiB)"},
		{"a body of 2 MiB", one(body(0, make([]byte, 2<<20))), "function 1 has a body of 2097154 bytes, over the limit of 262144 bytes (256 KiB)"},
		{"10,000 loops in a row", one(body(0, bytes.Repeat([]byte{0x03, 0x40, 0x0B}, 10_000))), "module's functions have 10000600018 branch points squared (function 1 has 100003 branch points), over the limit of 800000000"},
		{"1,000 locals live across 4,000 ifs", one(body(1000, liveAcrossIfs(1000, 4000))), "module's functions have 12003000 locals times branch points (function 1 has 1000 locals and 12003 branch points), over the limit of 10000000"},
		{"100,000 functions", hostile{bodies: slices.Repeat([][]byte{body(0, nil)}, 100_000)}.wasm(), "module has 100001 functions (0 imported), over the limit of 50000"},
		{"a 17 MiB module", hostile{bodies: slices.Repeat([][]byte{body(0, make([]byte, 900_000))}, 19)}.wasm(), "over the limit of 16777216 bytes (16 MiB)"},
		{"a table of 4,294,967,295 elements", hostile{sections: []wasmbin.Section{limits(wasmbin.SectionTable, 1<<32-1)}}.wasm(), "table 0 declares a minimum of 4294967295 elements, over the limit of 134217728 elements"},
		{"a memory over 4 GiB", hostile{sections: []wasmbin.Section{limits(wasmbin.SectionMemory, 1<<16+1)}}.wasm(), "memory 0 declares a minimum of 65537 pages, over the limit of 65536 pages (4 GiB)"},
		// Counts a decoder sizes its tables by: 30 bytes declaring 2^28
		// exports made wazero allocate gigabytes and stall.
		{"2^28 imports declared", declared(wasmbin.SectionImport, nil, 0, 0, 0), "module has 268435455 imports, over the limit of 100000"},
		{"2^28 tags declared", declared(wasmbin.SectionTag, nil, 0, 0), "module has 268435455 tags, over the limit of 10000"},
		{"2^28 element entries declared", declared(wasmbin.SectionElement, []byte{1, 1, 0}, 0), "element segments have 268435455 entries or more, over the limit of 1000000"},
		{"2^28 function names declared", declared(wasmbin.SectionCustom, []byte{1, 5}, 0), "name section names 268435455 functions, over the limit of 50000"},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			path := filepath.Join(dir, "hostile.wasm")
			if err := os.WriteFile(path, a.wasm, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := rt.Load(ctx, path)
			if err == nil {
				m.Close(ctx)
				t.Fatal("the module loaded")
			}
			if !strings.Contains(err.Error(), a.want) {
				t.Errorf("err = %v, want %q", err, a.want)
			}
			var le *wasmbin.LimitError
			if !errors.As(err, &le) {
				t.Errorf("err = %v: not refused before compiling", err)
			}
			// A good module right after.
			good, err := rt.Load(ctx, "../guests/c/hash/hash.wasm")
			if err != nil {
				t.Fatalf("good module after the attack: %v", err)
			}
			defer good.Close(ctx)
			out, err := good.Call(ctx, runtime.Call{Tool: "sha256", Arguments: json.RawMessage(`{"text":"abc"}`)})
			if err != nil || out.Err != nil {
				t.Fatalf("good call after the attack: %v %v", err, out.Err)
			}
			if text := out.Result.Text(); !strings.HasPrefix(text, "ba7816bf") {
				t.Fatalf("good call after the attack: %q", clip(text))
			}
		})
	}
}

// TestCompileAtLimits: a module at the nesting, locals and br_table limits
// loads.
func TestCompileAtLimits(t *testing.T) { eachEngine(t, testCompileAtLimits) }

func testCompileAtLimits(t *testing.T, eng string) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithEngine(engine.Lookup(eng)))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	l := wasmbin.DefaultLimits()
	brTable := append([]byte{0x02, 0x40, 0x41, 0, 0x0E}, wasmbin.AppendU32(nil, uint32(l.BrTable))...)
	brTable = append(append(brTable, make([]byte, l.BrTable+1)...), 0x0B) // every target: the block
	wasm := hostile{bodies: [][]byte{body(0, nestedBlocks(int(l.Nesting))), body(l.Locals, nil), body(0, brTable)}}.wasm()
	path := filepath.Join(t.TempDir(), "limits.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := rt.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m.Close(ctx)
}

// hostile is a tool module: a memory, an empty _start (function 0), the
// given function bodies (made by body, all of type () -> ()) and a manifest.
// Its sections replace the default memory section or are added.
type hostile struct {
	bodies   [][]byte
	sections []wasmbin.Section
}

func (h hostile) wasm() []byte {
	bodies := append([][]byte{body(0, nil)}, h.bodies...)
	funcs := wasmbin.AppendU32(nil, uint32(len(bodies)))
	funcs = append(funcs, make([]byte, len(bodies))...) // type 0 each
	code := wasmbin.AppendU32(nil, uint32(len(bodies)))
	for _, b := range bodies {
		code = append(code, b...)
	}
	// The sections in the order the binary format wants, h.sections
	// replacing the defaults of the same kind.
	order := []byte{wasmbin.SectionType, wasmbin.SectionImport, wasmbin.SectionFunction, wasmbin.SectionTable,
		wasmbin.SectionMemory, wasmbin.SectionTag, wasmbin.SectionExport, wasmbin.SectionElement, wasmbin.SectionCode, wasmbin.SectionCustom}
	defaults := map[byte]wasmbin.Section{
		wasmbin.SectionType:     {ID: wasmbin.SectionType, Payload: []byte{1, 0x60, 0, 0}},
		wasmbin.SectionFunction: {ID: wasmbin.SectionFunction, Payload: funcs},
		wasmbin.SectionMemory:   {ID: wasmbin.SectionMemory, Payload: []byte{1, 0, 1}},
		wasmbin.SectionExport:   {ID: wasmbin.SectionExport, Payload: []byte{2, 6, '_', 's', 't', 'a', 'r', 't', 0, 0, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0}},
		wasmbin.SectionCode:     {ID: wasmbin.SectionCode, Payload: code},
	}
	var sections []wasmbin.Section
	for _, id := range order {
		given := false
		for _, s := range h.sections {
			if s.ID == id {
				sections, given = append(sections, s), true
			}
		}
		if d, ok := defaults[id]; ok && !given {
			sections = append(sections, d)
		}
	}
	manifest := `{"abi":1,"name":"hostile","version":"0.1.0","description":"A module built to stall the compiler.",` +
		`"tools":[{"name":"hostile","description":"Never runs.","inputSchema":{"type":"object","properties":{}}}]}`
	wasm, err := abi.EmbedManifest(wasmbin.Encode(sections), []byte(manifest))
	if err != nil {
		panic(err)
	}
	return wasm
}

// declared is a tool module with a section of kind id whose payload is
// before, a count of 2^28 and after.
func declared(id byte, before []byte, after ...byte) []byte {
	payload := append(append(before, 0xFF, 0xFF, 0xFF, 0x7F), after...)
	s := wasmbin.Section{ID: id, Payload: payload}
	if id == wasmbin.SectionCustom {
		s.Name = "name"
	}
	return hostile{sections: []wasmbin.Section{s}}.wasm()
}

// limits encodes a section of one table (funcref) or memory with the given
// minimum.
func limits(id byte, min uint32) wasmbin.Section {
	p := []byte{1}
	if id == wasmbin.SectionTable {
		p = append(p, 0x70)
	}
	return wasmbin.Section{ID: id, Payload: wasmbin.AppendU32(append(p, 0), min)}
}

// body is a function body with locals i32 locals, the instructions and the
// final end, prefixed with its size.
func body(locals uint64, instrs []byte) []byte {
	b := []byte{0}
	if locals > 0 {
		b = append(wasmbin.AppendU32([]byte{1}, uint32(locals)), 0x7F)
	}
	b = append(append(b, instrs...), 0x0B)
	return append(wasmbin.AppendU32(nil, uint32(len(b))), b...)
}

func nestedBlocks(n int) []byte {
	return append(bytes.Repeat([]byte{0x02, 0x40}, n), bytes.Repeat([]byte{0x0B}, n)...)
}

// liveAcrossIfs sets every local, then runs n ifs in a row, then reads
// every local: each local is live in every block.
func liveAcrossIfs(locals, n int) []byte {
	var b []byte
	for k := range locals {
		b = wasmbin.AppendU32(append(b, 0x41, 1, 0x21), uint32(k)) // i32.const 1; local.set k
	}
	b = append(b, bytes.Repeat([]byte{0x41, 0, 0x04, 0x40, 0x0B}, n)...)
	b = append(b, 0x41, 0)
	for k := range locals {
		b = append(wasmbin.AppendU32(append(b, 0x20), uint32(k)), 0x6A) // local.get k; i32.add
	}
	return append(b, 0x1A)
}
