package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/capability/builtin"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/host/env"
	"github.com/wasmgate/wasmgate/host/files"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/runtime"
)

// Typed views of a grant, nil when the capability is not granted.
func netOf(g *runtime.Grant) *hosthttp.Grant {
	v, _ := runtime.GrantOf[*hosthttp.Grant](g, hosthttp.Name)
	return v
}

func mountsOf(g *runtime.Grant) []engine.Mount {
	if v, ok := runtime.GrantOf[*files.Grant](g, files.Name); ok {
		return v.Mounts
	}
	return nil
}

func envOf(g *runtime.Grant) map[string]string {
	if v, ok := runtime.GrantOf[*env.Grant](g, env.Name); ok {
		return v.Vars
	}
	return nil
}

func secretsOf(g *runtime.Grant) map[string]string {
	if v, ok := runtime.GrantOf[*secret.Grant](g, secret.Name); ok {
		return v.Values
	}
	return nil
}

func kvOf(g *runtime.Grant) *kv.Grant {
	v, _ := runtime.GrantOf[*kv.Grant](g, kv.Name)
	return v
}

func clientOf(g *runtime.Grant) *client.Grant {
	if v, ok := runtime.GrantOf[*client.Grant](g, client.Name); ok {
		return v
	}
	return &client.Grant{}
}

// mustParse parses a policy written for a test.
func mustParse(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := Parse([]byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const example = `
defaults:
  limits: {memory: 128MiB, timeout: 10s, output: 4MiB}
modules:
  fetch:
    network: {allow: ["api.example.com", "*.example.org:443"], private: false}
    files: [{host: ./data, guest: /data, mode: ro}]
    env: {LANG: C.UTF-8}
    secrets: {TOKEN: env:GITHUB_TOKEN}
    kv: {quota: 16MiB}
    sampling: false
    elicitation: false
    limits: {timeout: 30s, clientWait: 2m}
    tools:
      fetch_raw: {network: {allow: ["api.example.com"]}}
`

func testDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestParseExample(t *testing.T) {
	dir := testDir(t)
	p, err := Parse([]byte(example), dir)
	if err != nil {
		t.Fatal(err)
	}
	m := p.Modules["fetch"]
	if p.Defaults.Limits.Memory != 128<<20 || time.Duration(m.Limits.Timeout) != 30*time.Second || time.Duration(m.Limits.ClientWait) != 2*time.Minute {
		t.Errorf("limits: %+v %+v", p.Defaults.Limits, m.Limits)
	}
	if fs := m.offers["files"].([]files.File); fs[0].Host != filepath.Join(dir, "data") {
		t.Errorf("relative host path not resolved against the policy's directory: %s", fs[0].Host)
	}
	if m.Tools["fetch_raw"].offers["network"].(*hosthttp.Offer).Allow[0] != "api.example.com" || m.offers["kv"].(*kv.Offer).Quota != 16<<20 || m.offers["env"].(env.Offer)["LANG"] != "C.UTF-8" {
		t.Errorf("module: %+v", m)
	}
	if p, err := Parse(nil, dir); err != nil || len(p.Modules) != 0 {
		t.Errorf("empty policy: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	dir := testDir(t)
	os.WriteFile(filepath.Join(dir, "afile"), nil, 0o644)
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top-level key", "module: {}", []string{"line 1", "module"}},
		{"unknown module key", "modules:\n  m:\n    netwrok: {}", []string{"line 3", "netwrok"}},
		{"unknown nested key", "modules:\n  m:\n    network: {alow: [x.com]}", []string{"line 3", "alow"}},
		{"bad size", "defaults:\n  limits: {memory: lots}", []string{"line 2", "invalid size"}},
		{"bad duration", "modules:\n  m:\n    limits: {timeout: forever}", []string{"line 3", "invalid duration"}},
		{"bad host pattern", "modules:\n  m:\n    network: {allow: ['http://x.com']}", []string{"modules.m.network.allow[0]", "not a host pattern"}},
		{"bad port", "modules:\n  m:\n    network: {allow: ['x.com:70000']}", []string{"out of range"}},
		{"missing host dir", "modules:\n  m:\n    files: [{host: ./nope, guest: /d}]", []string{"modules.m.files[0].host", "no such file"}},
		{"host is a file", "modules:\n  m:\n    files: [{host: ./afile, guest: /d}]", []string{"not a directory"}},
		{"relative guest", "modules:\n  m:\n    files: [{host: ./data, guest: d}]", []string{"files[0].guest", "absolute"}},
		{"bad mode", "modules:\n  m:\n    files: [{host: ./data, guest: /d, mode: wo}]", []string{"files[0].mode", `"wo"`}},
		{"bad secret ref", "modules:\n  m:\n    secrets: {T: GITHUB_TOKEN}", []string{"modules.m.secrets.T", "env:VARIABLE or file:PATH"}},
		{"env pass-through of an unset variable", "modules:\n  m:\n    env: [WASMGATE_SURELY_UNSET]", []string{"WASMGATE_SURELY_UNSET is not set"}},
		{"nested tools", "modules:\n  m:\n    tools:\n      t:\n        tools: {u: {}}", []string{"cannot be nested"}},
		{"not yaml", "modules: [", []string{"line 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), dir)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestCheckRejectsGrantsForUnloadedModules(t *testing.T) {
	p, err := Parse([]byte("modules:\n  fetch: {tools: {nope: {}}}\n  fecth: {}"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[string]*abi.Manifest{"fetch": {Name: "fetch", Tools: []abi.Tool{{Name: "fetch"}}}}
	err = p.Check(loaded, false)
	for _, w := range []string{`no module named "fecth" is loaded (loaded: fetch)`, `module fetch has no tool "nope"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Check error %v does not say %q", err, w)
		}
	}
	// Loading one module of many: other entries are fine, its own tools are checked.
	err = p.Check(loaded, true)
	if err == nil || strings.Contains(err.Error(), "fecth") || !strings.Contains(err.Error(), `no tool "nope"`) {
		t.Errorf("partial Check = %v", err)
	}
}

func manifest(perms abi.Permissions, tools ...string) *abi.Manifest {
	m := &abi.Manifest{ABI: 1, Name: "fetch", Permissions: perms}
	for _, t := range tools {
		m.Tools = append(m.Tools, abi.Tool{Name: t})
	}
	return m
}

func resolve(ref string) (string, error) {
	if ref == "env:GITHUB_TOKEN" {
		return "s3cret-value", nil
	}
	return "", fmt.Errorf("cannot resolve %s", ref)
}

func TestGrantsAreTheNarrowerOfRequestAndPolicy(t *testing.T) {
	dir := testDir(t)
	p, err := Parse([]byte(example), dir)
	if err != nil {
		t.Fatal(err)
	}
	man := manifest(abi.Permissions{
		Network: []string{"*.example.com", "docs.example.org", "other.net"},
		Files:   []abi.FileMount{{Guest: "/data", Mode: "rw"}, {Guest: "/cache", Mode: "rw"}},
		Env:     []string{"LANG", "HOME"},
		Secrets: []string{"TOKEN"},
		KV:      true,
	}, "fetch", "fetch_raw")
	g, err := p.Grants(man, &Options{ResolveSecret: resolve})
	if err != nil {
		t.Fatal(err)
	}
	fetch := g.Tools["fetch"]
	if got := fmt.Sprint(netOf(fetch).Allow); got != "[api.example.com docs.example.org:443]" {
		t.Errorf("network = %s", got)
	}
	if mounts := mountsOf(fetch); len(mounts) != 1 || mounts[0].GuestPath != "/data" || mounts[0].Writable {
		t.Errorf("mounts = %+v: /data must be read-only (the policy says ro), /cache not mounted", mounts)
	}
	if e := envOf(fetch); len(e) != 1 || e["LANG"] != "C.UTF-8" {
		t.Errorf("env = %v", e)
	}
	if secretsOf(fetch)["TOKEN"] != "s3cret-value" || kvOf(fetch) == nil || kvOf(fetch).Quota != 16<<20 {
		t.Errorf("secrets/kv = %v %+v", secretsOf(fetch), kvOf(fetch))
	}
	if c := clientOf(fetch); c.Sampling || c.Elicitation {
		t.Error("sampling or elicitation granted without both sides saying so")
	}
	if raw := g.Tools["fetch_raw"]; fmt.Sprint(netOf(raw).Allow) != "[api.example.com]" {
		t.Errorf("tool narrowing: fetch_raw network = %v", netOf(raw).Allow)
	}
	if g.Limits.Timeout != 30*time.Second || g.Limits.Memory != 128<<20 {
		t.Errorf("limits = %+v", g.Limits)
	}
	if len(g.Report) == 0 || g.Report[0].Capability != "network" {
		t.Errorf("report = %+v", g.Report)
	}
}

func TestNothingIsGrantedByDefault(t *testing.T) {
	man := manifest(abi.Permissions{Network: []string{"api.example.com"}, KV: true, Sampling: true, Env: []string{"HOME"}}, "t")
	for name, p := range map[string]*Policy{"no policy": nil, "empty policy": {}} {
		g, err := p.Grants(man, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Tools["t"]; len(got.Names()) != 0 {
			t.Errorf("%s: granted %v", name, got.Names())
		}
	}
	// A grant the module did not ask for is not given, and is reported.
	p := mustParse(t, "modules:\n  fetch: {kv: {}, network: {allow: [x.com]}}\n")
	g, _ := p.Grants(manifest(abi.Permissions{}, "t"), nil)
	if len(g.Tools["t"].Names()) != 0 || len(g.Warnings) != 2 {
		t.Errorf("unrequested grants: %v warnings %q", g.Tools["t"].Names(), g.Warnings)
	}
}

func TestEntryFrom(t *testing.T) {
	dir := t.TempDir()
	m, err := EntryFrom("flags", map[string]any{
		"network": map[string]any{"allow": []string{"api.example.com"}, "private": true},
		"files":   []map[string]string{{"host": dir, "guest": "/data", "mode": "rw"}},
		"env":     map[string]string{"WASMGATE_TEST_LANG": "de_DE", "X": "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	man := manifest(abi.Permissions{Network: []string{"api.example.com"}, Files: []abi.FileMount{{Guest: "/data", Mode: "rw"}}, Env: []string{"WASMGATE_TEST_LANG", "X"}}, "t")
	g, err := (*Policy)(nil).Grants(man, &Options{Flags: m})
	if err != nil {
		t.Fatal(err)
	}
	got := g.Tools["t"]
	if n := netOf(got); n == nil || !n.Private || n.Allow[0] != "api.example.com" || !mountsOf(got)[0].Writable || envOf(got)["WASMGATE_TEST_LANG"] != "de_DE" || envOf(got)["X"] != "1" {
		t.Errorf("grant from an entry: %v", got.Names())
	}
	for _, bad := range []struct {
		entry map[string]any
		want  string
	}{
		{map[string]any{"network": map[string]any{"allow": []string{"http://x"}}}, "flags.network"},
		{map[string]any{"files": []map[string]string{{"host": dir, "guest": "d"}}}, "flags.files"},
		{map[string]any{"netwrk": true}, "netwrk"},
	} {
		if _, err := EntryFrom("flags", bad.entry); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("EntryFrom(%v) = %v, want %q", bad.entry, err, bad.want)
		}
	}
}

func TestSecretResolutionErrorsNameTheSecret(t *testing.T) {
	p := mustParse(t, "modules:\n  fetch: {secrets: {TOKEN: 'env:MISSING'}}\n")
	_, err := p.Grants(manifest(abi.Permissions{Secrets: []string{"TOKEN"}}, "t"), &Options{ResolveSecret: resolve})
	if err == nil || !strings.Contains(err.Error(), "module fetch: secret TOKEN") {
		t.Errorf("err = %v", err)
	}
}

// A module that asks for any host ("*") gets exactly the operator's allow
// list: never a host the operator did not name, private addresses only
// with private: true, and less for a tool the policy narrows.
func TestAnyHostGetsExactlyTheOperatorsList(t *testing.T) {
	man := manifest(abi.Permissions{Network: []string{abi.AnyHost}}, "fetch", "fetch_raw")
	for name, p := range map[string]*Policy{"no policy": nil, "empty policy": {}, "no network": mustParse(t, "modules: {fetch: {kv: {}}}")} {
		g, err := p.Grants(man, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := netOf(g.Tools["fetch"]); n != nil {
			t.Errorf("%s: granted network %+v", name, n)
		}
	}

	p, err := Parse([]byte(`
modules:
  fetch:
    network: {allow: ["API.example.com", "*.example.org:443", "wiki.intranet.corp:8443", "api.example.com"]}
    tools:
      fetch_raw: {network: {allow: ["api.example.com", "other.net"]}}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	flags, err := EntryFrom("flags", map[string]any{"network": map[string]any{"allow": []string{"docs.internal"}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := p.Grants(man, &Options{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	fetch := netOf(g.Tools["fetch"])
	if got := fmt.Sprint(fetch.Allow); got != "[api.example.com *.example.org:443 wiki.intranet.corp:8443 docs.internal]" {
		t.Errorf("network = %s, want the operator's list, once each", got)
	}
	if fetch.Private {
		t.Error("private addresses allowed without the operator's private: true")
	}
	if got := fmt.Sprint(netOf(g.Tools["fetch_raw"]).Allow); got != "[api.example.com]" {
		t.Errorf("fetch_raw network = %s, want the tool's narrowing", got)
	}
	if len(g.Warnings) != 0 {
		t.Errorf("warnings: %q", g.Warnings)
	}
	if l := g.Report[0]; l.Capability != "network" || l.Requested != hosthttp.AnyHostRequested || !strings.HasPrefix(l.Granted, "api.example.com, ") {
		t.Errorf("report: %+v", l)
	}

	// Never more than the operator's list, whatever the list: every
	// granted pattern is one the operator wrote.
	lists := [][]string{{"a.com"}, {"*.a.com"}, {"a.com:8080", "*.b.org"}, {"10.0.0.1"}, {"a.com", "*.a.com", "a.com:443"}}
	for _, allow := range lists {
		for _, private := range []bool{false, true} {
			p := mustParse(t, fmt.Sprintf("modules: {fetch: {network: {allow: ['%s'], private: %t}}}", strings.Join(allow, "', '"), private))
			g, err := p.Grants(man, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := netOf(g.Tools["fetch"])
			if got == nil || got.Private != private {
				t.Fatalf("allow %v private %t: granted %+v", allow, private, got)
			}
			for _, h := range got.Allow {
				if !slices.Contains(allow, h) {
					t.Errorf("allow %v: granted %s, which the operator did not name", allow, h)
				}
			}
		}
	}

	// The operator names hosts: "*" is no grant.
	if _, err := Parse([]byte("modules:\n  fetch:\n    network: {allow: ['*']}\n"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "name the hosts") {
		t.Errorf("a policy allowing \"*\": %v", err)
	}
	if _, err := EntryFrom("flags", map[string]any{"network": map[string]any{"allow": []string{"*"}}}); err == nil || !strings.Contains(err.Error(), "name the hosts") {
		t.Errorf("an entry allowing \"*\": %v", err)
	}
}

// A tool entry narrows only what it names: sampling it leaves out is the
// module's, sampling it sets false is taken away.
func TestToolEntriesNarrowOnlyWhatTheyName(t *testing.T) {
	p := mustParse(t, `
modules:
  fetch:
    network: {allow: [api.example.com]}
    sampling: true
    roots: true
    tools:
      fetch: {network: {allow: []}}
      fetch_raw: {sampling: false}
`)
	man := manifest(abi.Permissions{Network: []string{"api.example.com"}, Sampling: true, Roots: true}, "fetch", "fetch_raw")
	g, err := p.Grants(man, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := g.Tools["fetch"]; netOf(f) != nil || !clientOf(f).Sampling || !clientOf(f).Roots {
		t.Errorf("fetch: network %+v, client %+v; want no network, sampling and roots kept", netOf(f), clientOf(f))
	}
	if r := g.Tools["fetch_raw"]; netOf(r) == nil || clientOf(r).Sampling || !clientOf(r).Roots {
		t.Errorf("fetch_raw: network %+v, client %+v; want the network kept, sampling taken away, roots kept", netOf(r), clientOf(r))
	}
}

// A key written without a value grants nothing, as before capabilities
// read their own keys.
func TestNullGrantsNothing(t *testing.T) {
	p := mustParse(t, "modules:\n  fetch:\n    kv:\n    network: ~\n    sampling: null\n")
	g, err := p.Grants(manifest(abi.Permissions{KV: true, Network: []string{"a.com"}, Sampling: true}, "t"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := g.Tools["t"].Names(); len(names) != 0 || len(g.Warnings) != 0 || p.Offers("kv") {
		t.Errorf("granted %v, warnings %q, offers kv %t", names, g.Warnings, p.Offers("kv"))
	}
}
