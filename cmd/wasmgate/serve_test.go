package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	serveGuests  = "../../guests"
	serveHostile = serveGuests + "/testdata/hostile"
	serveTestMod = serveGuests + "/testdata/serve"
)

// The wasmgate binary, built once for the tests that run it as a
// subprocess, and a compilation cache they share (so the Go guest compiles
// once, not once per subprocess).
var (
	binOnce  sync.Once
	binPath  string
	binErr   error
	binDir   string
	cacheDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// wasmgateBinary builds bin/wasmgate into a temporary directory, once.
func wasmgateBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wasmgate-test-")
		if binErr != nil {
			return
		}
		cacheDir = filepath.Join(binDir, "cache")
		binPath = filepath.Join(binDir, "wasmgate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// serveCmd returns a command running wasmgate serve with args.
func serveCmd(t testing.TB, stderr io.Writer, args ...string) *exec.Cmd {
	cmd := exec.Command(wasmgateBinary(t), append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheDir)
	cmd.Stderr = stderr
	return cmd
}

// syncBuffer is a bytes.Buffer safe to write from a subprocess's copier
// while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stdioClient starts wasmgate serve args as a subprocess and connects a
// go-sdk client to it over stdio.
func stdioClient(t *testing.T, copts *mcp.ClientOptions, args ...string) (*mcp.ClientSession, *syncBuffer) {
	t.Helper()
	stderr := &syncBuffer{}
	transport := &mcp.CommandTransport{Command: serveCmd(t, stderr, args...), TerminateDuration: 2 * time.Second}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "serve-test"}, copts).Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v\nstderr:\n%s", err, stderr)
	}
	t.Cleanup(func() {
		if err := cs.Close(); err != nil {
			t.Errorf("close: %v\nstderr:\n%s", err, stderr)
		}
	})
	return cs, stderr
}

func callTool(t testing.TB, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	// No deadline of the test's own: the server's limits bound every call,
	// and a busy machine only makes them slower.
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// field returns one field of a result's structuredContent.
func field(t testing.TB, res *mcp.CallToolResult, name string) any {
	t.Helper()
	if res.IsError {
		t.Fatalf("tool error: %s", resultText(res))
	}
	m, ok := res.StructuredContent.(map[string]any)
	if !ok {
		t.Fatalf("structuredContent %#v is not an object", res.StructuredContent)
	}
	return m[name]
}

func isToolError(t testing.TB, res *mcp.CallToolResult, want string) {
	t.Helper()
	if !res.IsError || !strings.Contains(resultText(res), want) {
		t.Errorf("want a tool error containing %q, got isError=%t %q", want, res.IsError, resultText(res))
	}
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func toolNames(t testing.TB, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func TestServeHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "-h"}, strings.NewReader(""), &out, &errb); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	help := errb.String()
	for _, flag := range []string{"--http ADDR", "--stateless", "--auth-token-file FILE", "--read-timeout duration", "--idle-timeout duration", "--session-timeout duration", "--max-sessions int", "--max-header-size size", "--allow-origin ORIGIN", "--timeout duration", "--memory size", "--output size", "-v", "--policy FILE", "--audit FILE", "--allow-net", "--mount", "--env", "--state-dir DIR"} {
		if !strings.Contains(help, "  "+flag) {
			t.Errorf("help does not list %s:\n%s", flag, help)
		}
	}
	// Each flag's entry (its line and the indented usage after it) says
	// its default.
	_, flags, _ := strings.Cut(help, "Flags:\n")
	flags, _, _ = strings.Cut(flags, "\nExamples:\n")
	for _, entry := range regexp.MustCompile(`(?m)^  -`).Split(flags, -1)[1:] {
		if !strings.Contains(entry, "default") {
			t.Errorf("flag -%s does not say its default", strings.TrimSpace(entry))
		}
	}
}

func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty-token")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	broken := filepath.Join(dir, "broken.wasm")
	os.WriteFile(broken, []byte("not wasm"), 0o644)
	policyFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(policyFile, []byte("modules:\n  nosuch:\n    env: {A: b}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"serve"}, "serve needs at least one .wasm file or directory"},
		{"stateless without http", []string{"serve", "--stateless", serveGuests}, "--stateless, --poll-after, --auth-token-file and the HTTP limits need --http ADDR"},
		{"http limit without http", []string{"serve", "--max-sessions", "5", serveGuests}, "the HTTP limits need --http ADDR"},
		{"negative read timeout", []string{"serve", "--http", "127.0.0.1:0", "--read-timeout", "-1s", serveGuests}, "--read-timeout must be positive"},
		{"session timeout within poll-after", []string{"serve", "--http", "127.0.0.1:0", "--poll-after", "1m", "--session-timeout", "30s", serveGuests}, "--session-timeout (30s) must be longer than --poll-after (1m0s)"},
		{"bad origin", []string{"serve", "--http", "127.0.0.1:0", "--allow-origin", "app.example.com", serveGuests + "/c/hash"}, `allowed origin "app.example.com" is not an origin`},
		{"concurrency below one", []string{"serve", "--concurrency", "-1", serveGuests}, "--concurrency must be at least 1, got -1"},
		{"poll-after stateless", []string{"serve", "--http", "127.0.0.1:0", "--stateless", "--poll-after", "1s", serveGuests}, "--poll-after needs a positive duration and sessions"},
		{"empty token", []string{"serve", "--http", "127.0.0.1:0", "--auth-token-file", empty, serveGuests}, "is empty"},
		{"missing token file", []string{"serve", "--http", "127.0.0.1:0", "--auth-token-file", filepath.Join(dir, "nope"), serveGuests}, "no such file"},
		{"nothing loads", []string{"serve", broken, filepath.Join(dir, "missing")}, "no module loaded; nothing to serve"},
		{"empty directory", []string{"serve", t.TempDir()}, "no .wasm files"},
		{"policy for a module not loaded", []string{"serve", "--policy", policyFile, serveGuests + "/c"}, `no module named "nosuch" is loaded`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			var out, errb bytes.Buffer
			code := run(tt.args, strings.NewReader(""), &out, &errb)
			if code != exitUsage || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("stdout: %q", out.String())
			}
		})
	}
}

func TestModulePaths(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.wasm", "a.wasm", "notes.txt", "sub/c.wasm", "testdata/x.wasm", ".cache/y.wasm", "sub/testdata/z.wasm"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	rel := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			r, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(r))
		}
		return out
	}
	paths, problems := modulePaths([]string{dir, filepath.Join(dir, "a.wasm"), filepath.Join(dir, "testdata")})
	want := []string{"a.wasm", "b.wasm", "sub/c.wasm", "testdata/x.wasm"}
	if got := rel(paths); !slices.Equal(got, want) || len(problems) != 0 {
		t.Errorf("modulePaths = %q, %v; want %q", got, problems, want)
	}
}

// Over stdio against the built binary: the example tools of guests/ (and
// not the test modules under testdata), each answering, and a schema error.
func TestServeStdio(t *testing.T) {
	cs, stderr := stdioClient(t, nil, serveGuests)
	// The example tools of every language are served; the test modules under
	// guests/testdata are not, so no name collides and none is prefixed.
	got := toolNames(t, cs)
	for _, want := range []string{"base64_decode", "base64_encode", "echo", "regex_search", "sha256", "word_count", "fetch", "markdown_to_html"} {
		if !slices.Contains(got, want) {
			t.Errorf("tool %q is not served; tools = %q\nstderr:\n%s", want, got, stderr)
		}
	}
	for _, unwanted := range []string{"loop", "trap", "probe", "kv", "secret", "fetch_fetch"} {
		if slices.Contains(got, unwanted) {
			t.Errorf("test module tool %q is served; tools = %q", unwanted, got)
		}
	}
	if strings.Contains(stderr.String(), "is declared by modules") {
		t.Errorf("tool names collided:\n%s", stderr)
	}
	if got := field(t, callTool(t, cs, "word_count", map[string]any{"text": "one two three"}), "words"); got != 3.0 {
		t.Errorf("word_count words = %v", got)
	}
	if got := field(t, callTool(t, cs, "regex_search", map[string]any{"pattern": "o+", "text": "foo boo"}), "count"); got != 2.0 {
		t.Errorf("regex_search count = %v", got)
	}
	if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": "abc"}), "sha256"); got != hexSHA256("abc") {
		t.Errorf("sha256 = %v", got)
	}
	if got := field(t, callTool(t, cs, "base64_encode", map[string]any{"text": "hi"}), "base64"); got != "aGk=" {
		t.Errorf("base64_encode = %v", got)
	}
	if got := field(t, callTool(t, cs, "base64_decode", map[string]any{"text": "aGk="}), "text"); got != "hi" {
		t.Errorf("base64_decode = %v", got)
	}
	if res := callTool(t, cs, "echo", nil); res.IsError || resultText(res) != "ok" {
		t.Errorf("echo = %q", resultText(res))
	}
	isToolError(t, callTool(t, cs, "word_count", map[string]any{"text": 1}), `invalid arguments: "text": type`)

	// 200 calls at once over the one stdio session, each checked.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			input := fmt.Sprintf("call %d%s", i, strings.Repeat(" w", i%13))
			tool, key, want := "sha256", "sha256", any(hexSHA256(input))
			if i%2 == 1 {
				tool, key, want = "word_count", "words", float64(len(strings.Fields(input)))
			}
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": input}})
			if err != nil || res.IsError {
				t.Errorf("call %d: %v %v", i, err, res)
				return
			}
			if m, _ := res.StructuredContent.(map[string]any); m[key] != want {
				t.Errorf("call %d: %s = %v, want %v", i, key, m[key], want)
			}
		})
	}
	wg.Wait()

	served := fmt.Sprintf("serving %d tools", len(toolNames(t, cs)))
	for _, s := range []string{served, "serving MCP over stdio"} {
		if !strings.Contains(stderr.String(), s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

// Over stdio: hostile guests fail as tool errors and a good call right after
// each succeeds; a module that does not load is reported and the rest are
// served; a cancelled call returns at once and the server goes on; log and
// progress notifications arrive.
func TestServeStdioHostile(t *testing.T) {
	var mu sync.Mutex
	var logs, progress []string
	copts := &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf("%s %s %v", r.Params.Logger, r.Params.Level, r.Params.Data))
		},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, fmt.Sprintf("%g/%g %s", r.Params.Progress, r.Params.Total, r.Params.Message))
		},
	}
	cs, stderr := stdioClient(t, copts, "--timeout", "750ms", "--memory", "32MiB", "--output", "1MiB",
		serveHostile, serveGuests+"/c/hash/hash.wasm", serveTestMod+"/notify.wasm")
	if !strings.Contains(stderr.String(), "unknownimport.wasm") || !strings.Contains(stderr.String(), "not served") {
		t.Errorf("the module that does not load is not reported:\n%s", stderr)
	}
	// On a busy machine the time limit may stop memgrow and flood before
	// they reach their own limit: either is a clean containment.
	const timeLimit = "did not finish within its time limit of 750ms"
	tests := []struct{ tool, want, or string }{
		{"loop", timeLimit, ""},
		{"memgrow", "ran out of memory", timeLimit},
		{"flood", "more than its output limit of 1MiB", timeLimit},
		{"trap", "the tool crashed", ""},
	}
	for _, tt := range tests {
		res := callTool(t, cs, tt.tool, nil)
		if tt.or == "" || !strings.Contains(resultText(res), tt.or) {
			isToolError(t, res, tt.want)
		} else if !res.IsError {
			t.Errorf("%s: not a tool error: %q", tt.tool, resultText(res))
		}
		if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": tt.tool}), "sha256"); got != hexSHA256(tt.tool) {
			t.Errorf("sha256 after %s = %v", tt.tool, got)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep"}); err == nil {
		t.Error("cancelled call returned no error")
	}
	if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": "after"}), "sha256"); got != hexSHA256("after") {
		t.Errorf("sha256 after cancel = %v", got)
	}

	params := &mcp.CallToolParams{Name: "notify", Meta: mcp.Meta{mcp.MetaKeyLogLevel: "info"}}
	params.SetProgressToken("t")
	if cs.InitializeResult().ProtocolVersion < "2026-07-28" {
		if err := cs.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
		t.Fatalf("notify: %v %v", err, res)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n, p := len(logs), len(progress)
		mu.Unlock()
		if n >= 2 && p >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"notify info notify: info", "notify warning notify: warning"}; !slices.Equal(logs, want) {
		t.Errorf("logs = %q, want %q", logs, want)
	}
	if want := []string{"1/3 step 1", "2/3 step 2", "3/3 step 3"}; !slices.Equal(progress, want) {
		t.Errorf("progress = %q, want %q", progress, want)
	}
}

// serveInProcess runs runServe with args until the test ends and returns
// the base URL it listens on.
func serveInProcess(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		defer pw.Close()
		done <- runServe(ctx, &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: pw}, args)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(time.Minute):
			t.Error("serve did not stop within a minute of its context ending")
		}
	})
	urlRE := regexp.MustCompile(`streamable HTTP\s+(http://\S+)/mcp`)
	sc := bufio.NewScanner(pr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr)
			return m[1]
		}
	}
	t.Fatalf("serve printed no URL:\n%s", strings.Join(lines, "\n"))
	return ""
}

// bearerTransport adds an Authorization header to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestServeHTTP(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	base := serveInProcess(t, "--http", "127.0.0.1:0", "--auth-token-file", tokenFile, "--audit", auditFile, serveGuests+"/c/hash", serveGuests+"/wat/echo")

	t.Run("healthz", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret-token"} {
			req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var h struct {
				Status, Version          string
				Modules, Tools, Sessions *int
			}
			json.Unmarshal(body, &h)
			switch {
			case resp.StatusCode != 200 || h.Status != "ok":
				t.Errorf("healthz with %q: %s %s", auth, resp.Status, body)
			case auth != "Bearer s3cret-token" && string(body) != `{"status":"ok"}`+"\n":
				t.Errorf("healthz without the token shows more than its status: %s", body)
			case auth == "Bearer s3cret-token" && (h.Modules == nil || *h.Modules != 2 || *h.Tools != 4 || h.Sessions == nil || h.Version == ""):
				t.Errorf("healthz with the token: %s", body)
			}
		}
	})
	t.Run("token required", func(t *testing.T) {
		for _, path := range []string{"/mcp", "/sse"} {
			for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer s3cret-token-and-more"} {
				req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader("{}"))
				req.Header.Set("Content-Type", "application/json")
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s with %q: %s, WWW-Authenticate %q", path, auth, resp.Status, resp.Header.Get("WWW-Authenticate"))
				}
			}
		}
	})
	client := &http.Client{Transport: bearerTransport{"s3cret-token"}}
	t.Run("streamable", func(t *testing.T) {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t"}, nil).Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: client}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if got, want := toolNames(t, cs), []string{"base64_decode", "base64_encode", "echo", "sha256"}; !slices.Equal(got, want) {
			t.Errorf("tools = %q", got)
		}
		if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": "http"}), "sha256"); got != hexSHA256("http") {
			t.Errorf("sha256 = %v", got)
		}
		// The call is in the audit log, with its session and without its arguments.
		data, err := os.ReadFile(auditFile)
		if err != nil {
			t.Fatal(err)
		}
		var entry struct{ Session, Module, Tool, Outcome string }
		if err := json.Unmarshal(bytes.TrimSpace(data), &entry); err != nil || entry.Session != cs.ID() || entry.Module != "hash" || entry.Tool != "sha256" || entry.Outcome != "ok" || bytes.Contains(data, []byte(`"http"`)) {
			t.Errorf("audit log %q (%v); session %q", data, err, cs.ID())
		}
	})
	t.Run("sse", func(t *testing.T) {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t"}, nil).Connect(context.Background(), &mcp.SSEClientTransport{Endpoint: base + "/sse", HTTPClient: client}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		if got := field(t, callTool(t, cs, "base64_encode", map[string]any{"text": "sse"}), "base64"); got != "c3Nl" {
			t.Errorf("base64_encode = %v", got)
		}
	})
	t.Run("dns rebinding refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader("{}"))
		req.Host = "attacker.example"
		req.Header.Set("Authorization", "Bearer s3cret-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("Host attacker.example: %s", resp.Status)
		}
	})
	t.Run("body capped", func(t *testing.T) {
		body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"pad":"` + strings.Repeat("x", maxRequestBody) + `"}}`
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret-token")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a %d-byte body: %s", len(body), resp.Status)
		}
	})
}

func TestServeHTTPStateless(t *testing.T) {
	base := serveInProcess(t, "--http", "127.0.0.1:0", "--stateless", serveGuests+"/c")
	// One POST, no session: what a curl user does.
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sha256","arguments":{"text":"abc"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), hexSHA256("abc")) {
		t.Errorf("stateless tools/call: %s %s", resp.Status, body)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t"}, nil).Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: base + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if got := field(t, callTool(t, cs, "sha256", map[string]any{"text": "x"}), "sha256"); got != hexSHA256("x") {
		t.Errorf("sha256 = %v", got)
	}
}

// The operator's grants reach the calls: the environ test module asks for
// GREETING and answers with its environment.
func TestServeGrants(t *testing.T) {
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(policyFile, []byte("modules:\n  environ:\n    env: {GREETING: from-policy}\n    limits: {timeout: 7s}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing granted", nil, "(empty)"},
		{"flag", []string{"--env", "GREETING=hello", "--env", "UNASKED=x"}, "GREETING=hello\x00"},
		{"policy", []string{"--policy", policyFile}, "GREETING=from-policy\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, stderr := stdioClient(t, nil, append(tt.args, serveTestMod+"/environ.wasm")...)
			res := callTool(t, cs, "environ", nil)
			if res.IsError || resultText(res) != tt.want {
				t.Errorf("environ = %q, want %q", resultText(res), tt.want)
			}
			if tt.args != nil && !strings.Contains(stderr.String(), "permissions of environ:") {
				t.Errorf("the start-up report does not show the grants:\n%s", stderr)
			}
			if tt.name == "policy" && !strings.Contains(stderr.String(), "environ  environ  7s 128MiB 4MiB") {
				t.Errorf("the start-up report does not show the policy's limits:\n%s", stderr)
			}
		})
	}
}
