//go:build wasmtime

package wasmtime

import (
	"fmt"
	"math"

	wt "github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// guestMemory is the caller's memory as host functions see it: a view of
// Wasmtime's linear memory, which does not move (pooled memories are
// reserved whole), valid while the host function runs.
type guestMemory struct {
	mem *wt.Memory // nil when the guest exports none
	st  wt.Storelike
}

func (g guestMemory) bytes() []byte {
	if g.mem == nil {
		return nil
	}
	return g.mem.UnsafeData(g.st)
}

func (g guestMemory) Read(ptr, n uint32) ([]byte, bool) {
	return memRange(g.bytes(), ptr, uint64(n))
}

func (g guestMemory) Write(ptr uint32, b []byte) bool {
	dst, ok := memRange(g.bytes(), ptr, uint64(len(b)))
	if ok {
		copy(dst, b)
	}
	return ok
}

func (g guestMemory) Size() uint32 {
	if g.mem == nil {
		return 0
	}
	return uint32(min(g.mem.DataSize(g.st), math.MaxUint32))
}

// memory is the guest's exported memory ("memory", else the one
// wasmbin.ExposeState exported), looked up once per run.
func (r *run) memory(c *wt.Caller) guestMemory {
	if !r.memLooked {
		r.memLooked = true
		for _, name := range []string{"memory", wasmbin.StateMemory} {
			if ext := c.GetExport(name); ext != nil && ext.Memory() != nil {
				r.mem = ext.Memory()
				break
			}
		}
	}
	return guestMemory{mem: r.mem, st: c}
}

// defineHost defines the host functions in the linker, module by module.
// A panic in one is recovered: the guest traps, and Run returns a
// *engine.HostPanicError.
func (e *wasmtimeEngine) defineHost(fns []engine.HostFunc) error {
	seen := map[string]bool{}
	for _, f := range fns {
		if f.Module == growthModule || f.Module == engine.WASIModule {
			return fmt.Errorf("host function %s.%s: module %s is the engine's own", f.Module, f.Name, f.Module)
		}
		full := f.Module + "." + f.Name
		if seen[full] {
			return fmt.Errorf("host function %s is defined twice", full)
		}
		seen[full] = true
		fn, results := f.Fn, f.Results
		err := e.linker.FuncNew(f.Module, f.Name, funcType(f.Signature), func(c *wt.Caller, args []wt.Val) (out []wt.Val, trap *wt.Trap) {
			r := c.Data().(*run)
			stack := make([]uint64, max(len(args), len(results)))
			for i, a := range args {
				stack[i] = slot(a)
			}
			defer func() {
				if p := recover(); p != nil {
					if r.panicked == nil {
						r.panicked = &engine.HostPanicError{Func: full, Value: p}
					}
					out, trap = nil, wt.NewTrap("host function "+full+" panicked")
				}
			}()
			fn(r.ctx, r.memory(c), stack)
			out = make([]wt.Val, len(results))
			for i, t := range results {
				out[i] = val(t, stack[i])
			}
			return out, nil
		})
		if err != nil {
			return fmt.Errorf("define host function %s: %w", full, err)
		}
	}
	return nil
}

// slot is a value as a host function's stack slot (engine.ValueType).
func slot(v wt.Val) uint64 {
	switch v.Kind() {
	case wt.KindI32:
		return engine.EncodeI32(v.I32())
	case wt.KindI64:
		return engine.EncodeI64(v.I64())
	case wt.KindF32:
		return engine.EncodeF32(v.F32())
	case wt.KindF64:
		return engine.EncodeF64(v.F64())
	}
	return 0
}

// val is a stack slot as a value of type t.
func val(t engine.ValueType, s uint64) wt.Val {
	switch t {
	case engine.I64:
		return wt.ValI64(engine.DecodeI64(s))
	case engine.F32:
		return wt.ValF32(engine.DecodeF32(s))
	case engine.F64:
		return wt.ValF64(engine.DecodeF64(s))
	}
	return wt.ValI32(engine.DecodeI32(s))
}

// refused is what the growth functions return to make a grow fail:
// 0xFFFFFFFF, which no 32-bit memory or table can grow by.
const refused = -1

// defineGrowth defines what wasmbin.InstrumentGrowth imports: before every
// memory.grow and table.grow the guest asks, and the host lets the growth
// happen only within the run's memory limit, which covers the linear
// memory and every table (8 bytes an element) together, as engine/wazero's
// allocator does. A refusal makes the grow return -1 and is remembered:
// a guest that then fails has run out of memory.
func (e *wasmtimeEngine) defineGrowth() error {
	grow := engine.Signature{Params: []engine.ValueType{engine.I32, engine.I32, engine.I32}, Results: []engine.ValueType{engine.I32}}
	err := e.linker.FuncNew(growthModule, wasmbin.FuncMemoryGrow, funcType(grow), func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
		r := c.Data().(*run)
		delta, size := uint64(uint32(args[0].I32())), uint64(uint32(args[1].I32()))
		if !r.growMemory(size*pageSize, delta*pageSize) {
			return []wt.Val{wt.ValI32(refused)}, nil
		}
		return []wt.Val{args[0]}, nil
	})
	if err != nil {
		return err
	}
	return e.linker.FuncNew(growthModule, wasmbin.FuncTableGrow, funcType(grow), func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
		r := c.Data().(*run)
		delta, size, table := uint32(args[0].I32()), uint32(args[1].I32()), uint32(args[2].I32())
		if !r.growTable(table, size, delta) {
			return []wt.Val{wt.ValI32(refused)}, nil
		}
		return []wt.Val{args[0]}, nil
	})
}

// tableBytes is what the run's tables hold.
func (r *run) tableBytes() uint64 {
	var n uint64
	for _, t := range r.tables {
		n += t
	}
	return n * tableElemSize
}

// growMemory reports whether the memory, now size bytes, may grow by
// delta bytes within the limit, and counts the growth if so.
func (r *run) growMemory(size, delta uint64) bool {
	r.memBytes = size
	if delta == 0 {
		return true
	}
	if size+delta+r.tableBytes() > r.limit || size+delta > maxMemory {
		r.denied = true
		return false
	}
	r.memBytes = size + delta
	return true
}

// growTable reports whether table, now size elements long, may grow by
// delta within the limit (and the pool's table size), and counts the
// growth if so.
func (r *run) growTable(table, size, delta uint32) bool {
	if int(table) >= len(r.tables) {
		return false // imported tables are refused before compiling
	}
	if delta == 0 {
		return true
	}
	old := r.tables[table]
	next := uint64(size) + uint64(delta)
	r.tables[table] = next
	if next > maxTableElements || r.tableBytes()+r.memBytes > r.limit {
		r.tables[table] = max(old, uint64(size))
		r.denied = true
		return false
	}
	return true
}
