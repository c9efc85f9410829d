package wasmgate_test

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/wasmgate/wasmgate"

// TestLayout keeps the seams ARCHITECTURE.md describes: it reads the
// imports of every package's non-test files, those built only with the
// wasmtime tag included.
func TestLayout(t *testing.T) {
	bctx := build.Default
	bctx.BuildTags = append(slices.Clone(bctx.BuildTags), "wasmtime")
	imports := map[string][]string{} // package (relative) -> imports
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != "." {
			return filepath.SkipDir // a module of its own (bench/), not wasmgate's packages
		}
		p, err := bctx.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files
		}
		imports[filepath.ToSlash(path)] = p.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ours := func(imp string) bool { return imp == modulePath || strings.HasPrefix(imp, modulePath+"/") }
	check := func(pkg string, bad func(imp string) bool, why string) {
		for _, imp := range imports[pkg] {
			if bad(imp) {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
	for _, pkg := range []string{"abi", "engine"} {
		check(pkg, ours, "it must import nothing of ours")
	}
	for pkg := range imports {
		wazeroEngine := pkg == "engine/wazero" || strings.HasPrefix(pkg, "engine/wazero/")
		if !wazeroEngine {
			check(pkg, func(imp string) bool { return strings.HasPrefix(imp, "github.com/tetratelabs/wazero") },
				"only the wazero engine may import wazero")
		}
		if pkg != "engine/wasmtime" {
			check(pkg, func(imp string) bool { return strings.HasPrefix(imp, "github.com/bytecodealliance/") },
				"only the wasmtime engine may import wasmtime-go")
		}
		if strings.HasPrefix(pkg, "engine/") {
			// Engines are independent: one does not build on another.
			check(pkg, func(imp string) bool {
				rest, ok := strings.CutPrefix(imp, modulePath+"/engine/")
				return ok && !strings.HasPrefix(pkg+"/", "engine/"+strings.SplitN(rest, "/", 2)[0]+"/")
			}, "an engine must not import another engine")
		}
		if strings.HasPrefix(pkg, "host/") || strings.HasPrefix(pkg, "capability") || pkg == "runtime" || pkg == "server" || pkg == "policy" {
			check(pkg, func(imp string) bool { return strings.HasPrefix(imp, modulePath+"/engine/") },
				"it must not depend on an engine implementation")
		}
	}
	check("runtime", func(imp string) bool {
		return slices.Contains([]string{"server", "policy", "audit", "cmd/wasmgate"}, strings.TrimPrefix(imp, modulePath+"/")) ||
			strings.HasPrefix(imp, modulePath+"/host/")
	}, "the runtime knows no front end, policy or capability")
	for _, pkg := range []string{"runtime", "abi", "engine", "capability"} {
		check(pkg, func(imp string) bool { return strings.HasPrefix(imp, "github.com/modelcontextprotocol/") },
			"only the front end speaks MCP: the runtime returns bytes, abi parses them")
	}
	for _, pkg := range []string{"policy", "server"} {
		check(pkg, func(imp string) bool { return strings.HasPrefix(imp, modulePath+"/host/") },
			"it must know capabilities only through package capability")
	}
	check("capability", func(imp string) bool {
		return slices.Contains([]string{"server", "policy", "audit", "cmd/wasmgate"}, strings.TrimPrefix(imp, modulePath+"/")) ||
			strings.HasPrefix(imp, modulePath+"/host/")
	}, "the capability seam imports no capability, front end or policy")
	if len(imports["runtime"]) == 0 || len(imports["engine/wazero"]) == 0 || len(imports["engine/wasmtime"]) == 0 {
		t.Fatalf("packages not found: %v", imports)
	}
}
