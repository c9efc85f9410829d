package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A module that makes wazero's validator panic (found by FuzzInstrument)
// fails to load with an error; the process and the other modules go on.
func TestMalformedModuleDoesNotCrash(t *testing.T) {
	b, err := os.ReadFile("../internal/wasmbin/testdata/fuzz/FuzzInstrument/b346ab5752a6ab3c")
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
	wasm := mustEmbed(t, []byte(s), `{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`)
	for mode, cfg := range interruptModes() {
		r := newTestRuntime(t, cfg)
		path := filepath.Join(t.TempDir(), "bad.wasm")
		os.WriteFile(path, wasm, 0o644)
		_, err := r.Load(context.Background(), path)
		if err == nil {
			t.Fatalf("mode %s: the malformed module loaded", mode)
		}
		if !strings.Contains(err.Error(), "bad.wasm") {
			t.Errorf("mode %s: error does not name the file: %v", mode, err)
		}
		// Past the import check, wazero's validator panics on these bytes
		// (engine/wazero's tests check that it says so): compiling must
		// turn that into an error.
		if _, err := compileModule(context.Background(), r.engine, []byte(s)); err == nil {
			t.Errorf("mode %s: the malformed module compiled", mode)
		}
		callOK(t, load(t, r, echoWasm))
	}
}
