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

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/runtime"
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

// newRuntime creates the runtime a command uses; -v logs to stderr.
func newRuntime(ctx context.Context, e *env, verbose bool, caps *hostCaps) (*runtime.Runtime, error) {
	cfg := caps.configure(runtime.NewConfig())
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
	auditFile := fs.String("audit", "", "append a JSON line describing the call to `FILE`")
	verbose := fs.Bool("v", false, "print the guest's log, progress and stderr to stderr")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) < 2 || len(pos) > 3 {
		e.errorf("call needs a module file, a tool name and optionally JSON arguments; see 'wasmgate call -h'")
		return exitUsage
	}
	file, tool := pos[0], pos[1]
	var argJSON []byte
	if len(pos) == 3 {
		if pos[2] == "-" {
			if argJSON, err = io.ReadAll(io.LimitReader(e.stdin, 64<<20)); err != nil {
				e.errorf("call: read arguments from stdin: %v", err)
				return exitUsage
			}
		} else {
			argJSON = []byte(pos[2])
		}
		var obj map[string]any
		if err := json.Unmarshal(argJSON, &obj); err != nil {
			e.errorf("call: arguments must be a JSON object, e.g. '{\"text\":\"hello\"}': %v", err)
			return exitUsage
		}
	}

	pol, popts, err := gf.load()
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	auditLog, err := openAudit(*auditFile)
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	defer auditLog.Close()

	caps, err := gf.openCaps(pol)
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	defer caps.Close()
	rt, err := newRuntime(ctx, e, *verbose, caps)
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	defer rt.Close(context.Background())
	mod, err := rt.Load(ctx, file)
	if err != nil {
		e.errorf("%v", err)
		printFieldErrors(e, err)
		return exitUsage
	}
	mg, err := grantsOf(pol, popts, mod)
	if err != nil {
		e.errorf("call: %v", err)
		return exitUsage
	}
	c := runtime.Call{Tool: tool, Arguments: argJSON, Limits: lf.limits().Or(mg.Limits), Grant: mg.Tools[tool]}
	if *verbose {
		c.Events = stderrEvents{e.stderr}
	}
	out, err := mod.Call(ctx, c)
	if err == nil {
		auditLog.Record(audit.EntryFor("cli", mod, tool, out))
	}
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
	if *verbose && len(out.Stderr) > 0 {
		if out.StderrDropped > 0 {
			fmt.Fprintf(e.stderr, "[stderr: %d earlier bytes dropped]\n", out.StderrDropped)
		}
		fmt.Fprintf(e.stderr, "%s", out.Stderr)
		if !strings.HasSuffix(string(out.Stderr), "\n") {
			fmt.Fprintln(e.stderr)
		}
	}
	if err := writeJSON(e.stdout, out.Result); err != nil {
		e.errorf("call: write result: %v", err)
		return exitToolError
	}
	if out.Err != nil {
		msg := out.Err.Error()
		if out.Err.Kind == runtime.KindToolError {
			msg = fmt.Sprintf("tool %s/%s reported an error", mod.Name(), tool)
		}
		e.errorf("%s [%s]", msg, out.Err.Kind)
		return exitToolError
	}
	return exitOK
}
