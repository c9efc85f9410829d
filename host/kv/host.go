package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// Host function names in the wasmgate import module.
const (
	// FuncGet is kv_get(key_ptr, key_len) -> i32: holds the value.
	FuncGet = "kv_get"
	// FuncSet is kv_set(key_ptr, key_len, val_ptr, val_len) -> i32: 0 once
	// the write is on disk.
	FuncSet = "kv_set"
	// FuncDelete is kv_delete(key_ptr, key_len) -> i32: 0 once the key is
	// gone from disk; a missing key is not an error.
	FuncDelete = "kv_delete"
	// FuncList is kv_list(prefix_ptr, prefix_len, after_ptr, after_len) ->
	// i32: holds {"keys": [...], "more": bool}.
	FuncList = "kv_list"
)

var i32 = engine.I32

// HostFuncs returns kv_get, kv_set, kv_delete and kv_list backed by s, for
// runtime.Config.WithHostFunctions. Each call may use them only when its
// grant includes kv (a Grant); a module reaches only its own namespace.
func (s *Store) HostFuncs() []runtime.HostFunc {
	two := []engine.ValueType{i32, i32}
	four := []engine.ValueType{i32, i32, i32, i32}
	one := []engine.ValueType{i32}
	return []runtime.HostFunc{
		{Name: FuncGet, Params: two, Results: one, Fn: s.hostGet},
		{Name: FuncSet, Params: four, Results: one, Fn: s.hostSet},
		{Name: FuncDelete, Params: two, Results: one, Fn: s.hostDelete},
		{Name: FuncList, Params: four, Results: one, Fn: s.hostList},
	}
}

func (s *Store) hostGet(ctx context.Context, h *runtime.HostCall, stack []uint64) {
	stack[0] = engine.EncodeI32(s.get(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
}

func (s *Store) hostSet(ctx context.Context, h *runtime.HostCall, stack []uint64) {
	stack[0] = engine.EncodeI32(s.set(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1]), engine.DecodeU32(stack[2]), engine.DecodeU32(stack[3])))
}

func (s *Store) hostDelete(ctx context.Context, h *runtime.HostCall, stack []uint64) {
	stack[0] = engine.EncodeI32(s.delete(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
}

func (s *Store) hostList(ctx context.Context, h *runtime.HostCall, stack []uint64) {
	stack[0] = engine.EncodeI32(s.list(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1]), engine.DecodeU32(stack[2]), engine.DecodeU32(stack[3])))
}

// Each operation checks, in order: the grant (denied without touching the
// guest's memory), the lengths against the limits (too_large without
// reading), then reads its arguments (a range outside memory aborts the
// call with host_misuse).

func (s *Store) get(ctx context.Context, h *runtime.HostCall, kptr, klen uint32) int32 {
	if st, ok := granted(h); !ok {
		return st
	}
	if klen > MaxKeyLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the key is %d bytes, over the limit of %d", FuncGet, klen, MaxKeyLen))
	}
	key := h.Read(FuncGet, kptr, klen)
	v, err := s.Get(ctx, h.Module(), key)
	if errors.Is(err, ErrNotFound) {
		return h.Fail(abi.ErrNotFound, fmt.Sprintf("%s: key %s is not stored", FuncGet, quote(key)))
	}
	if err != nil {
		return s.fail(h, FuncGet, err)
	}
	return h.Respond(v)
}

func (s *Store) set(ctx context.Context, h *runtime.HostCall, kptr, klen, vptr, vlen uint32) int32 {
	g, ok := granted(h)
	if !ok {
		return g
	}
	if klen > MaxKeyLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the key is %d bytes, over the limit of %d", FuncSet, klen, MaxKeyLen))
	}
	if vlen > MaxValueLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the value is %d bytes, over the limit of %d", FuncSet, vlen, MaxValueLen))
	}
	key := h.Read(FuncSet, kptr, klen)
	value := h.Read(FuncSet, vptr, vlen)
	if err := s.Set(ctx, h.Module(), key, value, grantOf(h).Quota); err != nil {
		return s.fail(h, FuncSet, err)
	}
	return 0
}

func (s *Store) delete(ctx context.Context, h *runtime.HostCall, kptr, klen uint32) int32 {
	if st, ok := granted(h); !ok {
		return st
	}
	if klen > MaxKeyLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the key is %d bytes, over the limit of %d", FuncDelete, klen, MaxKeyLen))
	}
	key := h.Read(FuncDelete, kptr, klen)
	if err := s.Delete(ctx, h.Module(), key); err != nil {
		return s.fail(h, FuncDelete, err)
	}
	return 0
}

func (s *Store) list(ctx context.Context, h *runtime.HostCall, pptr, plen, aptr, alen uint32) int32 {
	if st, ok := granted(h); !ok {
		return st
	}
	if plen > MaxKeyLen || alen > MaxKeyLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the prefix (%d bytes) or the key to list after (%d bytes) is over the key limit of %d", FuncList, plen, alen, MaxKeyLen))
	}
	prefix := h.Read(FuncList, pptr, plen)
	after := h.Read(FuncList, aptr, alen)
	keys, more, err := s.List(ctx, h.Module(), prefix, after, ListMax)
	if err != nil {
		return s.fail(h, FuncList, err)
	}
	return h.Respond(encodeList(keys, more))
}

// listResponse is what kv_list holds for the guest.
type listResponse struct {
	Keys []string `json:"keys"`
	More bool     `json:"more"`
}

func encodeList(keys []string, more bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(listResponse{Keys: keys, More: more}); err != nil {
		panic(err) // strings and a bool always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// granted reports whether the call may use the store; when not, it records
// the denied attempt and returns the status for the guest.
func granted(h *runtime.HostCall) (int32, bool) {
	if _, ok := runtime.Granted[*Grant](h, Name); ok {
		return 0, true
	}
	m := h.Module()
	return h.Deny(fmt.Sprintf("key-value storage is not granted to module %s: the operator can grant it with kv in the policy (for example modules.%s.kv: {quota: 16MiB}), and the module must ask for it with \"kv\": true in its manifest's permissions", m, m)), false
}

// grantOf is the call's grant, which granted checked.
func grantOf(h *runtime.HostCall) *Grant {
	g, _ := runtime.Granted[*Grant](h, Name)
	return g
}

// fail turns an error of the store into a status and message for the
// guest. The store's host path is not the guest's business.
func (s *Store) fail(h *runtime.HostCall, fn string, err error) int32 {
	var e *Error
	switch {
	case errors.As(err, &e):
		return h.Fail(e.Code, fn+": "+e.Msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return h.Fail(abi.ErrCancelled, fn+": the call was cancelled or ran out of time; nothing was changed")
	case errors.Is(err, ErrClosed):
		return h.Fail(abi.ErrFailed, fn+": the key-value store is closed (wasmgate is shutting down); nothing was changed")
	}
	return h.Fail(abi.ErrFailed, fn+": the key-value store failed: "+strings.ReplaceAll(err.Error(), s.path, FileName))
}

// quote shows a guest's key in a message, shortened.
func quote(key []byte) string {
	const show = 64
	if len(key) > show {
		return fmt.Sprintf("%q… (%d bytes)", key[:show], len(key))
	}
	return fmt.Sprintf("%q", key)
}
