//go:build wasmtime

package wasmtime

/*
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

// What this engine uses of wasmtime's C API beyond what wasmtime-go v39
// wraps, declared as in wasmtime.h (v39): the pooling allocator and the
// epoch-deadline callback. The library is the one wasmtime-go links.
typedef struct wasm_config_t wasm_config_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_pooling_allocation_config_t wasmtime_pooling_allocation_config_t;

extern wasmtime_pooling_allocation_config_t *wasmtime_pooling_allocation_config_new(void);
extern void wasmtime_pooling_allocation_config_delete(wasmtime_pooling_allocation_config_t *);
extern void wasmtime_pooling_allocation_config_total_memories_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_total_tables_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_total_core_instances_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_config_max_memory_size_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_table_elements_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_table_keep_resident_set(wasmtime_pooling_allocation_config_t *, size_t);
extern void wasmtime_pooling_allocation_config_max_unused_warm_slots_set(wasmtime_pooling_allocation_config_t *, uint32_t);
extern void wasmtime_pooling_allocation_strategy_set(wasm_config_t *, const wasmtime_pooling_allocation_config_t *);

extern wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *);
extern wasmtime_error_t *wasmtime_error_new(const char *);
extern void wasmtime_store_epoch_deadline_callback(wasmtime_store_t *,
	wasmtime_error_t *(*)(wasmtime_context_t *, void *, uint64_t *, uint8_t *),
	void *, void (*)(void *));

static void wg_pooling(wasm_config_t *cfg, uint32_t slots, size_t max_memory, size_t table_elements,
		size_t keep_resident, uint32_t warm_slots) {
	wasmtime_pooling_allocation_config_t *p = wasmtime_pooling_allocation_config_new();
	wasmtime_pooling_allocation_config_total_memories_set(p, slots);
	wasmtime_pooling_allocation_config_total_tables_set(p, slots);
	wasmtime_pooling_allocation_config_total_core_instances_set(p, slots);
	wasmtime_pooling_allocation_config_max_memory_size_set(p, max_memory);
	wasmtime_pooling_allocation_config_table_elements_set(p, table_elements);
	wasmtime_pooling_allocation_config_linear_memory_keep_resident_set(p, keep_resident);
	wasmtime_pooling_allocation_config_table_keep_resident_set(p, keep_resident);
	wasmtime_pooling_allocation_config_max_unused_warm_slots_set(p, warm_slots);
	wasmtime_pooling_allocation_strategy_set(cfg, p);
	wasmtime_pooling_allocation_config_delete(p);
}

// wg_stop is one run's stop flag: the host sets it once the run's context
// is done, then increments the engine's epoch, and every running store
// checks its own flag in wg_epoch.
typedef struct { int32_t stop; } wg_stop;

static wasmtime_error_t *wg_epoch(wasmtime_context_t *cx, void *data, uint64_t *delta, uint8_t *kind) {
	wg_stop *s = data;
	if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		return wasmtime_error_new("interrupted by the host");
	}
	*delta = 1;
	*kind = 0; // WASMTIME_UPDATE_DEADLINE_CONTINUE
	return NULL;
}

static wg_stop *wg_stop_new(void) { return calloc(1, sizeof(wg_stop)); }

static void wg_stop_set(wg_stop *s) { __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE); }

static void wg_watch(wasmtime_store_t *store, wg_stop *s) {
	wasmtime_store_epoch_deadline_callback(store, wg_epoch, s, NULL);
}
*/
import "C"

import (
	"errors"
	"reflect"
	"unsafe"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtime-go v39 wraps neither the pooling allocator nor the
// epoch-deadline callback, which this engine needs: the first to keep a
// call's memory resident between calls (RATIONALE.md), the second to stop
// one store among many. Both are in the library it links, so they are
// called here through cgo with the C pointers the wrappers hold. Each
// wrapper keeps its pointer as its first field, _ptr; checkLayout makes
// sure that is still so before anything reads one, and newStore checks the
// store's against the context wasmtime-go reports.

// checkLayout reports whether wt.Config and wt.Store begin with their C
// pointer, as in wasmtime-go v39.
func checkLayout() error {
	for _, t := range []reflect.Type{reflect.TypeFor[wt.Config](), reflect.TypeFor[wt.Store]()} {
		if t.NumField() == 0 {
			return errors.New("wasmtime-go's " + t.Name() + " has no fields")
		}
		f := t.Field(0)
		if f.Name != "_ptr" || f.Offset != 0 || f.Type.Kind() != reflect.Pointer {
			return errors.New("wasmtime-go's " + t.Name() + " no longer begins with its C pointer: this engine supports wasmtime-go v39")
		}
	}
	return nil
}

// configPooling makes cfg's engine allocate instances from a pool of
// slots, each keeping up to keepResident bytes of its linear memory and
// tables resident (cleared) when it is freed.
func configPooling(cfg *wt.Config, slots uint32, maxMemory, tableElements, keepResident uint64, warmSlots uint32) {
	p := *(**C.wasm_config_t)(unsafe.Pointer(cfg))
	C.wg_pooling(p, C.uint32_t(slots), C.size_t(maxMemory), C.size_t(tableElements), C.size_t(keepResident), C.uint32_t(warmSlots))
}

// stopFlag is a run's stop flag, in C memory: the store's epoch callback
// reads it.
type stopFlag struct{ p *C.wg_stop }

func newStopFlag() stopFlag { return stopFlag{C.wg_stop_new()} }

// set makes the store's next epoch check stop the guest.
func (f stopFlag) set() { C.wg_stop_set(f.p) }

// free releases the flag, once no store and no goroutine uses it.
func (f stopFlag) free() { C.free(unsafe.Pointer(f.p)) }

// watch makes store's epoch callback check f whenever the engine's epoch
// passes the store's deadline: the guest stops if f is set, else runs on
// until the next increment.
func watch(store *wt.Store, f stopFlag) error {
	p := *(**C.wasmtime_store_t)(unsafe.Pointer(store))
	if unsafe.Pointer(C.wasmtime_store_context(p)) != unsafe.Pointer(store.Context()) {
		return errors.New("wasmtime-go's Store does not hold the store it reports: this engine supports wasmtime-go v39")
	}
	C.wg_watch(p, f.p)
	store.SetEpochDeadline(1)
	return nil
}
