package wazero

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	wz "github.com/tetratelabs/wazero"
)

// Bytes that make wazero's validator panic (found by wasmbin's
// FuzzInstrument) fail to compile with an error that says the module is
// malformed.
func TestCompileModuleRecoversValidatorPanic(t *testing.T) {
	b, err := os.ReadFile("../../internal/wasmbin/testdata/fuzz/FuzzInstrument/b346ab5752a6ab3c")
	if err != nil {
		t.Fatal(err)
	}
	// The corpus file is `go test fuzz v1` followed by []byte("...").
	lit := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[1])
	lit = strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")")
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, rc := range []wz.RuntimeConfig{wz.NewRuntimeConfig(), wz.NewRuntimeConfigInterpreter()} {
		rt := wz.NewRuntimeWithConfig(ctx, rc)
		if _, err := compileModule(ctx, rt, []byte(s)); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("compileModule = %v, want a malformed-module error", err)
		}
		rt.Close(ctx)
	}
}
