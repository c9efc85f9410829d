package wasmbin

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// dataModule is a module with one page of memory, exported as "memory",
// and the given active data segments, in order.
func dataModule(segs ...segment) []byte {
	data := AppendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		data = append(data, 0x00)
		data = append(appendI32Const(data, int32(s.offset)), 0x0B)
		data = AppendU32(data, uint32(len(s.data)))
		data = append(data, s.data...)
	}
	return Encode([]Section{
		{ID: SectionMemory, Payload: []byte{0x01, 0x00, 0x01}},
		{ID: SectionExport, Payload: append(appendName([]byte{0x01}, "memory"), 0x02, 0x00)},
		{ID: SectionData, Payload: data},
	})
}

// memoryAfterInstantiation instantiates wasm (its start function not run)
// and returns its memory, or the instantiation's error.
func memoryAfterInstantiation(t *testing.T, wasm []byte) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	// The guests' own host imports, as functions that do nothing.
	compiled, err := r.CompileModule(ctx, wasm)
	if err != nil {
		return nil, err
	}
	hosts := map[string]wazero.HostModuleBuilder{}
	for _, f := range compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod == wasi_snapshot_preview1.ModuleName {
			continue
		}
		if hosts[mod] == nil {
			hosts[mod] = r.NewHostModuleBuilder(mod)
		}
		hosts[mod].NewFunctionBuilder().
			WithGoFunction(api.GoFunc(func(context.Context, []uint64) {}), f.ParamTypes(), f.ResultTypes()).
			Export(name)
	}
	for _, h := range hosts {
		if _, err := h.Instantiate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		return nil, err
	}
	b, _ := mod.Memory().Read(0, mod.Memory().Size())
	return bytes.Clone(b), nil
}

// Coalescing keeps memory's initial contents byte for byte: later segments
// win where they overlap, gaps stay zero, and a module whose segments do
// not fit still fails to instantiate.
func TestCoalesceData(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []segment
		want int // segments after
	}{
		{"adjacent", []segment{{0, []byte("abc")}, {3, []byte("def")}}, 1},
		{"small gap", []segment{{10, []byte("abc")}, {100, []byte("def")}}, 1},
		{"large gap", []segment{{10, []byte("abc")}, {10 + 3 + DataGap + 1, []byte("def")}}, 2},
		{"later wins", []segment{{0, []byte("aaaaaaaa")}, {2, []byte("bb")}, {1, []byte("c")}}, 1},
		{"out of order", []segment{{500, []byte("late")}, {0, []byte("early")}, {498, []byte("xyz")}}, 1},
		{"empty segment past the rest", []segment{{0, []byte("a")}, {60000, nil}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := dataModule(tc.segs...)
			out, err := CoalesceData(orig)
			if err != nil {
				t.Fatal(err)
			}
			sections, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sections {
				if s.ID == SectionData {
					if n, _ := NewReader(s.Payload).U32(); int(n) != tc.want {
						t.Errorf("%d segments after, want %d", n, tc.want)
					}
				}
			}
			want, err := memoryAfterInstantiation(t, orig)
			if err != nil {
				t.Fatal(err)
			}
			got, err := memoryAfterInstantiation(t, out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Error("memory after instantiation differs")
			}
		})
	}
	// A segment past the memory's end fails instantiation before and after.
	for _, segs := range [][]segment{
		{{0, []byte("a")}, {65535, []byte("bc")}},
		{{0, []byte("a")}, {65537, nil}},
	} {
		orig := dataModule(segs...)
		out, err := CoalesceData(orig)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := memoryAfterInstantiation(t, orig); err == nil {
			t.Fatal("the original instantiates")
		}
		if _, err := memoryAfterInstantiation(t, out); err == nil || !strings.Contains(err.Error(), "out of bounds") {
			t.Errorf("coalesced: %v, want out of bounds", err)
		}
	}
}

// The real modules (Go's linker writes a segment per run of non-zero
// bytes) keep their initial memory and lose most segments.
func TestCoalesceDataGuests(t *testing.T) {
	for _, path := range []string{"../../guests/go/jsonq/jsonq.wasm", "../../guests/c/hash/hash.wasm", "../../guests/rust/wordfreq/wordfreq.wasm"} {
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, err := CoalesceData(orig)
		if err != nil {
			t.Fatal(err)
		}
		want, err := memoryAfterInstantiation(t, orig)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, err := memoryAfterInstantiation(t, out)
		if err != nil {
			t.Fatalf("%s coalesced: %v", path, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: memory after instantiation differs", path)
		}
	}
}

// ExposeState exports the memory and mutable globals under reserved names,
// and says why a module whose state lies elsewhere cannot be snapshotted.
func TestExposeState(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	// (memory 1) (global (mut i32) (i32.const 7)) (global i32 (i32.const 1)) (global (mut i64) (i64.const 9))
	globals := []byte{0x03, 0x7F, 0x01, 0x41, 0x07, 0x0B, 0x7F, 0x00, 0x41, 0x01, 0x0B, 0x7E, 0x01, 0x42, 0x09, 0x0B}
	wasm := Encode([]Section{
		{ID: SectionMemory, Payload: []byte{0x01, 0x00, 0x01}},
		{ID: SectionGlobal, Payload: globals},
	})
	out, st, err := ExposeState(wasm)
	if err != nil || st.Reason != "" {
		t.Fatal(err, st.Reason)
	}
	if len(st.Globals) != 2 || st.Globals[0] != 0 || st.Globals[1] != 2 {
		t.Errorf("globals %v, want [0 2] (the mutable ones)", st.Globals)
	}
	mod, err := r.Instantiate(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if mod.ExportedMemory(StateMemory) == nil {
		t.Error("memory not exported")
	}
	if g := mod.ExportedGlobal(StateGlobalPrefix + "2"); g == nil || g.Get() != 9 {
		t.Errorf("global 2: %v", g)
	}
	if back, ok := ExposedState(out); !ok || len(back.Globals) != 2 || back.Globals[1] != 2 {
		t.Errorf("ExposedState: %v %v", back, ok)
	}
	if _, ok := ExposedState(wasm); ok {
		t.Error("ExposedState found exports in a module that has none")
	}
	if again, err := StateOf(wasm); err != nil || len(again.Globals) != 2 {
		t.Errorf("StateOf: %v %v", again, err)
	}

	// A module that sets a table, or has a start function, is refused.
	tableSet := Encode([]Section{
		{ID: SectionType, Payload: []byte{0x01, 0x60, 0x00, 0x00}},
		{ID: SectionFunction, Payload: []byte{0x01, 0x00}},
		{ID: SectionTable, Payload: []byte{0x01, 0x70, 0x00, 0x01}},
		{ID: SectionStart, Payload: []byte{0x00}},
		// (func (table.set 0 (i32.const 0) (ref.null func)))
		{ID: SectionCode, Payload: []byte{0x01, 0x08, 0x00, 0x41, 0x00, 0xD0, 0x70, 0x26, 0x00, 0x0B}},
	})
	out, st, err = ExposeState(tableSet)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != "it has a start function" || !bytes.Equal(out, tableSet) {
		t.Errorf("reason %q, want the start function named first and the module unchanged", st.Reason)
	}
	noStart := Encode([]Section{
		{ID: SectionType, Payload: []byte{0x01, 0x60, 0x00, 0x00}},
		{ID: SectionFunction, Payload: []byte{0x01, 0x00}},
		{ID: SectionTable, Payload: []byte{0x01, 0x70, 0x00, 0x01}},
		{ID: SectionCode, Payload: []byte{0x01, 0x08, 0x00, 0x41, 0x00, 0xD0, 0x70, 0x26, 0x00, 0x0B}},
	})
	if _, err := r.CompileModule(ctx, noStart); err != nil {
		t.Fatalf("the test module is invalid: %v", err)
	}
	if st, err := StateOf(noStart); err != nil || st.Reason != "its code uses table.set" {
		t.Errorf("reason %q (%v), want table.set", st.Reason, err)
	}
}
