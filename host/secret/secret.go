// Package secret provides the secret_get host function of abi/ABI.md and
// resolves the secret references of the operator's policy.
//
// A call sees only the secrets its grant names (Grant),
// and the runtime redacts their values from the call's result, log and
// stderr.
package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// FuncGet is secret_get(name_ptr, name_len) -> i32: holds the value of the
// named secret.
const FuncGet = "secret_get"

// MaxNameLen is the longest secret name secret_get accepts, in bytes.
const MaxNameLen = 256

// HostFuncs returns secret_get, for runtime.Config.WithHostFunctions.
func HostFuncs() []runtime.HostFunc {
	return []runtime.HostFunc{{
		Name:    FuncGet,
		Params:  []engine.ValueType{engine.I32, engine.I32},
		Results: []engine.ValueType{engine.I32},
		Fn: func(_ context.Context, h *runtime.HostCall, stack []uint64) {
			stack[0] = engine.EncodeI32(get(h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
		},
	}}
}

func get(h *runtime.HostCall, ptr, n uint32) int32 {
	if n == 0 {
		return h.Fail(abi.ErrInvalid, FuncGet+": the secret name is empty")
	}
	if n > MaxNameLen {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the secret name is %d bytes, over the limit of %d", FuncGet, n, MaxNameLen))
	}
	name := string(h.Read(FuncGet, ptr, n))
	g, _ := runtime.Granted[*Grant](h, Name)
	v, ok := "", false
	if g != nil {
		v, ok = g.Values[name]
	}
	if !ok {
		m := h.Module()
		return h.Deny(fmt.Sprintf("secret %q is not granted to module %s: the operator can give it in the policy (for example modules.%s.secrets: {%s: env:VARIABLE}), and the module must list it in its manifest's permissions.secrets", name, m, m, name))
	}
	return h.Respond([]byte(v))
}

// MaxFileSize is the largest secret file Resolve reads.
const MaxFileSize = 64 << 10

// Resolve returns the value a policy's secret reference names:
//
//	env:NAME    the environment variable NAME of this process
//	file:PATH   the contents of the file PATH, less one trailing newline
//
// A variable that is unset or empty, a file that is missing, empty or
// larger than MaxFileSize, and any other form are errors: a secret never
// silently resolves to nothing.
func Resolve(ref string) (string, error) {
	kind, arg, ok := strings.Cut(ref, ":")
	switch {
	case ok && kind == "env":
		if arg == "" {
			return "", fmt.Errorf("secret reference %q names no environment variable: want env:NAME", ref)
		}
		v, set := os.LookupEnv(arg)
		if !set {
			return "", fmt.Errorf("secret reference %q: environment variable %s is not set", ref, arg)
		}
		if v == "" {
			return "", fmt.Errorf("secret reference %q: environment variable %s is empty", ref, arg)
		}
		return v, nil
	case ok && kind == "file":
		if arg == "" {
			return "", fmt.Errorf("secret reference %q names no file: want file:PATH", ref)
		}
		v, err := readFile(arg)
		if err != nil {
			return "", fmt.Errorf("secret reference %q: %w", ref, err)
		}
		return v, nil
	}
	return "", fmt.Errorf("secret reference %q: want env:NAME or file:PATH", ref)
}

func readFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("file %s does not exist", path)
		}
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return "", fmt.Errorf("%s is a directory, not a file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > MaxFileSize {
		return "", fmt.Errorf("file %s is larger than %d bytes, too large for a secret", path, MaxFileSize)
	}
	s := string(b)
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		s = strings.TrimSuffix(t, "\r")
	}
	if s == "" {
		return "", fmt.Errorf("file %s is empty", path)
	}
	return s, nil
}
