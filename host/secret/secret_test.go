package secret

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	"github.com/wasmgate/wasmgate/runtime"
)

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("WASMGATE_TEST_SECRET", "from the environment")
	t.Setenv("WASMGATE_TEST_EMPTY", "")
	os.Unsetenv("WASMGATE_TEST_UNSET")
	tests := []struct {
		name, ref, want, err string
	}{
		{"env", "env:WASMGATE_TEST_SECRET", "from the environment", ""},
		{"env unset", "env:WASMGATE_TEST_UNSET", "", "environment variable WASMGATE_TEST_UNSET is not set"},
		{"env empty", "env:WASMGATE_TEST_EMPTY", "", "environment variable WASMGATE_TEST_EMPTY is empty"},
		{"env without a name", "env:", "", "names no environment variable"},
		{"file", "file:" + file("plain", "tok3n"), "tok3n", ""},
		{"file with a newline", "file:" + file("nl", "tok3n\n"), "tok3n", ""},
		{"file with CRLF", "file:" + file("crlf", "tok3n\r\n"), "tok3n", ""},
		{"only one newline is trimmed", "file:" + file("nlnl", "tok3n\n\n"), "tok3n\n", ""},
		{"inner newlines are kept", "file:" + file("multi", "line1\nline2\n"), "line1\nline2", ""},
		{"spaces are kept", "file:" + file("spaces", " tok3n \n"), " tok3n ", ""},
		{"file missing", "file:" + filepath.Join(dir, "missing"), "", "does not exist"},
		{"file empty", "file:" + file("empty", ""), "", "is empty"},
		{"file only a newline", "file:" + file("newline", "\n"), "", "is empty"},
		{"file is a directory", "file:" + dir, "", "is a directory"},
		{"file too large", "file:" + file("large", strings.Repeat("x", MaxFileSize+1)), "", "too large for a secret"},
		{"file without a path", "file:", "", "names no file"},
		{"unknown scheme", "vault:secret/x", "", "want env:NAME or file:PATH"},
		{"bare name", "TOKEN", "", "want env:NAME or file:PATH"},
		{"empty", "", "", "want env:NAME or file:PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.ref)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Resolve(%q) = %q, %v; want an error saying %q", tt.ref, got, err, tt.err)
				}
				if !strings.Contains(err.Error(), tt.ref) {
					t.Errorf("error %q does not name the reference", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
			}
		})
	}
}

const secretWasm = "../../guests/testdata/secret/secret.wasm"

// events collects a call's log messages.
type events struct {
	mu   sync.Mutex
	logs []string
}

func (e *events) Log(_ abi.LogLevel, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, msg)
}

func (e *events) Progress(float64, float64, string) {}

func load(t *testing.T) *runtime.Module {
	t.Helper()
	ctx := context.Background()
	r, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithHostFunctions(HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(ctx) })
	m, err := r.Load(ctx, secretWasm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(t *testing.T, m *runtime.Module, g *runtime.Grant, args map[string]any) (*runtime.Outcome, *events) {
	t.Helper()
	a, _ := json.Marshal(args)
	ev := &events{}
	out, err := m.Call(context.Background(), runtime.Call{Tool: "secret", Arguments: a, Grant: g, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	return out, ev
}

func text(res *abi.ToolResult) string {
	var b strings.Builder
	if res == nil {
		return ""
	}
	for _, c := range res.Content {
		if c.Type == abi.ContentText {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// leaks returns every place in out and ev where value appears.
func leaks(out *runtime.Outcome, ev *events, value string) []string {
	var where []string
	check := func(name, s string) {
		if strings.Contains(s, value) {
			where = append(where, name)
		}
	}
	all, _ := json.Marshal(out)
	check("the outcome", string(all))
	check("the reply", string(out.Reply))
	check("the result", text(out.Result))
	check("stderr", string(out.Stderr))
	check("denied", strings.Join(out.Denied, "\n"))
	check("hosts", strings.Join(out.Hosts, "\n"))
	if out.Err != nil {
		check("the error", out.Err.Detail()+fmt.Sprintf("%+v", *out.Err))
	}
	check("the log", strings.Join(ev.logs, "\n"))
	return where
}

// A guest that prints, logs, fails with or dies with the secret it was
// given leaves "[REDACTED]" everywhere wasmgate reports the call, and the
// value nowhere in the Outcome.
func TestGuestLeaksAreRedacted(t *testing.T) {
	m := load(t)
	for _, value := range []string{"s3cr3t-t0ken-value", `p@ss"wo\rd<&>`, "ünïcödé-sécret"} {
		g := runtime.NewGrant(&Grant{Values: map[string]string{"TOKEN": value, "OTHER": "other-secret-value"}})
		t.Run(value, func(t *testing.T) {
			out, ev := call(t, m, g, map[string]any{"name": "TOKEN", "mode": "print"})
			if out.Err != nil {
				t.Fatal(out.Err)
			}
			if got := text(out.Result); got != "the secret is [REDACTED]" {
				t.Errorf("result %q", got)
			}
			if got := string(out.Stderr); got != "stderr: [REDACTED]\n" {
				t.Errorf("stderr %q", got)
			}
			if len(ev.logs) != 1 || ev.logs[0] != "log: [REDACTED]" {
				t.Errorf("log %q", ev.logs)
			}
			if where := leaks(out, ev, value); len(where) > 0 {
				t.Errorf("the secret appears in %s", strings.Join(where, ", "))
			}

			out, ev = call(t, m, g, map[string]any{"name": "TOKEN", "mode": "fail"})
			if out.Err == nil || out.Err.Kind != runtime.KindToolError || !out.Result.IsError {
				t.Fatalf("fail mode: %v", out.Err)
			}
			if got := text(out.Result); got != "failed with [REDACTED]" {
				t.Errorf("error result %q", got)
			}
			if where := leaks(out, ev, value); len(where) > 0 {
				t.Errorf("fail mode: the secret appears in %s", strings.Join(where, ", "))
			}

			out, ev = call(t, m, g, map[string]any{"name": "TOKEN", "mode": "exit"})
			if out.Err == nil || out.Err.Kind != runtime.KindExit || !strings.Contains(out.Err.Message, "dying with [REDACTED]") {
				t.Fatalf("exit mode: %v", out.Err)
			}
			if where := leaks(out, ev, value); len(where) > 0 {
				t.Errorf("exit mode: the secret appears in %s", strings.Join(where, ", "))
			}

			// Asking for a secret named like the value of another: the
			// denial, recorded for the audit log, is redacted too.
			out, ev = call(t, m, g, map[string]any{"name": value, "mode": "print"})
			if !strings.HasPrefix(text(out.Result), "error -2: secret ") || len(out.Denied) != 1 {
				t.Fatalf("a secret named like a value: %q %q", text(out.Result), out.Denied)
			}
			if where := leaks(out, ev, value); len(where) > 0 {
				t.Errorf("denial: the secret appears in %s", strings.Join(where, ", "))
			}
		})
	}
}

func TestGuestSecretErrors(t *testing.T) {
	m := load(t)
	g := runtime.NewGrant(&Grant{Values: map[string]string{"TOKEN": "the-token-value"}})
	for _, tt := range []struct {
		name   string
		grant  *runtime.Grant
		want   string
		denied bool
	}{
		{"OTHER", g, `error -2: secret "OTHER" is not granted to module secret: the operator can give it in the policy (for example modules.secret.secrets: {OTHER: env:VARIABLE}), and the module must list it in its manifest's permissions.secrets`, true},
		{"TOKEN", nil, `error -2: secret "TOKEN" is not granted to module secret: `, true},
		{"TOKEN", runtime.NewGrant(), `error -2: secret "TOKEN" is not granted to module secret: `, true},
		{"token", g, `error -2: secret "token" is not granted`, true},
		{"TOKEN\x00", g, `error -2: secret "TOKEN\x00" is not granted`, true},
		{"", g, "error -1: secret_get: the secret name is empty", false},
		{strings.Repeat("N", MaxNameLen+1), g, "error -4: secret_get: the secret name is 257 bytes, over the limit of 256", false},
	} {
		out, _ := call(t, m, tt.grant, map[string]any{"name": tt.name, "mode": "print"})
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		if got := text(out.Result); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q:\n got %q\nwant %q…", tt.name, got, tt.want)
		}
		if (len(out.Denied) == 1) != tt.denied {
			t.Errorf("%q: denied attempts recorded: %q", tt.name, out.Denied)
		}
		// A normal call right after works.
		if out, _ := call(t, m, g, map[string]any{"name": "TOKEN", "mode": "print"}); out.Err != nil || text(out.Result) != "the secret is [REDACTED]" {
			t.Errorf("the call after %q: %v %q", tt.name, out.Err, text(out.Result))
		}
	}
	// A value shorter than four bytes is given but not redacted (it would
	// redact ordinary text); the guest still gets exactly the value.
	out, _ := call(t, m, runtime.NewGrant(&Grant{Values: map[string]string{"TOKEN": "abc"}}), map[string]any{"name": "TOKEN", "mode": "print"})
	if got := text(out.Result); got != "the secret is abc" {
		t.Errorf("a short secret: %q", got)
	}
}

// A guest probing thousands of secret names is denied each time, and the
// record of denied attempts stays bounded.
func TestGuestProbeIsBounded(t *testing.T) {
	m := load(t)
	g := runtime.NewGrant(&Grant{Values: map[string]string{"TOKEN": "the-token-value"}})
	out, _ := call(t, m, g, map[string]any{"mode": "probe", "count": 5000})
	if out.Err != nil || text(out.Result) != "denied 5000" {
		t.Fatalf("probe: %v %q", out.Err, text(out.Result))
	}
	if n := len(out.Denied); n == 0 || n > 100 {
		t.Errorf("%d denied attempts recorded, want between 1 and 100", n)
	}
	if out, _ := call(t, m, g, map[string]any{"name": "TOKEN"}); out.Err != nil {
		t.Errorf("the call after the probe: %v", out.Err)
	}
}

func TestGuestMisuse(t *testing.T) {
	m := load(t)
	g := runtime.NewGrant(&Grant{Values: map[string]string{"TOKEN": "the-token-value"}})
	out, _ := call(t, m, g, map[string]any{"mode": "badptr"})
	if out.Err == nil || out.Err.Kind != runtime.KindHostMisuse || !strings.Contains(out.Err.Message, "secret_get: bytes [4294967040, 4294967056) are outside guest memory") {
		t.Errorf("badptr: %v", out.Err)
	}
	if out, _ := call(t, m, g, map[string]any{"name": "TOKEN"}); out.Err != nil {
		t.Errorf("the call after misuse: %v", out.Err)
	}
}
