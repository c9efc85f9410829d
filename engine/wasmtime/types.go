//go:build wasmtime

package wasmtime

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// funcInfo is what a stack trace shows of a function besides its name.
type funcInfo struct {
	sig engine.Signature
}

// functionTypes reads the type of every function of wasm, imported ones
// first, by function index: Wasmtime's frames give the index, and
// engine/wazero's frames show the types.
func functionTypes(wasm []byte) ([]funcInfo, error) {
	sections, err := wasmbin.Parse(wasm)
	if err != nil {
		return nil, err
	}
	var types []engine.Signature
	var funcs []funcInfo
	byType := func(t uint32) (funcInfo, error) {
		if int(t) >= len(types) {
			return funcInfo{}, fmt.Errorf("function type %d of %d", t, len(types))
		}
		return funcInfo{sig: types[t]}, nil
	}
	for _, s := range sections {
		r := wasmbin.NewReader(s.Payload)
		switch s.ID {
		case wasmbin.SectionType:
			n, err := r.U32()
			if err != nil {
				return nil, err
			}
			for range n {
				if b, err := r.Byte(); err != nil || b != 0x60 {
					return nil, errors.New("type section: not a function type")
				}
				params, err := readValueTypes(r)
				if err != nil {
					return nil, err
				}
				results, err := readValueTypes(r)
				if err != nil {
					return nil, err
				}
				types = append(types, engine.Signature{Params: params, Results: results})
			}
		case wasmbin.SectionImport:
			n, err := r.U32()
			if err != nil {
				return nil, err
			}
			for range n {
				if _, err := r.Name(); err != nil {
					return nil, err
				}
				if _, err := r.Name(); err != nil {
					return nil, err
				}
				kind, err := r.Byte()
				if err != nil {
					return nil, err
				}
				if kind != 0x00 {
					// Only function imports reach the compiler (the
					// runtime refuses the others); stop at anything else.
					return funcs, nil
				}
				t, err := r.U32()
				if err != nil {
					return nil, err
				}
				f, err := byType(t)
				if err != nil {
					return nil, err
				}
				funcs = append(funcs, f)
			}
		case wasmbin.SectionFunction:
			n, err := r.U32()
			if err != nil {
				return nil, err
			}
			for range n {
				t, err := r.U32()
				if err != nil {
					return nil, err
				}
				f, err := byType(t)
				if err != nil {
					return nil, err
				}
				funcs = append(funcs, f)
			}
		}
	}
	return funcs, nil
}

func readValueTypes(r *wasmbin.Reader) ([]engine.ValueType, error) {
	n, err := r.U32()
	if err != nil {
		return nil, err
	}
	if int(n) > r.Len() {
		return nil, errors.New("type section: truncated")
	}
	var out []engine.ValueType
	for range n {
		b, err := r.Byte()
		if err != nil {
			return nil, err
		}
		out = append(out, engine.ValueType(b))
	}
	return out, nil
}

// encodeFuncInfos writes funcs for the cache file: a count, then each
// function's parameter and result types, counted.
func encodeFuncInfos(funcs []funcInfo) []byte {
	out := binary.AppendUvarint(nil, uint64(len(funcs)))
	for _, f := range funcs {
		for _, ts := range [][]engine.ValueType{f.sig.Params, f.sig.Results} {
			out = binary.AppendUvarint(out, uint64(len(ts)))
			for _, t := range ts {
				out = append(out, byte(t))
			}
		}
	}
	return out
}

// decodeFuncInfos reads what encodeFuncInfos wrote at the start of b and
// returns the rest.
func decodeFuncInfos(b []byte) ([]funcInfo, []byte, error) {
	bad := errors.New("the cached module's function types are damaged")
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, bad
	}
	b = b[k:]
	funcs := make([]funcInfo, n)
	for i := range funcs {
		for j := range 2 {
			m, k := binary.Uvarint(b)
			if k <= 0 || m > uint64(len(b)-k) {
				return nil, nil, bad
			}
			var ts []engine.ValueType
			for _, t := range b[k : k+int(m)] {
				ts = append(ts, engine.ValueType(t))
			}
			b = b[k+int(m):]
			if j == 0 {
				funcs[i].sig.Params = ts
			} else {
				funcs[i].sig.Results = ts
			}
		}
	}
	return funcs, b, nil
}
