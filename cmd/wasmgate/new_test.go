package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuiltinSDKs checks that the SDK a generated project gets is every
// SDK file in guests/: the embed patterns of package guests miss none.
func TestBuiltinSDKs(t *testing.T) {
	for _, l := range newLanguages {
		want, err := sdkFiles(l, filepath.Join("..", "..", "guests"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := sdkFiles(l, "")
		if err != nil {
			t.Fatal(err)
		}
		for n, b := range want {
			if !bytes.Equal(got[n], b) {
				t.Errorf("%s SDK: the built-in %s differs from guests/%s/%s: add it to the go:embed patterns in guests/sdks.go", l.name, n, l.sdkDir, n)
			}
		}
		for n := range got {
			if _, ok := want[n]; !ok {
				t.Errorf("%s SDK: built-in %s is not in guests/%s", l.name, n, l.sdkDir)
			}
		}
	}
}

func TestNewUsage(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "tool"}, "new needs --lang"},
		{[]string{"new", "--lang", "cobol", "tool"}, `unknown language "cobol"`},
		{[]string{"new", "--lang", "c", filepath.Join(dir, "9lives")}, "must be a letter"},
		{[]string{"new", "--lang", "c", full}, "not empty"},
		{[]string{"new", "--lang", "c", "--sdk", filepath.Join(dir, "nowhere"), filepath.Join(dir, "t")}, "--sdk"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
	}
}

// toolchainMissing says what is missing to build a project of lang, or "".
func toolchainMissing(lang string) string {
	have := func(cmd string) bool { _, err := exec.LookPath(cmd); return err == nil }
	if !have("make") {
		return "make"
	}
	switch lang {
	case "go":
		if !have("go") {
			return "go"
		}
	case "c":
		if !have("clang") || !have("wasm-ld") {
			return "clang and wasm-ld (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)"
		}
		out, _ := exec.Command("clang", "--target=wasm32-wasi", "--sysroot=/usr", "-print-file-name=libc.a").Output()
		if _, err := os.Stat(strings.TrimSpace(string(out))); err != nil {
			return "wasi-libc (apt-get install wasi-libc)"
		}
	case "assemblyscript":
		if !have("node") {
			return "node (apt-get install nodejs npm)"
		}
		if _, err := os.Stat("../../guests/assemblyscript/node_modules/assemblyscript/bin/asc.js"); err != nil {
			return "AssemblyScript (cd guests/assemblyscript && npm ci)"
		}
	case "rust":
		// Debian's rustc, whose wasm32-wasi standard library the
		// generated Makefile uses (a rustup rustc usually has none).
		if _, err := os.Stat("/usr/bin/rustc"); err != nil {
			return "/usr/bin/rustc (apt-get install rustc libstd-rust-dev-wasm32)"
		}
		out, _ := exec.Command("/usr/bin/rustc", "--print", "sysroot").Output()
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "lib/rustlib/wasm32-wasi/lib")); err != nil {
			return "the wasm32-wasi Rust standard library (apt-get install libstd-rust-dev-wasm32)"
		}
	}
	return ""
}

// TestNewProjects generates a project in every language, builds it with its
// own Makefile and calls its tool with wasmgate, as a user would. A missing
// toolchain skips that language, unless WASMGATE_REQUIRE_TOOLCHAINS=1.
func TestNewProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wasmgate and four projects; skipped with -short")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "wasmgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, l := range newLanguages {
		t.Run(l.name, func(t *testing.T) {
			if _, err := fs.Stat(templateFS, "templates/"+l.name); err != nil {
				t.Skipf("no %s templates", l.title)
			}
			if missing := toolchainMissing(l.name); missing != "" {
				if os.Getenv("WASMGATE_REQUIRE_TOOLCHAINS") == "1" {
					t.Fatalf("%s toolchain missing: %s", l.title, missing)
				}
				t.Skipf("%s toolchain missing: %s (set WASMGATE_REQUIRE_TOOLCHAINS=1 to fail instead)", l.title, missing)
			}
			name := "my" + l.name + "tool"
			dir := filepath.Join(tmp, "projects", name)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"new", "--lang", l.name, dir}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
				t.Fatalf("new: exit %d: %s", code, stderr.String())
			}
			if l.name == "assemblyscript" {
				// What `npm install` would fetch, from the repository's own
				// project-local install (tests do not reach the registry).
				abs, _ := filepath.Abs("../../guests/assemblyscript/node_modules")
				if err := os.Symlink(abs, filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
			}
			mk := exec.Command("make", "WASMGATE="+bin)
			mk.Dir = dir
			if out, err := mk.CombinedOutput(); err != nil {
				t.Fatalf("make: %v\n%s", err, out)
			}
			out, err := exec.Command(bin, "call", filepath.Join(dir, name+".wasm"), "hello", `{"name":"world"}`).CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"text": "Hello, world!"`) {
				t.Fatalf("wasmgate call: %v\n%s", err, out)
			}
			out, err = exec.Command(bin, "call", filepath.Join(dir, name+".wasm"), "hello", `{"name":""}`).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "name must not be empty") {
				t.Errorf("wasmgate call with an empty name: %v\n%s", err, out)
			}
		})
	}
}
