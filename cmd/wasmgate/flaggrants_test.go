package main

import (
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/policy"
)

// TestFlagGrants: the grant flags become a policy entry, and a wrong flag
// is named in the error.
func TestFlagGrants(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WASMGATE_TEST_LANG", "de_DE")
	m, err := flagGrants([]string{"api.example.com"}, true, []string{dir + ":/data:rw"}, []string{"WASMGATE_TEST_LANG", "X=1"})
	if err != nil {
		t.Fatal(err)
	}
	man := &abi.Manifest{Name: "m", Tools: []abi.Tool{{Name: "t"}}, Permissions: abi.Permissions{
		Network: []string{"api.example.com"}, Files: []abi.FileMount{{Guest: "/data", Mode: "rw"}}, Env: []string{"WASMGATE_TEST_LANG", "X"}}}
	g, err := (*policy.Policy)(nil).Grants(man, &policy.Options{Flags: m})
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	for _, l := range g.Report {
		report = append(report, l.Capability+"="+l.Granted)
	}
	got := strings.Join(report, "; ")
	for _, want := range []string{"network=api.example.com, (private addresses allowed)", "files=/data <- " + dir + " (rw)", "env=WASMGATE_TEST_LANG, X"} {
		if !strings.Contains(got, want) {
			t.Errorf("report %q lacks %q", got, want)
		}
	}
	for _, bad := range []struct {
		net, mount, env []string
		want            string
	}{
		{net: []string{"http://x"}, want: "--allow-net"},
		{mount: []string{"/nonexistent-dir:/d"}, want: "no such file"},
		{mount: []string{dir}, want: "--mount " + `"` + dir + `"` + ": want HOSTDIR:GUESTDIR"},
		{mount: []string{dir + ":d"}, want: "absolute"},
		{env: []string{"WASMGATE_SURELY_UNSET"}, want: "--env WASMGATE_SURELY_UNSET: not set"},
		{net: []string{"*"}, want: "name the hosts"},
	} {
		if _, err := flagGrants(bad.net, false, bad.mount, bad.env); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("flagGrants(%v %v %v) = %v, want %q", bad.net, bad.mount, bad.env, err, bad.want)
		}
	}
	if m, err := flagGrants(nil, false, nil, nil); m != nil || err != nil {
		t.Errorf("no flags: %+v %v", m, err)
	}
}
