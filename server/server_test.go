package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	_ "github.com/wasmgate/wasmgate/capability/builtin" // what grants mean for annotations
	"github.com/wasmgate/wasmgate/host/client"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// Modules shared by every test, loaded once: compiling the Go guest is the
// slow part of a test run.
var (
	testRuntime *runtime.Runtime
	testModules = map[string]*runtime.Module{}
)

var modulePaths = map[string]string{
	"textstats":  "../guests/go/textstats/textstats.wasm",
	"hash":       "../guests/c/hash/hash.wasm",
	"echo":       "../guests/wat/echo/echo.wasm",
	"loop":       "../guests/testdata/hostile/loop.wasm",
	"sleep":      "../guests/testdata/hostile/sleep.wasm",
	"memgrow":    "../guests/testdata/hostile/memgrow.wasm",
	"flood":      "../guests/testdata/hostile/flood.wasm",
	"trap":       "../guests/testdata/hostile/trap.wasm",
	"exit3":      "../guests/testdata/hostile/exit3.wasm",
	"badoutput":  "../guests/testdata/hostile/badoutput.wasm",
	"notify":     "../guests/testdata/serve/notify.wasm",
	"reflect":    "../guests/testdata/serve/reflect.wasm",
	"structured": "../guests/testdata/serve/structured.wasm",
	// The conformance suite's modules: every content type, resources,
	// templates, prompts, completions and questions for the client.
	"conftools":     "../guests/conformance/tools/tools.wasm",
	"confresources": "../guests/conformance/resources/resources.wasm",
}

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		os.Exit(runBenchServer())
	}
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithHostFunctions(client.HostFuncs()...))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testRuntime = rt
	for name, path := range modulePaths {
		mod, err := rt.Load(ctx, path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		testModules[name] = mod
	}
	code := m.Run()
	rt.Close(ctx)
	os.Exit(code)
}

func modules(t testing.TB, names ...string) []*runtime.Module {
	t.Helper()
	mods := make([]*runtime.Module, len(names))
	for i, n := range names {
		mods[i] = testModules[n]
		if mods[i] == nil {
			t.Fatalf("no test module %q", n)
		}
	}
	return mods
}

// hostileLimits keep hostile guests short.
var hostileLimits = runtime.Limits{Timeout: 750 * time.Millisecond, Memory: 32 << 20, Output: 1 << 20}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// find returns the text of the first record whose message is msg and whose
// attributes include every key=value in want.
func (l *logRecorder) find(msg string, want ...string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		s := b.String()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, " "+w)
		}
		if ok {
			return s, true
		}
	}
	return "", false
}

// waitFor polls for a record, as calls finish on the server after the
// client has stopped waiting.
func (l *logRecorder) waitFor(t *testing.T, d time.Duration, msg string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if s, ok := l.find(msg, want...); ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log record %q with %v within %s", msg, want, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// connect serves mods on a new server and returns a client session over
// in-memory transports.
func connect(t *testing.T, opts *server.Options, copts *mcp.ClientOptions, mods ...string) (*mcp.ClientSession, *server.Registry) {
	t.Helper()
	s, reg, err := server.New(nil, modules(t, mods...), opts)
	if err != nil {
		t.Fatal(err)
	}
	return connectTo(t, s, copts, nil), reg
}

func connectTo(t *testing.T, s *mcp.Server, copts *mcp.ClientOptions, sopts *mcp.ClientSessionOptions) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0"}, copts).Connect(ctx, ct, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

func call(t testing.TB, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	// No deadline of the test's own: the server's limits bound every call,
	// and a busy machine only makes them slower.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// structured decodes a result's structuredContent into v.
func structured(t testing.TB, res *mcp.CallToolResult, v any) {
	t.Helper()
	if err := decode(res, v); err != nil {
		t.Fatal(err)
	}
}

// decode is structured for goroutines other than the test's.
func decode(res *mcp.CallToolResult, v any) error {
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("structuredContent %s: %v", b, err)
	}
	return nil
}

func wantOK(t testing.TB, res *mcp.CallToolResult) {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", text(res))
	}
}

func wantError(t testing.TB, res *mcp.CallToolResult, substrings ...string) {
	t.Helper()
	if !res.IsError {
		t.Fatalf("want a tool error, got success: %s", text(res))
	}
	for _, s := range substrings {
		if !strings.Contains(text(res), s) {
			t.Errorf("error %q does not contain %q", text(res), s)
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestListTools(t *testing.T) {
	cs, reg := connect(t, nil, nil, "textstats", "hash", "echo")
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*mcp.Tool{}
	for _, tool := range res.Tools {
		got[tool.Name] = tool
	}
	var names []string
	for _, tool := range reg.Tools() {
		names = append(names, tool.Name)
	}
	if d := diff([]string{"word_count", "regex_search", "sha256", "base64_encode", "base64_decode", "echo"}, names); d != "" {
		t.Errorf("Registry.Tools %s", d)
	}
	if len(got) != 6 {
		t.Fatalf("listed %d tools, want 6: %v", len(got), names)
	}

	wc := got["word_count"]
	if wc.Title != "Word Count" || !strings.HasPrefix(wc.Description, "Count the words") {
		t.Errorf("word_count title %q description %q", wc.Title, wc.Description)
	}
	if wc.Annotations == nil || !wc.Annotations.ReadOnlyHint || !wc.Annotations.IdempotentHint || wc.Annotations.OpenWorldHint == nil || *wc.Annotations.OpenWorldHint {
		t.Errorf("word_count annotations: %+v", wc.Annotations)
	}
	in, _ := json.Marshal(wc.InputSchema)
	out, _ := json.Marshal(wc.OutputSchema)
	if !strings.Contains(string(in), `"required":["text"]`) || !strings.Contains(string(out), `"words"`) {
		t.Errorf("word_count schemas: input %s output %s", in, out)
	}
	if wc.Meta["wasmgate/module"] != "textstats" {
		t.Errorf("word_count _meta: %v", wc.Meta)
	}
	if got["echo"].OutputSchema != nil {
		t.Errorf("echo has an outputSchema: %v", got["echo"].OutputSchema)
	}
}

func TestCallTools(t *testing.T) {
	cs, _ := connect(t, nil, nil, "textstats", "hash", "echo")

	t.Run("word_count", func(t *testing.T) {
		res := call(t, cs, "word_count", map[string]any{"text": "one two  three\nfour"})
		wantOK(t, res)
		var got struct{ Words, Lines, Characters, Bytes int }
		structured(t, res, &got)
		if got.Words != 4 || got.Lines != 2 || got.Characters != 19 || got.Bytes != 19 {
			t.Errorf("word_count = %+v", got)
		}
		if text(res) == "" {
			t.Error("no text content")
		}
	})
	t.Run("regex_search", func(t *testing.T) {
		res := call(t, cs, "regex_search", map[string]any{"pattern": `b(\w)`, "text": "abc\nxbd"})
		wantOK(t, res)
		var got struct {
			Matches []struct {
				Line, Column int
				Match        string
				Groups       []string
			}
			Count     int
			Truncated bool
		}
		structured(t, res, &got)
		if got.Count != 2 || got.Matches[1].Line != 2 || got.Matches[1].Column != 2 || got.Matches[1].Groups[0] != "d" {
			t.Errorf("regex_search = %+v", got)
		}
	})
	t.Run("sha256", func(t *testing.T) {
		res := call(t, cs, "sha256", map[string]any{"text": "hello"})
		wantOK(t, res)
		var got struct{ SHA256 string }
		structured(t, res, &got)
		if got.SHA256 != sha256Hex("hello") {
			t.Errorf("sha256 = %q", got.SHA256)
		}
	})
	t.Run("base64", func(t *testing.T) {
		res := call(t, cs, "base64_encode", map[string]any{"text": "wasm ✓"})
		wantOK(t, res)
		var enc struct{ Base64 string }
		structured(t, res, &enc)
		if enc.Base64 != "d2FzbSDinJM=" {
			t.Errorf("base64_encode = %q", enc.Base64)
		}
		res = call(t, cs, "base64_decode", map[string]any{"text": enc.Base64})
		wantOK(t, res)
		var dec struct{ Text string }
		structured(t, res, &dec)
		if dec.Text != "wasm ✓" {
			t.Errorf("base64_decode = %q", dec.Text)
		}
		wantError(t, call(t, cs, "base64_decode", map[string]any{"text": "!!"}))
	})
	t.Run("echo", func(t *testing.T) {
		res := call(t, cs, "echo", map[string]any{"message": "hi"})
		wantOK(t, res)
		if text(res) != "ok" {
			t.Errorf("echo = %q", text(res))
		}
	})
}

func TestArgumentErrors(t *testing.T) {
	rec := &logRecorder{}
	cs, _ := connect(t, &server.Options{Logger: slog.New(rec)}, nil, "textstats", "reflect")
	tests := []struct {
		name string
		tool string
		args any
		want string
	}{
		{"missing", "word_count", map[string]any{}, `invalid arguments: "text": missing (required)`},
		{"two missing", "regex_search", map[string]any{}, `invalid arguments: "pattern": missing (required); "text": missing (required)`},
		{"wrong type", "word_count", map[string]any{"text": 5}, `invalid arguments: "text": type: 5 has type "integer", want "string"`},
		{"unknown", "word_count", map[string]any{"text": "a", "txet": "b"}, `invalid arguments: "txet": unknown property (the tool takes text)`},
		{"misspelt", "word_count", map[string]any{"txet": "b"}, `invalid arguments: "txet": unknown property (the tool takes text); "text": missing (required)`},
		{"below minimum", "regex_search", map[string]any{"pattern": "a", "text": "a", "limit": 0}, `invalid arguments: "limit": 0 is less than the minimum 1`},
		{"nested enum", "reflect", map[string]any{"opts": map[string]any{"mode": "warp"}}, `invalid arguments: "opts.mode": enum:`},
		{"not an object", "word_count", []any{1}, `invalid arguments: must be a JSON object, got an array`},
		{"long value clipped", "word_count", map[string]any{"text": strings.Repeat("x", 10000), "txet": map[string]any{}}, `"txet": unknown property`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, cs, tt.tool, tt.args)
			wantError(t, res, tt.want)
			if len(text(res)) > 1000 {
				t.Errorf("error is %d bytes long", len(text(res)))
			}
		})
	}
	if s, ok := rec.find("call"); ok {
		t.Errorf("a guest ran for invalid arguments: %s", s)
	}
}

func TestDefaultsAndMeta(t *testing.T) {
	cs, _ := connect(t, nil, nil, "reflect")
	envelope := func(res *mcp.CallToolResult) (env struct {
		Params struct {
			Name      string
			Arguments json.RawMessage
			Meta      map[string]any `json:"_meta"`
		}
	}) {
		t.Helper()
		wantOK(t, res)
		if err := json.Unmarshal([]byte(text(res)), &env); err != nil {
			t.Fatalf("envelope %q: %v", text(res), err)
		}
		return env
	}

	env := envelope(call(t, cs, "reflect", map[string]any{"text": "a"}))
	if got, want := string(env.Params.Arguments), `{"count":7,"opts":{"mode":"fast"},"text":"a"}`; got != want {
		t.Errorf("arguments after defaults = %s, want %s", got, want)
	}

	// Values the client sent are passed exactly, numbers too.
	params := &mcp.CallToolParams{Name: "reflect", Arguments: json.RawMessage(`{"big":12345678901234567890,"count":1,"opts":{"mode":"slow"}}`)}
	params.SetProgressToken("tok-1")
	params.Meta["trace"] = "abc"
	res, err := cs.CallTool(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	env = envelope(res)
	if got, want := string(env.Params.Arguments), `{"big":12345678901234567890,"count":1,"opts":{"mode":"slow"}}`; got != want {
		t.Errorf("arguments = %s, want %s", got, want)
	}
	if env.Params.Meta["progressToken"] != "tok-1" || env.Params.Meta["trace"] != "abc" {
		t.Errorf("_meta passed to the guest = %v", env.Params.Meta)
	}
	if env.Params.Name != "reflect" {
		t.Errorf("tool name passed to the guest = %q", env.Params.Name)
	}
}

func TestOutputSchema(t *testing.T) {
	cs, _ := connect(t, nil, nil, "structured", "echo")

	res := call(t, cs, "good", nil)
	wantOK(t, res)
	if got := text(res); got != `{"n":1,"s":"x"}` {
		t.Errorf("text added for structuredContent = %q", got)
	}
	wantError(t, call(t, cs, "bad", nil), `tool structured/bad returned structuredContent that does not match its outputSchema: "n": type: one has type "string", want "integer"`)
	wantError(t, call(t, cs, "missing", nil), "tool structured/missing declares an outputSchema but returned no structuredContent")
	// A tool without an outputSchema is passed through.
	res = call(t, cs, "echo", nil)
	wantOK(t, res)
	if res.StructuredContent != nil || text(res) != "ok" {
		t.Errorf("echo = %+v", res)
	}
}

// Every hostile guest fails with a tool error that says why, and a good call
// right after it succeeds.
func TestHostileGuests(t *testing.T) {
	rec := &logRecorder{}
	opts := &server.Options{Limits: hostileLimits, Logger: slog.New(rec)}
	cs, _ := connect(t, opts, nil, "loop", "memgrow", "flood", "trap", "exit3", "badoutput", "sleep", "hash")
	// On a slow machine (or under the race detector) the time limit may
	// stop memgrow and flood before their own limit: either is clean.
	const timeLimit = "did not finish within its time limit of 750ms"
	tests := []struct {
		tool, want, or string
	}{
		{"loop", timeLimit, ""},
		{"sleep", timeLimit, ""},
		{"memgrow", "ran out of memory", timeLimit},
		{"flood", "more than its output limit of 1MiB", timeLimit},
		{"trap", "the tool crashed: unreachable", ""},
		{"exit3", "exited with code 3: tool failed: disk on fire", ""},
		{"badoutput", "not a valid CallToolResult", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			res := call(t, cs, tt.tool, nil)
			if tt.or != "" && res.IsError && strings.Contains(text(res), tt.or) {
				tt.want = tt.or
			}
			wantError(t, res, tt.want)
			res = call(t, cs, "sha256", map[string]any{"text": tt.tool})
			wantOK(t, res)
			var got struct{ SHA256 string }
			structured(t, res, &got)
			if got.SHA256 != sha256Hex(tt.tool) {
				t.Errorf("sha256 after %s = %q", tt.tool, got.SHA256)
			}
		})
	}
	rec.waitFor(t, time.Minute, "call failed", "tool=loop", "kind=timeout")
	rec.waitFor(t, time.Minute, "guest stderr", "tool=exit3", "stderr=tool failed: disk on fire")
}

// A call the client cancels returns at once, its guest stops, its slot is
// freed and nothing is left running.
func TestCancel(t *testing.T) {
	for _, tool := range []string{"loop", "sleep"} {
		t.Run(tool, func(t *testing.T) {
			rec := &logRecorder{}
			opts := &server.Options{Limits: runtime.Limits{Timeout: time.Minute}, Logger: slog.New(rec)}
			cs, _ := connect(t, opts, nil, tool, "hash")
			wantOK(t, call(t, cs, "sha256", map[string]any{"text": "warm up"}))
			before := goruntime.NumGoroutine()

			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool})
			if err == nil {
				t.Fatal("cancelled call returned no error")
			}
			rec.waitFor(t, time.Minute, "call failed", "tool="+tool, "kind=cancelled")
			wantOK(t, call(t, cs, "sha256", map[string]any{"text": "after"}))
			waitGoroutines(t, before)
		})
	}
}

// A client that goes away (here: EOF on the server's input, as when a stdio
// client exits) cancels its calls.
func TestDisconnectCancels(t *testing.T) {
	rec := &logRecorder{}
	s, _, err := server.New(nil, modules(t, "sleep"), &server.Options{Limits: runtime.Limits{Timeout: time.Minute}, Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	toServer, fromClient := io.Pipe()
	toClient, fromServer := io.Pipe()
	ss, err := s.Connect(context.Background(), &mcp.IOTransport{Reader: toServer, Writer: fromServer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c"}, nil).Connect(context.Background(), &mcp.IOTransport{Reader: toClient, Writer: fromClient}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "sleep"})
	}()
	time.Sleep(200 * time.Millisecond)
	fromClient.Close() // EOF for the server
	rec.waitFor(t, time.Minute, "call failed", "tool=sleep", "kind=cancelled")
	ss.Wait()
	toClient.Close()
	<-done
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		n := goruntime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:goruntime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// notes collects the notifications a client receives.
type notes struct {
	mu       sync.Mutex
	logs     []*mcp.LoggingMessageParams
	progress []*mcp.ProgressNotificationParams
}

func (n *notes) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.logs = append(n.logs, r.Params)
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.progress = append(n.progress, r.Params)
		},
	}
}

// take waits until at least nLogs logs and nProgress progress reports came
// (the client handles notifications on another goroutine than results, so
// they may be seen after the result they preceded), then returns them all.
func (n *notes) take(nLogs, nProgress int) (logs []string, progress []string) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		n.mu.Lock()
		enough := len(n.logs) >= nLogs && len(n.progress) >= nProgress
		n.mu.Unlock()
		if enough {
			break
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.logs {
		logs = append(logs, fmt.Sprintf("%s %s %v", l.Logger, l.Level, l.Data))
	}
	for _, p := range n.progress {
		progress = append(progress, fmt.Sprintf("%v %g/%g %s", p.ProgressToken, p.Progress, p.Total, p.Message))
	}
	n.logs, n.progress = nil, nil
	return logs, progress
}

// Log and progress reports reach the client, under the protocol revision
// the SDK negotiates by default (2026-07-28: the log level travels in each
// request's _meta) and under the last one with sessions (2025-11-25: the
// client sets it with logging/setLevel).
func TestNotifications(t *testing.T) {
	for _, version := range []string{"", "2025-11-25"} {
		t.Run("version="+version, func(t *testing.T) {
			var n notes
			s, _, err := server.New(nil, modules(t, "notify"), nil)
			if err != nil {
				t.Fatal(err)
			}
			cs := connectTo(t, s, n.options(), &mcp.ClientSessionOptions{ProtocolVersion: version})
			ctx := context.Background()
			t.Logf("protocol %s", cs.InitializeResult().ProtocolVersion)
			setLevel := func(level mcp.LoggingLevel, params *mcp.CallToolParams) {
				if version == "" {
					if params.Meta == nil {
						params.Meta = mcp.Meta{}
					}
					params.Meta[mcp.MetaKeyLogLevel] = level
				} else if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: level}); err != nil {
					t.Fatal(err)
				}
			}

			params := &mcp.CallToolParams{Name: "notify"}
			params.SetProgressToken("p1")
			setLevel("debug", params)
			res, err := cs.CallTool(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			wantOK(t, res)
			logs, progress := n.take(3, 3)
			if d := diff([]string{"notify debug notify: debug", "notify info notify: info", "notify warning notify: warning"}, logs); d != "" {
				t.Errorf("logs %s", d)
			}
			if d := diff([]string{"p1 1/3 step 1", "p1 2/3 step 2", "p1 3/3 step 3"}, progress); d != "" {
				t.Errorf("progress %s", d)
			}

			// No progress token: no progress; the client's level filters logs.
			params = &mcp.CallToolParams{Name: "notify"}
			setLevel("warning", params)
			res, err = cs.CallTool(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			wantOK(t, res)
			logs, progress = n.take(1, 0)
			if d := diff([]string{"notify warning notify: warning"}, logs); d != "" {
				t.Errorf("logs at level warning %s", d)
			}
			if len(progress) != 0 {
				t.Errorf("progress without a token: %v", progress)
			}
		})
	}
}

// 200 calls at once on one session, with different arguments, each get
// their own answer.
func TestConcurrentCalls(t *testing.T) {
	cs, _ := connect(t, nil, nil, "textstats", "hash")
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			input := fmt.Sprintf("call %d %s", i, strings.Repeat("w ", i%17))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if i%2 == 0 {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": input}})
				if err != nil || res.IsError {
					errs <- fmt.Errorf("call %d: %v %v", i, err, res)
					return
				}
				var got struct{ SHA256 string }
				if err := decode(res, &got); err != nil || got.SHA256 != sha256Hex(input) {
					errs <- fmt.Errorf("call %d: sha256 %q, want %q (%v)", i, got.SHA256, sha256Hex(input), err)
				}
				return
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "word_count", Arguments: map[string]any{"text": input}})
			if err != nil || res.IsError {
				errs <- fmt.Errorf("call %d: %v %v", i, err, res)
				return
			}
			var got struct{ Words int }
			if err := decode(res, &got); err != nil || got.Words != len(strings.Fields(input)) {
				errs <- fmt.Errorf("call %d: %d words, want %d (%v)", i, got.Words, len(strings.Fields(input)), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A panic in the handler (here in the logger it writes guest stderr to)
// becomes a tool error, not a crash.
func TestPanicBecomesToolError(t *testing.T) {
	cs, _ := connect(t, &server.Options{Logger: slog.New(panicHandler{})}, nil, "exit3", "hash")
	wantError(t, call(t, cs, "exit3", nil), "internal error in wasmgate", "please report this bug")
	wantOK(t, call(t, cs, "sha256", map[string]any{"text": "still alive"}))
}

type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (panicHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "guest stderr" || r.Message == "panic in tool call" {
		panic("logger exploded")
	}
	return nil
}
func (p panicHandler) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p panicHandler) WithGroup(string) slog.Handler      { return p }

// diff reports the difference between two string lists, or "".
func diff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	return fmt.Sprintf("want %q\n got %q", want, got)
}

// Configure sets each tool's limits (and grant) once; OnCall sees every call
// that ran a guest.
func TestConfigureAndOnCall(t *testing.T) {
	var mu sync.Mutex
	var configured, seen []string
	opts := &server.Options{
		Limits: runtime.Limits{Timeout: time.Minute},
		Configure: func(tool server.Tool) server.ToolConfig {
			mu.Lock()
			defer mu.Unlock()
			configured = append(configured, tool.Name)
			if tool.Name == "loop" {
				return server.ToolConfig{Limits: runtime.Limits{Timeout: 300 * time.Millisecond}}
			}
			return server.ToolConfig{}
		},
		OnCall: func(_ context.Context, session string, tool server.Tool, out *runtime.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			kind := "ok"
			if out.Err != nil {
				kind = string(out.Err.Kind)
			}
			seen = append(seen, fmt.Sprintf("%s %s %s", tool.Name, kind, out.Limits.Timeout))
		},
	}
	cs, _ := connect(t, opts, nil, "loop", "hash")
	wantError(t, call(t, cs, "loop", nil), "time limit of 300ms")
	wantOK(t, call(t, cs, "sha256", map[string]any{"text": "x"}))
	wantError(t, call(t, cs, "sha256", map[string]any{}), "invalid arguments")
	mu.Lock()
	defer mu.Unlock()
	if d := diff([]string{"loop", "sha256", "base64_encode", "base64_decode"}, configured); d != "" {
		t.Errorf("configured %s", d)
	}
	if d := diff([]string{"loop timeout 300ms", "sha256 ok 1m0s"}, seen); d != "" {
		t.Errorf("OnCall saw %s", d)
	}
}

// Every protocol revision the SDK negotiates lists and calls tools.
func TestProtocolVersions(t *testing.T) {
	s, _, err := server.New(nil, modules(t, "hash", "structured"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range mcp.SupportedProtocolVersions() {
		t.Run(version, func(t *testing.T) {
			cs := connectTo(t, s, nil, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Errorf("negotiated %s", got)
			}
			res, err := cs.ListTools(context.Background(), nil)
			if err != nil || len(res.Tools) != 6 {
				t.Fatalf("ListTools: %v %v", res, err)
			}
			var got struct{ SHA256 string }
			r := call(t, cs, "sha256", map[string]any{"text": version})
			wantOK(t, r)
			structured(t, r, &got)
			if got.SHA256 != sha256Hex(version) {
				t.Errorf("sha256 = %q", got.SHA256)
			}
			wantOK(t, call(t, cs, "good", nil))
			wantError(t, call(t, cs, "sha256", nil), `"text": missing (required)`)
		})
	}
}

// Hints follow grants: a client never sees a safety claim the sandbox does
// not back, and a manifest that claims otherwise is overridden with a warning.
func TestAnnotationsFollowGrants(t *testing.T) {
	rec := &logRecorder{}
	opts := &server.Options{
		Logger: slog.New(rec),
		Configure: func(tool server.Tool) server.ToolConfig {
			if tool.Name == "sha256" { // manifest: readOnly true, openWorld false
				return server.ToolConfig{Grant: runtime.NewGrant(&kv.Grant{Quota: 1 << 20})}
			}
			if tool.Name == "base64_encode" {
				return server.ToolConfig{Grant: runtime.NewGrant(&hosthttp.Grant{Allow: []string{"a.com"}})}
			}
			return server.ToolConfig{}
		},
	}
	cs, _ := connect(t, opts, nil, "hash", "echo")
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hints := map[string]*mcp.ToolAnnotations{}
	for _, tool := range res.Tools {
		hints[tool.Name] = tool.Annotations
	}
	if h := hints["sha256"]; h.ReadOnlyHint || h.OpenWorldHint == nil || *h.OpenWorldHint {
		t.Errorf("sha256 with a kv grant: %+v, want readOnly false (it can write) and openWorld false", h)
	}
	if _, ok := rec.find("tool sha256 (module hash): the manifest claims readOnlyHint true, but it is granted key-value storage: serving false"); !ok {
		t.Error("the overridden readOnlyHint claim was not logged")
	}
	if h := hints["base64_encode"]; !h.ReadOnlyHint || h.OpenWorldHint == nil || *h.OpenWorldHint {
		t.Errorf("base64_encode with a network grant keeps its manifest's openWorld false and is read-only: %+v", h)
	}
	if h := hints["echo"]; h == nil || !h.ReadOnlyHint || h.OpenWorldHint == nil || *h.OpenWorldHint {
		t.Errorf("echo with no grant: %+v, want readOnly true and openWorld false", h)
	}
}
