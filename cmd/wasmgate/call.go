package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wasmgate/wasmgate"
	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// limitFlags registers the per-call limit flags shared by call and serve.
type limitFlags struct {
	timeout        time.Duration
	memory, output sizeFlag
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&l.timeout, "timeout", 0, fmt.Sprintf("wall-clock `duration` a call may run (default %s)", runtime.DefaultTimeout))
	fs.Var(&l.memory, "memory", fmt.Sprintf("memory `size` a call may use, e.g. 64MiB (default %s)", runtime.DefaultMemory))
	fs.Var(&l.output, "output", fmt.Sprintf("`size` of the result a call may write (default %s)", runtime.DefaultOutput))
}

func (l *limitFlags) limits() runtime.Limits {
	return runtime.Limits{Timeout: l.timeout, Memory: abi.Size(l.memory), Output: abi.Size(l.output)}
}

type sizeFlag abi.Size

func (s *sizeFlag) String() string {
	if *s == 0 {
		return ""
	}
	return abi.Size(*s).String()
}

func (s *sizeFlag) Set(v string) error {
	n, err := abi.ParseSize(v)
	if err != nil {
		return err
	}
	if n > runtime.MaxMemory {
		return fmt.Errorf("%s is over the maximum of %s", n, runtime.MaxMemory)
	}
	*s = sizeFlag(n)
	return nil
}

// openAudit opens the audit log, or returns nil (which records nothing).
func openAudit(path string) (*audit.Log, error) {
	if path == "" {
		return nil, nil
	}
	return audit.Open(path)
}

// newRuntime creates the runtime a command uses, on ef's engine and those
// pol names for its modules; -v logs to stderr.
func newRuntime(ctx context.Context, e *env, verbose bool, caps *hostCaps, ef *engineFlag, pol *policy.Policy) (*runtime.Runtime, error) {
	cfg, err := ef.configure(runtime.NewConfig())
	if err != nil {
		return nil, err
	}
	for module, eng := range pol.Engines() {
		cfg = cfg.WithModuleEngine(module, eng)
	}
	if cfg, err = caps.configure(cfg); err != nil {
		return nil, err
	}
	if verbose {
		cfg = cfg.WithLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	return runtime.New(ctx, cfg)
}

// stderrEvents prints guest log and progress reports to stderr.
type stderrEvents struct{ w io.Writer }

func (s stderrEvents) Log(level abi.LogLevel, msg string) {
	fmt.Fprintf(s.w, "[%s] %s\n", level, msg)
}

func (s stderrEvents) Progress(progress, total float64, msg string) {
	if total > 0 {
		fmt.Fprintf(s.w, "[progress] %g/%g %s\n", progress, total, msg)
	} else {
		fmt.Fprintf(s.w, "[progress] %g %s\n", progress, msg)
	}
}

func runCall(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "call")
	var lf limitFlags
	lf.register(fs)
	var gf grantFlags
	gf.register(fs)
	var ef engineFlag
	ef.register(fs)
	auditFile := fs.String("audit", "", "append a JSON line describing the call to `FILE`")
	verbose := fs.Bool("v", false, "print the guest's log, progress and stderr to stderr")
	resource := fs.String("resource", "", "read the resource at `URI` (one of the module's resources or a URI its templates match) instead of calling a tool")
	prompt := fs.String("prompt", "", "get the prompt `NAME` instead of calling a tool; ARGS_JSON is an object of strings")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	switch {
	case *resource != "" && *prompt != "":
		e.errorf("call: --resource and --prompt cannot be used together")
		return exitUsage
	case *resource != "" && len(pos) != 1:
		e.errorf("call --resource URI needs exactly one module file; see 'wasmgate call -h'")
		return exitUsage
	case *prompt != "" && (len(pos) < 1 || len(pos) > 2):
		e.errorf("call --prompt NAME needs a module file and optionally JSON arguments; see 'wasmgate call -h'")
		return exitUsage
	case *resource == "" && *prompt == "" && (len(pos) < 2 || len(pos) > 3):
		e.errorf("call needs a module file, a tool name and optionally JSON arguments; see 'wasmgate call -h'")
		return exitUsage
	}
	file, tool := pos[0], ""
	argPos := 1
	if *resource == "" && *prompt == "" {
		tool, argPos = pos[1], 2
	}
	var argJSON []byte
	if len(pos) > argPos {
		if pos[argPos] == "-" {
			if argJSON, err = io.ReadAll(io.LimitReader(e.stdin, 64<<20)); err != nil {
				e.errorf("call: read arguments from stdin: %v", err)
				return exitUsage
			}
		} else {
			argJSON = []byte(pos[argPos])
		}
	}

	pol, popts, err := gf.load()
	if err != nil {
		e.errorf("call: %v%s", err, engineHint(err))
		return exitUsage
	}
	cfg, err := ef.configure(runtime.NewConfig())
	if err != nil {
		e.errorf("call: %v%s", err, engineHint(err))
		return exitUsage
	}
	auditLog, err := openAudit(*auditFile)
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	defer auditLog.Close()

	var loadErr error
	opts := wasmgate.Options{
		Sources:          []wasmgate.Source{wasmgate.File(file)},
		Policy:           pol,
		PolicyOptions:    popts,
		PolicyNamesLater: true, // a policy may cover many modules; call loads one
		StateDir:         gf.stateDir,
		Config:           cfg,
		Limits:           lf.limits(), // the command line's limits win over the policy's
		OnLoadError:      func(err error) { loadErr = errors.Join(loadErr, err) },
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if auditLog != nil {
		opts.Audit = auditLog
	}
	g, err := wasmgate.Open(ctx, opts)
	if err != nil {
		e.errorf("call: %v%s%s", err, stateDirHint(err), engineHint(err))
		return exitUsage
	}
	defer g.Close()
	if loadErr == nil && len(g.Modules()) == 0 {
		loadErr = fmt.Errorf("%s: not served", file) // refused by the server; it says why with -v
	}
	if loadErr == nil {
		loadErr = g.Modules()[0].Ready(ctx)
	}
	if loadErr != nil {
		e.errorf("%v", loadErr)
		printFieldErrors(e, loadErr)
		return exitUsage
	}
	mod := g.Modules()[0]
	mg := g.Grants(mod)
	if *resource != "" || *prompt != "" {
		c := runtime.Call{Limits: g.Limits(mod), Grant: mg.Module}
		if *verbose {
			c.Events = stderrEvents{e.stderr}
		}
		return serveOnce(ctx, e, mod, c, *resource, *prompt, argJSON, auditLog, *verbose)
	}
	c := wasmgate.ToolCall{Module: mod.Name(), Tool: tool, Arguments: argJSON, Session: "cli"}
	if *verbose {
		c.Events = stderrEvents{e.stderr}
	}
	out, err := g.Call(ctx, c)
	if err != nil {
		if errors.Is(err, runtime.ErrUnknownTool) {
			names := make([]string, len(mod.Manifest().Tools))
			for i, t := range mod.Manifest().Tools {
				names[i] = t.Name
			}
			e.errorf("%v; it has: %s", err, strings.Join(names, ", "))
		} else {
			e.errorf("%v", err)
		}
		return exitUsage
	}
	if *verbose {
		printStderr(e, out)
	}
	// The result as a client would receive it (before the output schema).
	if err := writeJSON(e.stdout, server.CallToolResult(out)); err != nil {
		e.errorf("call: write result: %v", err)
		return exitToolError
	}
	if out.Err != nil {
		msg := out.Err.Error()
		if out.Err.Kind == runtime.KindToolError {
			msg = fmt.Sprintf("tool %s/%s reported an error", mod.Name(), tool)
		}
		e.errorf("%s%s [%s]", msg, limitHint(out.Err.Kind), out.Err.Kind)
		return exitToolError
	}
	return exitOK
}

// limitHint names the flag that raises the limit a call ran into.
func limitHint(k runtime.ErrorKind) string {
	switch k {
	case runtime.KindTimeout:
		return " (--timeout or the policy)"
	case runtime.KindMemory:
		return " (--memory or the policy)"
	case runtime.KindOutput:
		return " (--output or the policy)"
	}
	return ""
}

// printStderr shows the guest's stderr, for -v.
func printStderr(e *env, out *runtime.Outcome) {
	if len(out.Stderr) == 0 {
		return
	}
	if out.StderrDropped > 0 {
		fmt.Fprintf(e.stderr, "[stderr: %d earlier bytes dropped]\n", out.StderrDropped)
	}
	fmt.Fprintf(e.stderr, "%s", out.Stderr)
	if !strings.HasSuffix(string(out.Stderr), "\n") {
		fmt.Fprintln(e.stderr)
	}
}

// serveOnce reads a resource or gets a prompt of mod, as a client's
// resources/read or prompts/get would, and prints the result.
func serveOnce(ctx context.Context, e *env, mod *runtime.Module, c runtime.Call, uri, prompt string, argJSON []byte, auditLog *audit.Log, verbose bool) int {
	var out *runtime.Outcome
	var err error
	method, name := abi.MethodResourcesRead, uri
	if uri != "" {
		match, ok := mod.MatchResource(uri)
		if !ok {
			var have []string
			for _, r := range mod.Manifest().Resources {
				have = append(have, r.URI)
			}
			for _, t := range mod.Manifest().ResourceTemplates {
				have = append(have, t.URITemplate)
			}
			e.errorf("module %s serves no resource %s; it has: %s", mod.Name(), uri, orNone(have))
			return exitUsage
		}
		out, err = mod.ReadResource(ctx, uri, match, c)
	} else {
		method, name = abi.MethodPromptsGet, prompt
		args := map[string]string{}
		if len(argJSON) > 0 {
			if err := json.Unmarshal(argJSON, &args); err != nil {
				e.errorf("call: prompt arguments must be a JSON object of strings, e.g. '{\"who\":\"Ada\"}': %v", err)
				return exitUsage
			}
		}
		out, err = mod.GetPrompt(ctx, prompt, args, c)
		if errors.Is(err, runtime.ErrUnknownPrompt) {
			var have []string
			for _, p := range mod.Manifest().Prompts {
				have = append(have, p.Name)
			}
			e.errorf("%v; it has: %s", err, orNone(have))
			return exitUsage
		}
	}
	if err != nil {
		e.errorf("%v", err)
		return exitUsage
	}
	auditLog.Record(audit.EntryForRequest("cli", mod, method, name, out))
	if verbose {
		printStderr(e, out)
	}
	if out.Err != nil {
		e.errorf("%s%s [%s]", out.Err.Error(), limitHint(out.Err.Kind), out.Err.Kind)
		return exitToolError
	}
	// The result as a client sees it, without the SDK's caching fields.
	var res any
	if out.Resource != nil {
		res = map[string]any{"contents": server.ReadResourceResult(out.Resource).Contents}
	} else {
		res = server.GetPromptResult(out.Prompt)
	}
	if err := writeJSON(e.stdout, res); err != nil {
		e.errorf("call: write result: %v", err)
		return exitToolError
	}
	return exitOK
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
