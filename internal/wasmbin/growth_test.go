package wasmbin

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// growModule is
//
//	(module
//	  (memory 1)
//	  (table 1 funcref)
//	  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
//	  (func (export "tgrow") (param i32) (result i32)
//	    (table.grow 0 (ref.null func) (local.get 0))))
var growModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
	0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x00, 0x04, 0x04, 0x01,
	0x70, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x10, 0x02, 0x04,
	0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x05, 0x74, 0x67, 0x72, 0x6f, 0x77,
	0x00, 0x01, 0x0a, 0x12, 0x02, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
	0x09, 0x00, 0xd0, 0x70, 0x20, 0x00, 0xfc, 0x0f, 0x00, 0x0b,
}

func TestInstrumentGrowthSections(t *testing.T) {
	out, err := InstrumentGrowth(minimal, "m")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []byte
	for _, sec := range s {
		ids = append(ids, sec.ID)
	}
	// No fuel global: only the type and import sections are added.
	want := []byte{SectionType, SectionImport, SectionFunction, SectionExport, SectionCode}
	if !bytes.Equal(ids, want) {
		t.Fatalf("sections = %v, want %v", ids, want)
	}
	if exp := s[3].Payload; exp[len(exp)-1] != 0x02 {
		t.Errorf("export not renumbered: %x", exp)
	}
	if code := s[4].Payload; !bytes.Equal(code, minimal[len(minimal)-4:]) {
		t.Errorf("a body without growth changed: %x", code)
	}
	info, err := ReadInfo(out)
	if err != nil || len(info.Imports) != 2 || info.Imports[0] != (Import{"m", FuncMemoryGrow, "func"}) || info.Imports[1] != (Import{"m", FuncTableGrow, "func"}) {
		t.Errorf("imports = %+v, %v", info, err)
	}
	if IsInstrumented(out, "m") {
		t.Error("IsInstrumented: a module without fuel reported as instrumented")
	}
}

// Every memory.grow and table.grow asks the host first, with the current
// size; the host's refusal makes the growth fail with -1, its consent lets
// it happen.
func TestInstrumentGrowthAsksTheHost(t *testing.T) {
	out, err := InstrumentGrowth(growModule, "m")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	type ask struct{ delta, size, index uint32 }
	var memAsks, tableAsks []ask
	// At most 3 pages of memory and 4 table elements.
	grant := func(asks *[]ask, limit uint32) api.GoFunction {
		return api.GoFunc(func(_ context.Context, stack []uint64) {
			a := ask{uint32(stack[0]), uint32(stack[1]), uint32(stack[2])}
			*asks = append(*asks, a)
			stack[0] = uint64(a.delta)
			if a.size+a.delta > limit {
				stack[0] = math.MaxUint32
			}
		})
	}
	i32 := api.ValueTypeI32
	_, err = r.NewHostModuleBuilder("m").
		NewFunctionBuilder().WithGoFunction(grant(&memAsks, 3), []api.ValueType{i32, i32, i32}, []api.ValueType{i32}).Export(FuncMemoryGrow).
		NewFunctionBuilder().WithGoFunction(grant(&tableAsks, 4), []api.ValueType{i32, i32, i32}, []api.ValueType{i32}).Export(FuncTableGrow).
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	call := func(name string, delta uint32) int32 {
		res, err := mod.ExportedFunction(name).Call(ctx, uint64(delta))
		if err != nil {
			t.Fatal(err)
		}
		return int32(res[0])
	}
	for _, c := range []struct {
		fn    string
		delta uint32
		want  int32
	}{
		{"grow", 1, 1}, {"grow", 2, -1}, {"grow", 1, 2}, {"grow", 0, 3},
		{"tgrow", 3, 1}, {"tgrow", 1, -1}, {"tgrow", 0, 4},
	} {
		if got := call(c.fn, c.delta); got != c.want {
			t.Errorf("%s(%d) = %d, want %d", c.fn, c.delta, got, c.want)
		}
	}
	wantMem := []ask{{1, 1, 0}, {2, 2, 0}, {1, 2, 0}, {0, 3, 0}}
	wantTable := []ask{{3, 1, 0}, {1, 4, 0}, {0, 4, 0}}
	if !equalAsks(memAsks, wantMem) || !equalAsks(tableAsks, wantTable) {
		t.Errorf("the host was asked %v (memory) and %v (table), want %v and %v", memAsks, tableAsks, wantMem, wantTable)
	}
}

func equalAsks[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
