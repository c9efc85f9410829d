package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
)

const (
	guests  = "../../guests"
	hostile = guests + "/testdata/hostile"
)

// runCLI runs the command line with args and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // keep the user's compilation cache out of tests
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no args", nil, exitUsage, "Commands:"},
		{"help", []string{"help"}, exitOK, "call"},
		{"unknown", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"call help", []string{"call", "-h"}, exitOK, "-timeout"},
		{"help call", []string{"help", "call"}, exitOK, "Usage: wasmgate call"},
		{"call without args", []string{"call"}, exitUsage, "call needs a module file"},
		{"bad flag", []string{"call", "--nope", "x.wasm", "t"}, exitUsage, "flag provided but not defined"},
		{"bad size", []string{"call", "--memory", "lots", "x.wasm", "t"}, exitUsage, "invalid size"},
		{"pack without flags", []string{"pack", "x.wasm"}, exitUsage, "pack needs --manifest"},
		{"inspect nothing", []string{"inspect"}, exitUsage, "inspect needs a module file or a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			if !strings.Contains(out+errOut, tc.contains) {
				t.Errorf("output does not say %q:\nstdout: %s\nstderr: %s", tc.contains, out, errOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "wasmgate ") || !strings.Contains(out, "abi 1") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestCall(t *testing.T) {
	conformance := guests + "/conformance/resources/resources.wasm"
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		stdoutHas  string
		stderrHas  string
		wantResult bool
	}{
		{name: "go tool", args: []string{"call", guests + "/go/textstats/textstats.wasm", "word_count", `{"text":"a b c"}`}, code: exitOK, stdoutHas: `"words": 3`, wantResult: true},
		{name: "c tool", args: []string{"call", guests + "/c/hash/hash.wasm", "sha256", `{"text":"abc"}`}, code: exitOK, stdoutHas: "ba7816bf", wantResult: true},
		{name: "arguments from stdin", stdin: `{"text":"hi"}`, args: []string{"call", guests + "/c/hash/hash.wasm", "base64_encode", "-"}, code: exitOK, stdoutHas: "aGk=", wantResult: true},
		{name: "flags after positionals", args: []string{"call", guests + "/wat/echo/echo.wasm", "echo", "--timeout", "5s"}, code: exitOK, stdoutHas: `"ok"`, wantResult: true},
		{name: "verbose shows guest log", args: []string{"call", "-v", guests + "/wat/echo/echo.wasm", "echo"}, code: exitOK, stderrHas: "[info] echo called", wantResult: true},
		{name: "tool error", args: []string{"call", guests + "/c/hash/hash.wasm", "base64_decode", `{"text":"!!"}`}, code: exitToolError, stderrHas: "reported an error", wantResult: true},
		{name: "timeout", args: []string{"call", "--timeout", "200ms", hostile + "/loop.wasm", "loop"}, code: exitToolError, stderrHas: "[timeout]", wantResult: true},
		{name: "memory", args: []string{"call", "--memory", "4MiB", hostile + "/memgrow.wasm", "memgrow"}, code: exitToolError, stderrHas: "limit of 4MiB", wantResult: true},
		{name: "output", args: []string{"call", "--output", "1KiB", hostile + "/flood.wasm", "flood"}, code: exitToolError, stderrHas: "[output_limit]", wantResult: true},
		{name: "trap", args: []string{"call", hostile + "/trap.wasm", "trap"}, code: exitToolError, stderrHas: "[trap]", wantResult: true},
		{name: "exit code", args: []string{"call", hostile + "/exit3.wasm", "exit3"}, code: exitToolError, stderrHas: "exited with code 3", wantResult: true},
		{name: "unknown tool", args: []string{"call", guests + "/c/hash/hash.wasm", "md5"}, code: exitUsage, stderrHas: "it has: sha256, base64_encode, base64_decode"},
		{name: "arguments not an object", args: []string{"call", guests + "/c/hash/hash.wasm", "sha256", `"abc"`}, code: exitUsage, stderrHas: "tool hash/sha256: invalid arguments: must be a JSON object, got a string"},
		{name: "arguments not JSON", args: []string{"call", guests + "/c/hash/hash.wasm", "sha256", `{`}, code: exitUsage, stderrHas: "tool hash/sha256: invalid arguments: not valid JSON"},
		{name: "argument missing", args: []string{"call", guests + "/c/hash/hash.wasm", "sha256", `{}`}, code: exitUsage, stderrHas: `tool hash/sha256: invalid arguments: "text": missing (required)`},
		{name: "argument misspelt", args: []string{"call", guests + "/c/hash/hash.wasm", "sha256", `{"txet":"a"}`}, code: exitUsage, stderrHas: `invalid arguments: "txet": unknown property (the tool takes text); "text": missing (required)`},
		{name: "argument of the wrong type", args: []string{"call", guests + "/go/textstats/textstats.wasm", "word_count", `{"text":1}`}, code: exitUsage, stderrHas: `invalid arguments: "text": type: 1 has type "integer", want "string"`},
		{name: "argument out of range", args: []string{"call", guests + "/testdata/serve/reflect.wasm", "reflect", `{"opts":{"mode":"warp"}}`}, code: exitUsage, stderrHas: `invalid arguments: "opts.mode": enum:`},
		{name: "defaults applied", args: []string{"call", guests + "/testdata/serve/reflect.wasm", "reflect", `{"big":12345678901234567890}`}, code: exitOK, stdoutHas: `\"arguments\":{\"big\":12345678901234567890,\"count\":7,\"opts\":{\"mode\":\"fast\"}}`, wantResult: true},
		{name: "missing file", args: []string{"call", "nope.wasm", "t"}, code: exitUsage, stderrHas: "load nope.wasm"},
		{name: "unknown import", args: []string{"call", hostile + "/unknownimport.wasm", "unknownimport"}, code: exitUsage, stderrHas: "wasmgate.no_such_function"},
		{name: "read a resource", args: []string{"call", "--resource", "test://static-text", conformance}, code: exitOK, stdoutHas: `"text": "This is the content of the static text resource."`},
		{name: "read a templated resource", args: []string{"call", conformance, "--resource", "test://template/42/data"}, code: exitOK, stdoutHas: `Data for ID: 42`},
		{name: "resource nobody serves", args: []string{"call", "--resource", "test://nope", conformance}, code: exitUsage, stderrHas: "serves no resource test://nope; it has: test://static-text"},
		{name: "get a prompt", args: []string{"call", "--prompt", "test_prompt_with_arguments", conformance, `{"arg1":"a","arg2":"b"}`}, code: exitOK, stdoutHas: `arg1='a', arg2='b'`},
		{name: "prompt argument missing", args: []string{"call", "--prompt", "test_prompt_with_arguments", conformance, `{"arg1":"a"}`}, code: exitUsage, stderrHas: `needs the argument "arg2"`},
		{name: "unknown prompt", args: []string{"call", "--prompt", "nope", conformance}, code: exitUsage, stderrHas: "it has: test_simple_prompt"},
		{name: "prompt that asks without a grant", args: []string{"call", "--prompt", "test_input_required_result_prompt", conformance}, code: exitToolError, stderrHas: "not granted"},
		{name: "resource and prompt", args: []string{"call", "--prompt", "p", "--resource", "r", conformance}, code: exitUsage, stderrHas: "cannot be used together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, errOut)
			}
			if !strings.Contains(out, tc.stdoutHas) {
				t.Errorf("stdout does not have %q:\n%s", tc.stdoutHas, out)
			}
			if !strings.Contains(errOut, tc.stderrHas) {
				t.Errorf("stderr does not have %q:\n%s", tc.stderrHas, errOut)
			}
			if tc.wantResult {
				var res struct {
					Content []any `json:"content"`
				}
				if err := json.Unmarshal([]byte(out), &res); err != nil || res.Content == nil {
					t.Errorf("stdout is not a CallToolResult: %v\n%s", err, out)
				}
			} else if out != "" && tc.code != exitOK {
				t.Errorf("stdout should be empty on an error, got %q", out)
			}
			if tc.code != exitOK && strings.Count(strings.TrimSpace(lastErrorLines(errOut)), "\n") > 0 {
				t.Errorf("the error is not one line:\n%s", errOut)
			}
		})
	}
}

// lastErrorLines returns the lines of stderr that start with "wasmgate:".
func lastErrorLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "wasmgate:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestInspect(t *testing.T) {
	code, out, errOut := runCLI(t, "", "inspect", guests+"/go/textstats/textstats.wasm")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"module    textstats", "word_count", "regex_search", "text (string, required)", "none requested, none granted", "wasmgate.log (func)", "_start func"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", "inspect", "--json", "--timeout", "3s", guests+"/c/hash/hash.wasm")
	if code != exitOK {
		t.Fatalf("inspect --json: exit %d", code)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect --json is not JSON: %v\n%s", err, out)
	}
	if rep.Manifest.Name != "hash" || len(rep.Manifest.Tools) != 3 || len(rep.SHA256) != 64 || rep.Limits.Effective.Timeout.String() != "3s" {
		t.Errorf("report: %+v", rep)
	}
}

func TestInspectListsEveryManifestProblem(t *testing.T) {
	dir := t.TempDir()
	wasm, _ := os.ReadFile(guests + "/wat/echo/echo.wasm")
	bad := filepath.Join(dir, "bad.wasm")
	os.WriteFile(bad, wasm, 0o644)
	man := filepath.Join(dir, "m.json")
	os.WriteFile(man, []byte(`{"abi":1,"name":"bad name","tools":[{"name":"x y","inputSchema":{"type":"string"}}]}`), 0o644)
	code, _, errOut := runCLI(t, "", "pack", "--manifest", man, "-o", bad, bad)
	if code != exitUsage {
		t.Fatalf("pack of a bad manifest: exit %d", code)
	}
	for _, want := range []string{"name: ", "tools[0].name", "tools[0].inputSchema"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("pack errors lack %q:\n%s", want, errOut)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wasm")
	wasm, err := os.ReadFile(guests + "/wat/echo/echo.wasm")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, wasm, 0o644)
	man := filepath.Join(dir, "m.json")
	os.WriteFile(man, []byte(`{"abi":1,"name":"renamed","version":"9.9.9","tools":[{"name":"echo","description":"repacked","inputSchema":{"type":"object"}}]}`), 0o644)
	out := filepath.Join(dir, "out.wasm")
	if code, _, errOut := runCLI(t, "", "pack", "--manifest", man, "-o", out, in); code != exitOK {
		t.Fatalf("pack: exit %d: %s", code, errOut)
	}
	code, stdout, _ := runCLI(t, "", "inspect", out)
	if code != exitOK || !strings.Contains(stdout, "renamed 9.9.9") || !strings.Contains(stdout, "repacked") {
		t.Errorf("inspect after pack: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = runCLI(t, "", "call", out, "echo"); code != exitOK || !strings.Contains(stdout, `"ok"`) {
		t.Errorf("call after pack: exit %d %s", code, stdout)
	}
	if code, _, errOut := runCLI(t, "", "pack", "--manifest", man, "-o", out, man); code != exitUsage || !strings.Contains(errOut, "not a WebAssembly module") {
		t.Errorf("pack of a non-wasm input: exit %d %s", code, errOut)
	}
}

// Capabilities granted by a policy reach the call: a key written by one
// call is read by the next (the store persists in --state-dir), and a
// secret reaches the guest but never the output.
func TestCallWithPolicyGrants(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pol, []byte("modules:\n  kv: {kv: {quota: 1MiB}}\n  secret: {secrets: {TOKEN: env:WASMGATE_TEST_TOKEN}}\n"), 0o644)
	t.Setenv("WASMGATE_TEST_TOKEN", "tok-9f8e7d6c5b")
	state := filepath.Join(dir, "state")
	kvWasm := hostile[:len(hostile)-len("hostile")] + "kv/kv.wasm"
	secretWasm := hostile[:len(hostile)-len("hostile")] + "secret/secret.wasm"

	code, _, errOut := runCLI(t, "", "call", "--policy", pol, "--state-dir", state, kvWasm, "kv", `{"op":"set","key":"k","value":"v1"}`)
	if code != exitOK {
		t.Fatalf("set: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "", "call", "--policy", pol, "--state-dir", state, kvWasm, "kv", `{"op":"get","key":"k"}`)
	if code != exitOK || !strings.Contains(out, "v1") {
		t.Fatalf("get after set in another process run: exit %d\n%s\n%s", code, out, errOut)
	}
	// Without the policy, the same call is denied.
	_, out, _ = runCLI(t, "", "call", "--state-dir", state, kvWasm, "kv", `{"op":"get","key":"k"}`)
	if !strings.Contains(out, "not granted") {
		t.Errorf("kv without a grant: %s", out)
	}

	code, out, errOut = runCLI(t, "", "call", "-v", "--policy", pol, secretWasm, "secret", `{"name":"TOKEN","mode":"print"}`)
	if strings.Contains(out+errOut, "tok-9f8e7d6c5b") {
		t.Errorf("the secret leaked:\n%s\n%s", out, errOut)
	}
	if !strings.Contains(out, "[REDACTED]") {
		t.Errorf("exit %d; the guest did not get the secret (no redaction in its output):\n%s\n%s", code, out, errOut)
	}
}

func TestInspectShowsGrants(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pol, []byte("modules:\n  kv: {kv: {quota: 2MiB}, sampling: true}\n"), 0o644)
	code, out, errOut := runCLI(t, "", "inspect", "--policy", pol, hostile[:len(hostile)-len("hostile")]+"kv/kv.wasm")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"kv", "requested: yes", "granted: quota 2MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	os.WriteFile(pol, []byte("modules:\n  kv: {tools: {nope: {}}}\n  other: {}\n"), 0o644)
	code, _, errOut = runCLI(t, "", "inspect", "--policy", pol, hostile[:len(hostile)-len("hostile")]+"kv/kv.wasm")
	if code != exitUsage || !strings.Contains(errOut, `module kv has no tool "nope"`) || strings.Contains(errOut, "other") {
		t.Errorf("a policy for a tool the module lacks: exit %d %s", code, errOut)
	}
}

// A module cut short is reported as such, not as a module that lacks a
// manifest: whether the cut falls inside a section or between two.
func TestTruncatedModule(t *testing.T) {
	wasm, err := os.ReadFile(guests + "/c/markdown/markdown.wasm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, n := range []int{100, 90, 5000} {
		path := filepath.Join(dir, "cut.wasm")
		os.WriteFile(path, wasm[:n], 0o644)
		code, _, errOut := runCLI(t, "", "inspect", path)
		if code != exitUsage || strings.Contains(errOut, "manifest") || !strings.Contains(errOut, "cut short") && !strings.Contains(errOut, "truncated module") {
			t.Errorf("the first %d bytes: exit %d\n%s", n, code, errOut)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n        int
		one      string
		many     []string
		expected string
	}{
		{0, "tool", nil, "0 tools"},
		{1, "tool", nil, "1 tool"},
		{2, "module", nil, "2 modules"},
		{1, "resource or template", []string{"resources and templates"}, "1 resource or template"},
		{3, "resource or template", []string{"resources and templates"}, "3 resources and templates"},
	}
	for _, tt := range tests {
		if got := plural(tt.n, tt.one, tt.many...); got != tt.expected {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.one, got, tt.expected)
		}
	}
}

// serve's banner counts in words that agree with the counts. serve ends at
// once (stdin is empty), maybe before its modules compiled: --cache-dir ""
// keeps their compiled code out of the test's directories.
func TestServeBannerCounts(t *testing.T) {
	code, _, errOut := runCLI(t, "", "serve", "--cache-dir", "", guests+"/wat/echo/echo.wasm")
	if code != exitOK || !strings.Contains(errOut, "serving 1 tool from 1 module (") {
		t.Errorf("serve of one module with one tool: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "serve", "--cache-dir", "", guests+"/wat/echo/echo.wasm", guests+"/c/hash/hash.wasm")
	if code != exitOK || !strings.Contains(errOut, "serving 4 tools from 2 modules (") {
		t.Errorf("serve of two modules: exit %d\n%s", code, errOut)
	}
	code, out, errOut := runCLI(t, "", "pack", "--manifest", guests+"/wat/echo/manifest.json", "-o", filepath.Join(t.TempDir(), "echo.wasm"), guests+"/wat/echo/echo.wasm")
	if code != exitOK || !strings.Contains(out, "(1 tool)") {
		t.Errorf("pack of a module with one tool: exit %d\n%s%s", code, out, errOut)
	}
}

// inspect of a directory lists its modules, walked as serve walks them,
// one line each, with a line for each that does not load; --json gives an
// array of the reports one file gets, and an error for each failure.
func TestInspectDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"/c/hash/hash.wasm", "/conformance/resources/resources.wasm"} {
		b, err := os.ReadFile(guests + f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "cut.wasm"), []byte("\x00asm\x01\x00\x00\x00\x01\x04"), 0o644)
	os.WriteFile(filepath.Join(dir, "testdata", "skipped.wasm"), []byte("not wasm"), 0o644)

	code, out, errOut := runCLI(t, "", "inspect", dir)
	if code != exitUsage {
		t.Errorf("exit %d, want %d for a module that does not load\n%s", code, exitUsage, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "module ") {
		t.Fatalf("want a header and 3 lines:\n%s", out)
	}
	for i, want := range [][]string{
		{"hash", "0.1.0", " 3 ", "48.85KiB", filepath.Join(dir, "hash.wasm"), "none"},
		{"conformance-resources", "0 (+ 4 resources, 5 prompts)", "elicitation"},
		{"- ", filepath.Join(dir, "sub", "cut.wasm"), "not loaded: section 1 at offset 8: 4 bytes declared, 0 left: truncated module"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d lacks %q:\n%s", i+1, w, lines[i+1])
			}
		}
	}
	if strings.Contains(out, "skipped") {
		t.Errorf("a module under testdata was listed:\n%s", out)
	}

	code, out, _ = runCLI(t, "", "inspect", "--json", dir)
	var reps []struct {
		Path     string
		Error    string
		Manifest *struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &reps); err != nil {
		t.Fatalf("inspect --json DIR is not a JSON array: %v\n%s", err, out)
	}
	if code != exitUsage || len(reps) != 3 || reps[0].Manifest == nil || reps[0].Manifest.Name != "hash" || reps[2].Error == "" || reps[2].Manifest != nil {
		t.Errorf("exit %d, reports %+v", code, reps)
	}

	// Several files give the list too; every one loads, so exit 0.
	code, out, errOut = runCLI(t, "", "inspect", filepath.Join(dir, "hash.wasm"), guests+"/wat/echo/echo.wasm")
	if code != exitOK || !strings.Contains(out, "hash ") || !strings.Contains(out, "echo ") {
		t.Errorf("inspect of two files: exit %d\n%s%s", code, out, errOut)
	}
}

// The fetch example asks for any host: it reaches an intranet host the
// operator allows (here a local server, so private addresses must be
// allowed too), and nothing the operator did not name.
func TestFetchReachesWhatTheOperatorAllows(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("intranet page"))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	fetch := guests + "/go/fetch/fetch.wasm"
	args := `{"url":"` + srv.URL + `/"}`

	code, out, errOut := runCLI(t, "", "call", "--allow-net", host, "--allow-private-net", fetch, "fetch", args)
	if code != exitOK || !strings.Contains(out, "intranet page") {
		t.Errorf("allowed host: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "call", "--allow-net", host, fetch, "fetch", args)
	if code != exitToolError || !strings.Contains(out, "denied") {
		t.Errorf("allowed host at a private address, without --allow-private-net: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "call", "--allow-net", "example.com", "--allow-private-net", fetch, "fetch", args)
	if code != exitToolError || !strings.Contains(out, "denied") {
		t.Errorf("a host the operator did not name: exit %d\n%s", code, out)
	}
}

// -h writes long flags as the documentation does, --name, and serve's
// shows examples.
func TestHelpShowsLongFlags(t *testing.T) {
	for _, cmd := range []string{"call", "inspect", "serve", "pack", "new"} {
		code, out, errOut := runCLI(t, "", cmd, "-h")
		help := out + errOut
		if code != exitOK {
			t.Errorf("%s -h: exit %d", cmd, code)
		}
		for _, l := range strings.Split(help, "\n") {
			rest, ok := strings.CutPrefix(l, "  -")
			if name := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' }); ok && !strings.HasPrefix(rest, "-") && len(name) > 0 && len(name[0]) > 1 {
				t.Errorf("%s -h writes a long flag with one dash: %q", cmd, l)
			}
		}
	}
	_, _, help := runCLI(t, "", "serve", "-h")
	for _, want := range []string{"  --http ADDR", "  --state-dir DIR", "  -v\t", "Examples:", "claude mcp add wasmgate -- ", "wasmgate serve --http 127.0.0.1:8787 --policy policy.yaml", "wasmgate serve guests/"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve -h lacks %q:\n%s", want, help)
		}
	}
	// Either form is accepted.
	for _, flag := range []string{"-timeout", "--timeout"} {
		if code, _, errOut := runCLI(t, "", "call", flag, "5s", guests+"/wat/echo/echo.wasm", "echo"); code != exitOK {
			t.Errorf("call %s 5s: exit %d %s", flag, code, errOut)
		}
	}
}

// --engine picks the engine of call, inspect and serve, among those built
// in; a policy's engine: for a module wins. An engine this wasmgate was
// built without is a usage error saying how to get it.
func TestEngineFlag(t *testing.T) {
	echo := guests + "/wat/echo/echo.wasm"
	code, out, errOut := runCLI(t, "", "inspect", "--engine", "wazero-interpreter", echo)
	if code != exitOK || !strings.Contains(out, "engine    wazero-interpreter\n") {
		t.Errorf("inspect --engine wazero-interpreter: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", "call", "--engine", "wazero-interpreter", echo, "echo"); code != exitOK || !strings.Contains(out, `"ok"`) {
		t.Errorf("call --engine wazero-interpreter: exit %d %s %s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "call", "--engine", "nope", echo, "echo")
	if code != exitUsage || !strings.Contains(errOut, `--engine: engine "nope" is not compiled into this program (it has wazero, wazero-interpreter`) {
		t.Errorf("call --engine nope: exit %d %s", code, errOut)
	}
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("modules:\n  echo:\n    engine: wazero-interpreter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "inspect", "--engine", "wazero", "--policy", pol, echo); code != exitOK || !strings.Contains(out, "engine    wazero-interpreter\n") {
		t.Errorf("inspect with a policy's engine: exit %d\n%s%s", code, out, errOut)
	}
	if engine.Lookup("wasmtime") != nil {
		return // built with the wasmtime tag
	}
	hint := "build wasmgate with make build-wasmtime"
	if code, _, errOut := runCLI(t, "", "serve", "--engine", "wasmtime", echo); code != exitUsage || !strings.Contains(errOut, `engine "wasmtime" is not compiled`) || !strings.Contains(errOut, hint) {
		t.Errorf("serve --engine wasmtime: exit %d %s", code, errOut)
	}
	if err := os.WriteFile(pol, []byte("modules:\n  echo:\n    engine: wasmtime\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "call", "--policy", pol, echo, "echo"); code != exitUsage || !strings.Contains(errOut, "modules.echo.engine") || !strings.Contains(errOut, hint) {
		t.Errorf("a policy naming wasmtime: exit %d %s", code, errOut)
	}
}
