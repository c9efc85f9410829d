package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/wasmgate/wasmgate/abi"
)

// Exit codes.
const (
	exitOK        = 0
	exitToolError = 1 // the tool ran and failed
	exitUsage     = 2 // bad usage, or a module that does not load
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = ""

type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what a command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e *env) errorf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "wasmgate: "+format+"\n", a...)
}

func commands() []command {
	return []command{
		{"call", "[flags] FILE.wasm TOOL [ARGS_JSON|-]\n       wasmgate call [flags] --resource URI FILE.wasm\n       wasmgate call [flags] --prompt NAME FILE.wasm [ARGS_JSON]", "run one tool once and print its result, or read one of the module's resources, or get one of its prompts", runCall},
		{"inspect", "[--json] [flags] FILE.wasm\n       wasmgate inspect [--json] [flags] DIR|FILE.wasm...", "show a module's manifest, tools, permissions, limits, imports and exports, or list the modules of directories (walked as serve walks them) one per line", runInspect},
		{"pack", "--manifest M.json -o OUT.wasm IN.wasm", "embed (or replace) a manifest in a module", runPack},
		{"new", "--lang go|rust|c|assemblyscript [--sdk DIR] NAME", "create a tool project folder NAME (source, manifest, Makefile) using the language's SDK", runNew},
		{"serve", "[flags] PATH...", "serve the tools of modules (.wasm files, or directories of them) over MCP", runServe},
		{"version", "", "print the version", runVersion},
	}
}

// run is the whole command line program; main only calls it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// A client that closes wasmgate's stdout or stderr (at its shutdown,
	// say) must not kill it: unless SIGPIPE is notified, a write to a
	// closed pipe on fd 1 or 2 ends a Go program (see os/signal). With it,
	// such a write just fails with EPIPE.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(rest) > 0 {
			for _, c := range commands() {
				if c.name == rest[0] {
					return c.run(context.Background(), e, []string{"-h"})
				}
			}
		}
		usage(e.stdout)
		return exitOK
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return c.run(ctx, e, rest)
		}
	}
	e.errorf("unknown command %q; run 'wasmgate help' for the list", name)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "wasmgate runs WebAssembly tools in a sandbox and serves them over MCP.\n\nUsage:\n  wasmgate COMMAND [ARGS]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'wasmgate COMMAND -h' for a command's flags.\n")
}

// examples are shown at the end of a command's -h.
func examples(name string) string {
	switch name {
	case "call":
		return `  wasmgate call greet.wasm greet '{"who":"world"}'
  echo '{"text":"hi"}' | wasmgate call hash.wasm sha256 -
  wasmgate call --allow-net api.github.com fetch.wasm fetch '{"url":"https://api.github.com/"}'
  wasmgate call --resource test://static-text resources.wasm
`
	case "inspect":
		return `  wasmgate inspect --policy policy.yaml fetch.wasm
  wasmgate inspect --json tools/
`
	case "serve":
		return `  # For Claude Code, which starts it and speaks MCP over stdio:
  claude mcp add wasmgate -- /path/to/bin/wasmgate serve /path/to/tools

  # Over HTTP on the loopback interface, with the grants of a policy file
  # and an audit log:
  wasmgate serve --http 127.0.0.1:8787 --policy policy.yaml --audit audit.jsonl tools/

  # Every module of a directory, walked for .wasm files (directories named
  # testdata and dot-directories skipped), and one more file:
  wasmgate serve guests/ extra/tool.wasm
`
	}
	return ""
}

// newFlagSet returns a FlagSet whose usage text shows the command's
// synopsis, its flags (long ones written --name, as the documentation
// writes them; Go's flag package accepts both forms) and examples.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	for _, c := range commands() {
		if c.name == name {
			fs.Usage = func() {
				out := fs.Output()
				fmt.Fprintf(out, "Usage: wasmgate %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
				n := 0
				fs.VisitAll(func(*flag.Flag) { n++ })
				if n > 0 {
					var b strings.Builder
					fs.SetOutput(&b)
					fs.PrintDefaults()
					fs.SetOutput(out)
					fmt.Fprintf(out, "\nFlags:\n%s", longFlags(b.String()))
				}
				if ex := examples(c.name); ex != "" {
					fmt.Fprintf(out, "\nExamples:\n%s", ex)
				}
			}
		}
	}
	return fs
}

// longFlags rewrites the flag lines of flag.PrintDefaults ("  -name ...")
// as "  --name ..." for every name longer than one letter.
func longFlags(defaults string) string {
	lines := strings.Split(defaults, "\n")
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, "  -")
		if !ok || strings.HasPrefix(rest, "-") {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		name, _, _ = strings.Cut(name, "\t")
		if len(name) > 1 {
			lines[i] = "  --" + rest
		}
	}
	return strings.Join(lines, "\n")
}

// parseInterspersed parses flags anywhere among the positional arguments.
// It returns flag.ErrHelp for -h.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagExit maps a flag parse error to an exit code.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// plural writes a count with the noun that agrees with it: "1 tool",
// "2 tools"; many is the plural when it is not one+"s".
func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func versionString() string {
	v := version
	wazero, wasmtime := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			switch {
			case d.Path == "github.com/tetratelabs/wazero":
				wazero = d.Version
			case strings.HasPrefix(d.Path, "github.com/bytecodealliance/wasmtime-go/"):
				wasmtime = ", wasmtime-go " + d.Version // built with the wasmtime tag
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	return fmt.Sprintf("wasmgate %s (abi %d, wazero %s%s, %s %s/%s)", v, abi.Version, wazero, wasmtime, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
}

func runVersion(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "version")
	if _, err := parseInterspersed(fs, args); err != nil {
		return flagExit(err)
	}
	fmt.Fprintln(e.stdout, versionString())
	return exitOK
}
