package runtime

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestOpenBytes: a module given as bytes opens as a file does, its
// manifest from its section or given beside it, and is named by its origin.
func TestOpenBytes(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, NewConfig().WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	wasm, err := os.ReadFile("../guests/wat/echo/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.OpenBytes(ctx, "https://example.com/echo.wasm", wasm, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Name() != "echo" || m.Path() != "https://example.com/echo.wasm" || !strings.HasPrefix(m.ManifestSource(), "section") {
		t.Errorf("module %s from %s, manifest from %s", m.Name(), m.Path(), m.ManifestSource())
	}
	m, err = rt.OpenBytes(ctx, "mem:echo2", wasm, []byte(`{"abi":1,"name":"echo2","tools":[{"name":"e","inputSchema":{"type":"object"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "echo2" || m.ManifestSource() != "given with the module" {
		t.Errorf("module %s, manifest from %s", m.Name(), m.ManifestSource())
	}
	if _, err := rt.OpenBytes(ctx, "mem:bad", []byte("not wasm"), nil); err == nil || !strings.Contains(err.Error(), "load mem:bad") {
		t.Errorf("OpenBytes of garbage: %v", err)
	}
}
