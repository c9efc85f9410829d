package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

const (
	hostileDir = "../guests/testdata/hostile"
	echoWasm   = "../guests/wat/echo/echo.wasm"
	goWasm     = "../guests/go/textstats/textstats.wasm"
	cWasm      = "../guests/c/hash/hash.wasm"
)

// testHostFuncs are host functions only the tests define.
func testHostFuncs() []HostFunc {
	return []HostFunc{
		{Name: "test_panic", Fn: func(context.Context, *HostCall, []uint64) { panic("boom in host") }},
		{Name: "test_upper", Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32},
			Fn: func(ctx context.Context, h *HostCall, stack []uint64) {
				in := h.Read("test_upper", engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1]))
				if h.Client() != nil { // the ask tests: the client answers
					answers, err := h.Ask(ctx, map[string]Question{"q": {Method: "test", Params: json.RawMessage(strconv.Quote(string(in)))}})
					if err != nil {
						stack[0] = engine.EncodeI32(h.Fail(abi.ErrFailed, err.Error()))
						return
					}
					var s string
					_ = json.Unmarshal(answers["q"], &s)
					in = []byte(s)
				}
				stack[0] = engine.EncodeI32(h.Respond([]byte(strings.ToUpper(string(in)) + "!")))
			}},
	}
}

func newTestRuntime(t testing.TB, cfg *Config) *Runtime {
	t.Helper()
	if cfg == nil {
		cfg = NewConfig()
	}
	cfg = cfg.WithCacheDir("").WithHostFunctions(testHostFuncs()...)
	r, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func load(t testing.TB, r *Runtime, path string) *Module {
	t.Helper()
	m, err := r.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// text joins the text items of a tool result ("" for none).
func text(res *abi.ToolResult) string {
	var b strings.Builder
	if res != nil {
		for _, c := range res.Content {
			if c.Type == abi.ContentText {
				b.WriteString(c.Text)
			}
		}
	}
	return b.String()
}

// callOK calls the echo tool and fails the test unless it succeeds: the
// runtime must serve normally after whatever happened before.
func callOK(t *testing.T, echo *Module) {
	t.Helper()
	out, err := echo.Call(context.Background(), Call{Tool: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err != nil || text(out.Result) != "ok" {
		t.Fatalf("good call after a failure: err=%v result=%q", out.Err, text(out.Result))
	}
}

func TestFailureClasses(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		echo := load(t, r, echoWasm)
		tests := []struct {
			module   string
			path     string
			limits   Limits
			kind     ErrorKind
			contains string
		}{
			{module: "loop", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout, contains: "time limit of 300ms"},
			{module: "sleep", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout, contains: "time limit"},
			{module: "startloop", path: "testdata/startloop.wasm", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "stderrflood", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "memgrow", limits: Limits{Memory: 8 << 20}, kind: KindMemory, contains: "limit of 8MiB"},
			{module: "hugemem", kind: KindMemory, contains: "needs 3.66GiB"},
			{module: "flood", limits: Limits{Output: 64 << 10}, kind: KindOutput, contains: "output limit of 64KiB"},
			{module: "recurse", kind: KindTrap, contains: "stack overflow"},
			{module: "trap", kind: KindTrap, contains: "unreachable"},
			{module: "badoutput", kind: KindInvalidOutput, contains: "content must be an array"},
			{module: "exit3", kind: KindExit, contains: "code 3: tool failed: disk on fire"},
			{module: "misuse", kind: KindHostMisuse, contains: "outside guest memory"},
			{module: "hostpanic", path: "testdata/hostpanic.wasm", kind: KindInternal, contains: "boom in host"},
			// Work the loop count does not see: bulk instructions and host
			// calls that take long. Each guest never finishes, so the time
			// limit is the only outcome, however fast the machine.
			{module: "bulkfill", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "bulkcopy", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "tablefill", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "randflood", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			{module: "stderrvec", limits: Limits{Timeout: 300 * time.Millisecond}, kind: KindTimeout},
			// Tables count against the memory limit.
			{module: "tablegrow", limits: Limits{Memory: 16 << 20}, kind: KindMemory, contains: "limit of 16MiB"},
			{module: "tablehuge", limits: Limits{Memory: 16 << 20}, kind: KindMemory, contains: "limit of 16MiB"},
			{module: "tablemin", limits: Limits{Memory: 16 << 20}, kind: KindMemory, contains: "needs 1.00GiB of memory and tables before it runs"},
		}
		for _, tc := range tests {
			t.Run(tc.module, func(t *testing.T) {
				path := tc.path
				if path == "" {
					path = filepath.Join(hostileDir, tc.module+".wasm")
				}
				m := load(t, r, path)
				out, err := m.Call(context.Background(), Call{Tool: tc.module, Limits: tc.limits})
				if err != nil {
					t.Fatal(err)
				}
				if out.Err == nil {
					t.Fatalf("call succeeded with %q, want %s", text(out.Result), tc.kind)
				}
				if out.Err.Kind != tc.kind {
					t.Errorf("kind = %s (%v), want %s", out.Err.Kind, out.Err, tc.kind)
				}
				if !strings.Contains(out.Err.Error(), tc.contains) {
					t.Errorf("error %q does not say %q", out.Err, tc.contains)
				}
				if out.Result != nil || !strings.Contains(out.Err.Detail(), out.Err.Message) {
					t.Errorf("a failure has a result %+v, or its detail %q lacks its message", out.Result, out.Err.Detail())
				}
				if (out.Reply != nil) != (tc.kind == KindInvalidOutput) {
					t.Errorf("reply %q: a guest that did not finish has none, one that did has one", out.Reply)
				}
				callOK(t, echo)
			})
		}
	})
}

func TestTrapCarriesWasmStack(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		out, err := load(t, r, filepath.Join(hostileDir, "trap.wasm")).Call(context.Background(), Call{Tool: "trap"})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err == nil || !strings.Contains(out.Err.Stack, "trap.boom") {
			t.Fatalf("stack = %q, want a frame naming trap.boom", out.Err.Stack)
		}
		if !strings.Contains(out.Err.Detail(), "\nwasm stack trace:\n\t") {
			t.Errorf("the failure's detail lacks the stack: %q", out.Err.Detail())
		}
	})
}

func TestStderrIsBoundedTail(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, filepath.Join(hostileDir, "stderrflood.wasm"))
		out, _ := m.Call(context.Background(), Call{Tool: "stderrflood", Limits: Limits{Timeout: 200 * time.Millisecond, Stderr: 1024}})
		if len(out.Stderr) != 1024 || out.StderrDropped == 0 {
			t.Errorf("stderr kept %d bytes, dropped %d; want exactly 1024 kept and the rest dropped", len(out.Stderr), out.StderrDropped)
		}
	})
}

func TestExitCarriesStderrTail(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		out, _ := load(t, r, filepath.Join(hostileDir, "exit3.wasm")).Call(context.Background(), Call{Tool: "exit3"})
		if out.Err == nil || out.Err.ExitCode != 3 || string(out.Stderr) != "tool failed: disk on fire\n" {
			t.Fatalf("err=%v stderr=%q", out.Err, out.Stderr)
		}
	})
}

func TestCancellationStopsGuest(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		echo := load(t, r, echoWasm)
		for _, mod := range []string{"loop", "sleep"} {
			t.Run(mod, func(t *testing.T) {
				m := load(t, r, filepath.Join(hostileDir, mod+".wasm"))
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				out, err := m.Call(ctx, Call{Tool: mod, Limits: Limits{Timeout: time.Minute}})
				if err != nil {
					t.Fatal(err)
				}
				if out.Err == nil || out.Err.Kind != KindCancelled {
					t.Fatalf("err = %v, want %s", out.Err, KindCancelled)
				}
				callOK(t, echo)
			})
		}
	})
}

func TestCallerDeadlineIsTimeout(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, filepath.Join(hostileDir, "loop.wasm"))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		out, _ := m.Call(ctx, Call{Tool: "loop"})
		if out.Err == nil || out.Err.Kind != KindTimeout {
			t.Fatalf("err = %v, want %s", out.Err, KindTimeout)
		}
	})
}

func TestGoAndCTools(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		goMod, cMod := load(t, r, goWasm), load(t, r, cWasm)
		out, err := goMod.Call(context.Background(), Call{Tool: "word_count", Arguments: json.RawMessage(`{"text":"one two\nthree"}`)})
		if err != nil || out.Err != nil {
			t.Fatalf("word_count: %v %v", err, out.Err)
		}
		got, _ := json.Marshal(out.Result.StructuredContent)
		if string(got) != `{"bytes":13,"characters":13,"lines":2,"words":3}` {
			t.Errorf("word_count structuredContent = %s", got)
		}
		out, err = cMod.Call(context.Background(), Call{Tool: "sha256", Arguments: json.RawMessage(`{"text":"abc"}`)})
		if err != nil || out.Err != nil {
			t.Fatalf("sha256: %v %v", err, out.Err)
		}
		if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; text(out.Result) != want {
			t.Errorf("sha256 = %q, want %q", text(out.Result), want)
		}
		// A tool's own error is reported as such, not as a runtime failure.
		out, _ = cMod.Call(context.Background(), Call{Tool: "base64_decode", Arguments: json.RawMessage(`{"text":"!!!"}`)})
		if out.Err == nil || out.Err.Kind != KindToolError || !out.Result.IsError {
			t.Errorf("invalid base64: err=%v result=%+v", out.Err, out.Result)
		}
	})
}

func TestTextOutputBecomesTextContent(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		out, _ := load(t, r, filepath.Join(hostileDir, "textout.wasm")).Call(context.Background(), Call{Tool: "textout"})
		if out.Err != nil || text(out.Result) != "hello from wat\n" {
			t.Fatalf("err=%v text=%q", out.Err, text(out.Result))
		}
	})
}

func TestStartSectionRunsOnceBeforeStart(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		m := load(t, r, "testdata/startsection.wasm")
		for i := 0; i < 2; i++ { // a fresh instance each time: still "@" ('?'+1)
			out, _ := m.Call(context.Background(), Call{Tool: "startsection"})
			if out.Err != nil || text(out.Result) != "@" {
				t.Fatalf("call %d: err=%v text=%q, want \"@\"", i, out.Err, text(out.Result))
			}
		}
	})
}

func TestResponseConvention(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		out, _ := load(t, r, "testdata/respond.wasm").Call(context.Background(), Call{Tool: "respond"})
		if out.Err != nil || text(out.Result) != "PING!" {
			t.Fatalf("err=%v text=%q, want PING!", out.Err, text(out.Result))
		}
	})
}

type recorder struct {
	mu       sync.Mutex
	logs     []string
	progress []string
}

func (r *recorder) Log(level abi.LogLevel, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, level.String()+":"+msg)
}

func (r *recorder) Progress(p, total float64, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, fmt.Sprintf("%g/%g %s", p, total, msg))
}

func TestEventsAreDeliveredAndBounded(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		rec := &recorder{}
		out, _ := load(t, r, "testdata/events.wasm").Call(context.Background(), Call{Tool: "events", Events: rec})
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		want := []string{"1/3 step", "2/3 step", "3/3 "}
		if fmt.Sprint(rec.progress) != fmt.Sprint(want) {
			t.Errorf("progress = %q, want %q", rec.progress, want)
		}
		if len(rec.logs) != maxEvents-3 || out.EventsDropped != 1500-(maxEvents-3) {
			t.Errorf("delivered %d logs, dropped %d; want %d delivered and the rest dropped", len(rec.logs), out.EventsDropped, maxEvents-3)
		}
		if rec.logs[0] != "debug:hello" || rec.logs[7] != "emergency:hello" {
			t.Errorf("levels: %q", rec.logs[:8])
		}
	})
}

func TestLimitsResolution(t *testing.T) {
	r := newTestRuntime(t, NewConfig().WithLimits(Limits{Timeout: 7 * time.Second}))
	m := load(t, r, echoWasm)
	got := m.Limits(Limits{Memory: 32 << 20})
	want := Limits{Memory: 32 << 20, Timeout: 7 * time.Second, Output: DefaultOutput, Stderr: DefaultStderr, ClientWait: DefaultClientWait}
	if got != want {
		t.Errorf("Limits = %+v, want %+v", got, want)
	}
	// The manifest can narrow, never widen.
	base := Limits{Memory: 64 << 20, Timeout: time.Second, Output: 1 << 20}
	narrowed := base.Narrow(abi.Limits{Memory: 16 << 20, Timeout: abi.Duration(time.Hour), Output: 2 << 20})
	if narrowed != (Limits{Memory: 16 << 20, Timeout: time.Second, Output: 1 << 20}) {
		t.Errorf("Narrow = %+v", narrowed)
	}
}

func TestLoadErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg)
		dir := t.TempDir()
		write := func(name string, b []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		echo, err := os.ReadFile(echoWasm)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, file string
			contains   []string
		}{
			{"missing file", filepath.Join(dir, "nope.wasm"), []string{"nope.wasm", "no such file"}},
			{"not wasm", write("text.wasm", []byte("hello")), []string{"text.wasm", "not a WebAssembly module"}},
			{"truncated", write("trunc.wasm", echo[:len(echo)/2]), []string{"trunc.wasm", "truncated"}},
			{"bad manifest", write("bad.wasm", mustEmbed(t, echo, `{"abi":1,"name":"x","tools":[{"name":"t","inputSchema":{"type":"string"}}]}`)), []string{"bad.wasm", `tools[0].inputSchema: "type" must be "object"`}},
			{"unknown import", filepath.Join(hostileDir, "unknownimport.wasm"), []string{"unknownimport.wasm", "wasmgate.no_such_function", "does not provide"}},
			{"internal import", "testdata/yieldimport.wasm", []string{"yieldimport.wasm", `unknown module "wasmgate.runtime"`}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.Load(context.Background(), tc.file)
				if err == nil {
					t.Fatal("Load succeeded")
				}
				for _, s := range tc.contains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
			})
		}
	})
}

func mustEmbed(t *testing.T, wasm []byte, manifest string) []byte {
	t.Helper()
	b, err := abi.EmbedManifest(wasm, []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSidecarManifest(t *testing.T) {
	r := newTestRuntime(t, nil)
	m := load(t, r, "testdata/respond.wasm")
	if !strings.HasSuffix(m.ManifestSource(), "respond.manifest.json") {
		t.Errorf("ManifestSource = %q", m.ManifestSource())
	}
	dir := t.TempDir()
	wasm, _ := os.ReadFile("testdata/respond.wasm")
	os.WriteFile(filepath.Join(dir, "lonely.wasm"), wasm, 0o644)
	_, err := r.Load(context.Background(), filepath.Join(dir, "lonely.wasm"))
	if err == nil || !strings.Contains(err.Error(), "lonely.manifest.json") || !strings.Contains(err.Error(), "wasmgate pack") {
		t.Errorf("missing manifest error = %v", err)
	}
}

func TestCallerErrors(t *testing.T) {
	r := newTestRuntime(t, nil)
	m := load(t, r, echoWasm)
	if _, err := m.Call(context.Background(), Call{Tool: "nope"}); !errors.Is(err, ErrUnknownTool) {
		t.Errorf("unknown tool: err = %v", err)
	}
	if _, err := m.Call(context.Background(), Call{Tool: "echo", Arguments: json.RawMessage(`[1]`)}); err == nil {
		t.Error("array arguments accepted")
	}
}

// TestConcurrentCalls is a hammer test: many goroutines calling the same
// modules, mixing good and hostile calls, each must get its own answer.
func TestConcurrentCalls(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		r := newTestRuntime(t, cfg.WithMaxConcurrency(8))
		cMod := load(t, r, cWasm)
		trap := load(t, r, filepath.Join(hostileDir, "trap.wasm"))
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if i%10 == 0 {
					out, _ := trap.Call(context.Background(), Call{Tool: "trap"})
					if out.Err == nil || out.Err.Kind != KindTrap {
						errs <- fmt.Errorf("trap call %d: %v", i, out.Err)
					}
					return
				}
				arg := fmt.Sprintf(`{"text":"call %d"}`, i)
				out, err := cMod.Call(context.Background(), Call{Tool: "base64_encode", Arguments: json.RawMessage(arg)})
				if err != nil || out.Err != nil {
					errs <- fmt.Errorf("call %d: %v %v", i, err, out.Err)
					return
				}
				want := b64(fmt.Sprintf("call %d", i))
				if text(out.Result) != want {
					errs <- fmt.Errorf("call %d got %q, want %q", i, text(out.Result), want)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestInterruptContextMode(t *testing.T) {
	r := newTestRuntime(t, interruptModes()["context"])
	m := load(t, r, filepath.Join(hostileDir, "loop.wasm"))
	out, _ := m.Call(context.Background(), Call{Tool: "loop", Limits: Limits{Timeout: 200 * time.Millisecond}})
	if out.Err == nil || out.Err.Kind != KindTimeout {
		t.Fatalf("err = %v, want timeout", out.Err)
	}
	callOK(t, load(t, r, echoWasm))
}

func TestCompilationCacheDir(t *testing.T) {
	eachEngine(t, func(t *testing.T, cfg *Config) {
		dir := t.TempDir()
		for i := 0; i < 2; i++ {
			r, err := New(context.Background(), cfg.WithCacheDir(dir))
			if err != nil {
				t.Fatal(err)
			}
			load(t, r, cWasm)
			r.Close(context.Background())
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			t.Error("nothing was written to the compilation cache directory")
		}
	})
}

// TestBulkInstructionsKeepTheirMeaning runs bulk memory and table
// instructions, which the instrumenter charges through a scratch local, in
// functions with parameters and locals of their own, and table.grow, which
// it routes through the host.
func TestBulkInstructionsKeepTheirMeaning(t *testing.T) {
	for mode, cfg := range interruptModes() {
		r := newTestRuntime(t, cfg)
		out, _ := load(t, r, "testdata/bulk.wasm").Call(context.Background(), Call{Tool: "bulk"})
		if out.Err != nil || text(out.Result) != "aaaaa0123456789aaa7" {
			t.Errorf("mode %s: err=%v text=%q, want aaaaa0123456789aaa7", mode, out.Err, text(out.Result))
		}
	}
}

// TestInstrumentationKeepsFunctionReferences runs a module that reaches its
// functions through every kind of reference the instrumenter renumbers,
// under both interrupt modes.
func TestInstrumentationKeepsFunctionReferences(t *testing.T) {
	for mode, cfg := range interruptModes() {
		r := newTestRuntime(t, cfg)
		out, _ := load(t, r, "testdata/indirect.wasm").Call(context.Background(), Call{Tool: "indirect"})
		if out.Err != nil || text(out.Result) != "ABCD" {
			t.Errorf("mode %s: err=%v text=%q, want ABCD", mode, out.Err, text(out.Result))
		}
	}
}
