package engine

import "math"

// ValueType is a WebAssembly value type, with its binary encoding. Host
// functions take and return the four number types; the others appear in
// the signatures of guests' exports.
type ValueType byte

const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
)

// String is the type's name in the text format ("i32", ...).
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return "unknown"
}

// A host function's parameters and results are uint64 slots of its stack:
// these encode values into slots and decode them out.

func EncodeI32(v int32) uint64   { return uint64(uint32(v)) }
func DecodeI32(s uint64) int32   { return int32(s) }
func EncodeU32(v uint32) uint64  { return uint64(v) }
func DecodeU32(s uint64) uint32  { return uint32(s) }
func EncodeI64(v int64) uint64   { return uint64(v) }
func DecodeI64(s uint64) int64   { return int64(s) }
func EncodeF32(v float32) uint64 { return uint64(math.Float32bits(v)) }
func DecodeF32(s uint64) float32 { return math.Float32frombits(uint32(s)) }
func EncodeF64(v float64) uint64 { return math.Float64bits(v) }
func DecodeF64(s uint64) float64 { return math.Float64frombits(s) }
