package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var (
	// root is the repository's root, which documentation files are named
	// relative to.
	root string
	// binDir holds the wasmgate binary the tests built.
	binDir string
	// goEnv is what the go command needs in a script's environment, which
	// has no HOME (the README's first tool is built with it).
	goEnv []string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "wasmgate-docs-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binDir = filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "wasmgate"), "./cmd/wasmgate")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		return 1
	}
	var vars map[string]string
	if err := json.Unmarshal(out, &vars); err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		return 1
	}
	for k, v := range vars {
		goEnv = append(goEnv, k+"="+v)
	}
	// Offline, with the toolchain at hand, outside this module.
	goEnv = append(goEnv, "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=")
	return m.Run()
}

// TestScripts runs testdata/*.txtar, then checks that every console block
// of the documentation was run by one of them.
func TestScripts(t *testing.T) {
	t.Run("script", func(t *testing.T) {
		testscript.Run(t, testscript.Params{
			Dir:                 "testdata",
			Setup:               setup,
			Cmds:                commands,
			RequireExplicitExec: true,
			RequireUniqueNames:  true,
		})
	})
	if t.Failed() || strings.Contains(flag.Lookup("test.run").Value.String(), "/") {
		return // some scripts failed or did not run: coverage means nothing
	}
	files, err := docFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		blocks, err := readBlocks(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if _, ok := checked.Load(b.pos()); !ok && b.lang == "console" {
				t.Errorf("%s: no script in test/docs/testdata runs this console block: run it with consoleblocks or compare it with cmpdoc", b.pos())
			}
		}
	}
}

// TestMatch checks the comparison of documented and actual output.
func TestMatch(t *testing.T) {
	tests := []struct {
		name      string
		doc, got  string
		contains  bool
		wantMatch bool
	}{
		{name: "equal", doc: "a\nb\n", got: "a\nb\n", wantMatch: true},
		{name: "trailing spaces and lines", doc: "a\nb", got: "a  \nb\n\n", wantMatch: true},
		{name: "different", doc: "a\nb\n", got: "a\nc\n"},
		{name: "missing line", doc: "a\nb\n", got: "a\n"},
		{name: "extra line", doc: "a\n", got: "a\nb\n"},
		{name: "ellipsis at end", doc: "a\n...\n", got: "a\nb\nc\n", wantMatch: true},
		{name: "ellipsis matches nothing", doc: "a\n...\nb\n", got: "a\nb\n", wantMatch: true},
		{name: "ellipsis in the middle", doc: "a\n...\nd\n", got: "a\nb\nc\nd\n", wantMatch: true},
		{name: "ellipsis then wrong line", doc: "...\nd\n", got: "a\nb\n"},
		{name: "contains", doc: "b\nc\n", got: "a\nb\nc\nd\n", contains: true, wantMatch: true},
		{name: "contains, not contiguous", doc: "b\nd\n", got: "a\nb\nc\nd\n", contains: true},
		{name: "version", doc: "wasmgate v0.1.0 (abi 1, wazero v1.12.0, go1.26.0 linux/amd64)", got: "wasmgate 75719c4-dirty (abi 1, wazero v1.12.0, go1.26.8 darwin/arm64)", wantMatch: true},
		{name: "wazero version", doc: "wasmgate v0.1.0 (abi 1, wazero v1.12.0, go1.26.0 linux/amd64)", got: "wasmgate dev (abi 1, wazero v1.13.0, go1.26.0 linux/amd64)"},
		{name: "health", doc: `{"modules":3,"status":"ok","version":"v0.1.0"}`, got: `{"modules":3,"status":"ok","version":"dev"}`, wantMatch: true},
		{name: "health counts", doc: `{"modules":3,"status":"ok","version":"v0.1.0"}`, got: `{"modules":4,"status":"ok","version":"v0.1.0"}`},
		{name: "file size and hash", doc: "file      greet.wasm (3.20MiB, sha256 b5e12155…)", got: "file      greet.wasm (3.19MiB, sha256 0a1b2c3d…)", wantMatch: true},
		{name: "port", doc: "http://127.0.0.1:8787/mcp", got: "http://127.0.0.1:41234/mcp", wantMatch: true},
		{name: "event id", doc: "event: message\nid: A_0\ndata: {}", got: "event: message\nid: XYZ_3\ndata: {}", wantMatch: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matches(tt.doc, tt.got, tt.contains); got != tt.wantMatch {
				t.Errorf("matches(%q, %q, %v) = %v, want %v", tt.doc, tt.got, tt.contains, got, tt.wantMatch)
			}
		})
	}
}

// setup gives every script wasmgate on PATH, the repository's guests/ as
// ./guests (read-only by convention: scripts write only in $WORK), the
// user's compilation cache (it is content-addressed) and a state directory
// of its own.
func setup(env *testscript.Env) error {
	env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := os.Symlink(filepath.Join(root, "guests"), filepath.Join(env.WorkDir, "guests")); err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = filepath.Join(env.WorkDir, ".cache")
	}
	env.Setenv("XDG_CACHE_HOME", cache)
	env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state"))
	for _, kv := range goEnv {
		k, v, _ := strings.Cut(kv, "=")
		env.Setenv(k, v)
	}
	return nil
}

// checked records the blocks (by position) a script compared or ran.
var checked sync.Map

// commands are the scripts' own commands. FILE is a documentation file
// relative to the repository's root; a block is chosen by a text MATCH it
// must contain, and only one block of FILE may contain it.
var commands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// docblock FILE LANG MATCH OUT: write the block (```LANG, or - for a
	// block without a language) to OUT.
	"docblock": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 4 {
			ts.Fatalf("usage: docblock FILE LANG MATCH OUT")
		}
		lang := args[1]
		if lang == "-" {
			lang = ""
		}
		b := findBlock(ts, args[0], lang, args[2])
		ts.Check(os.WriteFile(ts.MkAbs(args[3]), []byte(b.text), 0o666))
	},
	// docsh FILE MATCH: run the ```sh block with sh -e; with $ADDR set,
	// the block's 127.0.0.1:8787 is replaced by it.
	"docsh": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: docsh FILE MATCH")
		}
		b := findBlock(ts, args[0], "sh", args[1])
		script := b.text
		if addr := ts.Getenv("ADDR"); addr != "" {
			script = strings.ReplaceAll(script, "127.0.0.1:8787", addr)
		}
		if err := ts.Exec("sh", "-ec", script); err != nil {
			ts.Fatalf("%s: %v", b.pos(), err)
		}
	},
	// cmpdoc [-contains] FILE MATCH stdout|stderr|PATH: compare the block
	// with the output or file; for a console block, with the output of its
	// one command. With -contains, the block's lines need only appear
	// together somewhere in it.
	"cmpdoc": func(ts *testscript.TestScript, neg bool, args []string) {
		contains := len(args) > 0 && args[0] == "-contains"
		if contains {
			args = args[1:]
		}
		if neg || len(args) != 3 {
			ts.Fatalf("usage: cmpdoc [-contains] FILE MATCH stdout|stderr|PATH")
		}
		b := findBlock(ts, args[0], "*", args[1])
		want := b.text
		if b.lang == "console" {
			ex := parseConsole(b)
			if len(ex) != 1 {
				ts.Fatalf("%s: cmpdoc compares a console block of one command; this one has %d: use consoleblocks", b.pos(), len(ex))
			}
			want = ex[0].want
		}
		got := ts.ReadFile(args[2])
		if !matches(want, got, contains) {
			ts.Fatalf("%s: %s is not what the documentation shows%s", b.pos(), args[2], mismatch(want, got))
		}
		checked.Store(b.pos(), true)
	},
	// consoleblocks FILE: run every "$ command" of FILE's console blocks
	// with sh in the current directory and compare its output, stdout and
	// stderr together, with the lines that follow it. Exit statuses are
	// not compared (console blocks do not show them).
	"consoleblocks": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: consoleblocks FILE")
		}
		blocks, err := readBlocks(args[0])
		ts.Check(err)
		n := 0
		for _, b := range blocks {
			if b.lang != "console" {
				continue
			}
			for _, ex := range parseConsole(b) {
				ts.Exec("sh", "-c", "exec 2>&1\n"+ex.cmd)
				if got := ts.ReadFile("stdout"); !matches(ex.want, got, false) {
					ts.Fatalf("%s:%d: $ %s\nprinted what the documentation does not show%s", b.file, ex.line, ex.cmd, mismatch(ex.want, got))
				}
				n++
			}
			checked.Store(b.pos(), true)
		}
		if n == 0 {
			ts.Fatalf("%s has no console blocks", args[0])
		}
	},
	// startserve LOG ARGS...: start `wasmgate serve ARGS...` with its
	// stderr in LOG, wait until it prints its address and set $ADDR to it.
	// An argument EXAMPLES stands for the example directories `make run`
	// serves. The server is interrupted when the script ends.
	"startserve": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: startserve LOG ARGS...")
		}
		var sargs []string
		for _, a := range args[1:] {
			if a == "EXAMPLES" {
				ex, err := examples()
				ts.Check(err)
				sargs = append(sargs, ex...)
				continue
			}
			sargs = append(sargs, a)
		}
		log, err := os.Create(ts.MkAbs(args[0]))
		ts.Check(err)
		cmd := exec.Command(filepath.Join(binDir, "wasmgate"), append([]string{"serve"}, sargs...)...)
		cmd.Dir = ts.MkAbs(".")
		for _, k := range []string{"PATH", "HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_STATE_HOME"} {
			cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
		}
		cmd.Stdout, cmd.Stderr = log, log
		ts.Check(cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); log.Close() }()
		ts.Defer(func() {
			cmd.Process.Signal(os.Interrupt)
			<-exited
		})
		addr := regexp.MustCompile(`streamable HTTP\s+http://(\S+)/mcp`)
		for deadline := time.Now().Add(5 * time.Minute); ; {
			if m := addr.FindStringSubmatch(ts.ReadFile(args[0])); m != nil {
				ts.Setenv("ADDR", m[1])
				return
			}
			select {
			case err := <-exited:
				exited <- err
				ts.Fatalf("wasmgate serve exited before serving (%v):\n%s", err, ts.ReadFile(args[0]))
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				ts.Fatalf("wasmgate serve printed no address:\n%s", ts.ReadFile(args[0]))
			}
		}
	},
	// waitfile FILE TEXT: wait until FILE contains TEXT.
	"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: waitfile FILE TEXT")
		}
		for deadline := time.Now().Add(5 * time.Minute); !strings.Contains(ts.ReadFile(args[0]), args[1]); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				ts.Fatalf("%s never contained %q:\n%s", args[0], args[1], ts.ReadFile(args[0]))
			}
		}
	},
	// httpget URL: GET URL, its body to stdout; a status other than 200
	// fails.
	"httpget": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: httpget URL")
		}
		c := &http.Client{Timeout: 5 * time.Minute}
		resp, err := c.Get(args[0])
		ts.Check(err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		ts.Check(err)
		if resp.StatusCode != http.StatusOK {
			ts.Fatalf("GET %s: %s\n%s", args[0], resp.Status, body)
		}
		ts.Stdout().Write(body)
	},
}

// examples lists the directories `make run` serves, as the Makefile's
// EXAMPLES does: every directory of guests/ (but hidden ones, as make's
// wildcard) except the build output, the test modules, the conformance
// suite's modules and the demo's grants.
func examples() ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "guests", "*"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range dirs {
		name := filepath.Base(d)
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() || strings.HasPrefix(name, ".") ||
			slices.Contains([]string{"build", "testdata", "conformance", "demo"}, name) {
			continue
		}
		out = append(out, "guests/"+name+"/")
	}
	return out, nil
}

// docFiles lists the documentation, relative to the repository's root.
func docFiles() ([]string, error) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	files := []string{"README.md", "guests/README.md", "abi/ABI.md", "RATIONALE.md", "BENCHMARKS.md"}
	for _, d := range docs {
		files = append(files, "docs/"+filepath.Base(d))
	}
	return files, nil
}

// A block is a fenced code block of a Markdown file.
type block struct {
	file string // relative to the repository's root
	line int    // of the opening fence
	lang string // the info string's first word
	text string
}

func (b block) pos() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// readBlocks returns the fenced code blocks of file.
func readBlocks(file string) ([]block, error) {
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	var (
		blocks []block
		cur    *block
		fence  string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
			info := strings.Fields(strings.TrimPrefix(trimmed, fence))
			cur = &block{file: file, line: n}
			if len(info) > 0 {
				cur.lang = info[0]
			}
		case cur != nil && trimmed == fence:
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return blocks, sc.Err()
}

// findBlock returns the one block of file in lang ("*": any) that contains
// match.
func findBlock(ts *testscript.TestScript, file, lang, match string) block {
	blocks, err := readBlocks(file)
	ts.Check(err)
	var found []block
	for _, b := range blocks {
		if (lang == "*" || b.lang == lang) && strings.Contains(b.text, match) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		ts.Fatalf("%s: %d blocks (```%s) contain %q, want 1", file, len(found), lang, match)
	}
	return found[0]
}

// An example is one "$ command" of a console block and the output shown
// after it.
type example struct {
	line int
	cmd  string
	want string
}

// parseConsole splits a console block into its commands; a command line
// ending in a backslash continues on the next line.
func parseConsole(b block) []example {
	var out []example
	lines := strings.Split(strings.TrimSuffix(b.text, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		cmd, ok := strings.CutPrefix(lines[i], "$ ")
		if !ok {
			if len(out) > 0 {
				out[len(out)-1].want += lines[i] + "\n"
			}
			continue
		}
		ex := example{line: b.line + 1 + i, cmd: cmd}
		for strings.HasSuffix(ex.cmd, `\`) && i+1 < len(lines) {
			i++
			ex.cmd += "\n" + lines[i]
		}
		out = append(out, ex)
	}
	return out
}

// normalizers replace what varies between builds and machines, in the
// documentation and in the output alike.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`wasmgate \S+ \(abi`), "wasmgate VERSION (abi"},
	{regexp.MustCompile(`go1\.\d+(\.\d+)?\S* [a-z0-9]+/[a-z0-9]+`), "GO_VERSION"},
	{regexp.MustCompile(`"version":"[^"]*"`), `"version":"VERSION"`},
	{regexp.MustCompile(`\(\d+(\.\d+)?[KMG]?i?B, sha256 [0-9a-f]+…?\)`), "(SIZE, sha256 HASH)"},
	{regexp.MustCompile(`needs \d+(\.\d+)?[KMG]?i?B at start`), "needs SIZE at start"},
	{regexp.MustCompile(`(127\.0\.0\.1|localhost):\d+`), "$1:PORT"},
	{regexp.MustCompile(`(?m)^id: \S+$`), "id: ID"},
}

// normalize returns s's lines after the normalizers, without trailing
// blanks or trailing empty lines.
func normalize(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// matches reports whether got is what doc shows: the same lines once
// normalized, a doc line "..." standing for any number of lines. With
// contains, doc's lines need only appear together in got.
func matches(doc, got string, contains bool) bool {
	want := normalize(doc)
	if contains {
		want = append(append([]string{"..."}, want...), "...")
	}
	return matchLines(want, normalize(got))
}

func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && matchLines(want[1:], got[1:])
}

// mismatch shows both sides of a failed comparison, normalized.
func mismatch(doc, got string) string {
	return fmt.Sprintf("\n--- documentation (normalized)\n%s\n--- output (normalized)\n%s",
		strings.Join(normalize(doc), "\n"), strings.Join(normalize(got), "\n"))
}
