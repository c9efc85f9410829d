package runtime

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// invalidBody is a module that every check before compiling accepts (it is
// well formed, imports nothing, exports _start and memory) but that fails
// validation: _start, of type () -> (), leaves an i32 on the stack.
var invalidBody = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type 0: () -> ()
	0x03, 0x02, 0x01, 0x00, // function 0: type 0
	0x05, 0x03, 0x01, 0x00, 0x01, // memory 0: 1 page
	0x07, 0x13, 0x02, // exports: _start, memory
	0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
	0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,
	0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b, // body: i32.const 0; end
}

// TestOpenThenCompile: Open returns a module whose manifest is there at
// once; a call waits for the compile and runs.
func TestOpenThenCompile(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m, err := r.Open(context.Background(), echoWasm)
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != "echo" || len(m.Manifest().Tools) == 0 {
			t.Fatalf("manifest not read at Open: %q %+v", m.Name(), m.Manifest())
		}
		callOK(t, m)
		if err := m.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(m.Exports()) == 0 {
			t.Error("no exports after compiling")
		}
	})
}

// TestCompileFailureMakesModuleUnavailable: a module that passes every
// check before compiling but fails to compile is opened, then reports the
// failure from Ready and from every call, and Load refuses it.
func TestCompileFailureMakesModuleUnavailable(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		dir := t.TempDir()
		path := filepath.Join(dir, "broken.wasm")
		if err := os.WriteFile(path, invalidBody, 0o644); err != nil {
			t.Fatal(err)
		}
		manifest := `{"abi":1,"name":"broken","tools":[{"name":"broken","inputSchema":{"type":"object"}}]}`
		if err := os.WriteFile(filepath.Join(dir, "broken.manifest.json"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		r := newTestRuntime(t, cfg)
		m, err := r.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open refused a module that needs compiling to find its fault: %v", err)
		}
		err = m.Ready(context.Background())
		if err == nil || !strings.Contains(err.Error(), "load "+path+": compile:") {
			t.Fatalf("Ready: %v", err)
		}
		out, err := m.Call(context.Background(), Call{Tool: "broken"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err == nil || out.Err.Kind != KindUnavailable || out.Result != nil || !strings.Contains(out.Err.Message, "could not be compiled") {
			t.Fatalf("call of a module that failed to compile: %+v", out.Err)
		}
		if _, err := r.Load(context.Background(), path); err == nil {
			t.Fatal("Load accepted the module")
		}
		if err := m.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInstrumentedModulesAreCached: with a cache directory, the
// instrumented bytes are kept beside the compiled code and used on the next
// load; a damaged copy is replaced, not trusted.
func TestInstrumentedModulesAreCached(t *testing.T) {
	dir := t.TempDir()
	loadOnce := func() {
		t.Helper()
		r, err := New(context.Background(), NewConfig().WithCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close(context.Background())
		callOK(t, load(t, r, echoWasm))
	}
	loadOnce()
	cached, _ := filepath.Glob(filepath.Join(dir, "instrumented", "*.wasm"))
	if len(cached) != 1 {
		t.Fatalf("cached instrumented modules: %v", cached)
	}
	first, _ := os.ReadFile(cached[0])
	loadOnce()
	if err := os.WriteFile(cached[0], []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	loadOnce()
	if again, _ := os.ReadFile(cached[0]); !bytes.Equal(again, first) {
		t.Error("the damaged cached copy was not replaced")
	}
}

// TestCompileTimeLimit: a module whose compile outlasts the limit fails to
// load with a message naming the limit. (A limit of a nanosecond has
// passed before compiling starts, whatever the machine.)
func TestCompileTimeLimit(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg.WithCompileTimeout(time.Nanosecond))
		_, err := r.Load(context.Background(), goWasm)
		if err == nil || !strings.Contains(err.Error(), "compile time limit") {
			t.Fatalf("err = %v, want the compile time limit", err)
		}
	})
}

// TestCloseStopsBackgroundCompiles: Close during background compiles
// returns once they stopped, and the modules report why they are not
// ready rather than hanging.
func TestCloseStopsBackgroundCompiles(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r, err := New(context.Background(), cfg.WithCacheDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		var mods []*Module
		for _, p := range []string{goWasm, cWasm, echoWasm} {
			m, err := r.Open(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			mods = append(mods, m)
		}
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, m := range mods {
			select {
			case <-m.ready:
			default:
				t.Errorf("%s: still compiling after Close returned", m.Name())
			}
		}
	})
}
