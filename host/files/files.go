// Package files is the files capability: host directories mounted in the
// guest through WASI, each at a guest path both the manifest and the
// operator name, writable only if both say rw. It has no host functions:
// the engine mounts the directories (engine.Mount) and answers for their
// containment.
package files

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// Name is the capability's name, its key in a manifest's permissions and
// in a policy module entry.
const Name = "files"

// Grant is the directories a call sees.
type Grant struct {
	Mounts []engine.Mount
}

// Capability is the grant's capability name.
func (*Grant) Capability() string { return Name }

// Provision mounts the directories.
func (g *Grant) Provision(rc *engine.RunConfig) (func(), error) {
	rc.Mounts = append(rc.Mounts, g.Mounts...)
	return nil, nil
}

// File mounts a host directory at a guest path, read-only unless Mode is
// "rw": one item of the operator's files entry.
type File struct {
	Host  string `yaml:"host"`
	Guest string `yaml:"guest"`
	Mode  string `yaml:"mode"`
}

// Capability is directories mounted through WASI.
var Capability capability.Capability = filesCap{}

type filesCap struct{}

func (filesCap) Name() string   { return Name }
func (filesCap) Keys() []string { return []string{Name} }

func (filesCap) Request(raw map[string]json.RawMessage) (any, error) {
	var req []abi.FileMount
	if r, ok := raw[Name]; ok {
		if err := json.Unmarshal(r, &req); err != nil {
			return nil, fmt.Errorf("permissions.%s: %v", Name, err)
		}
	}
	if len(req) == 0 {
		return nil, nil
	}
	return req, nil
}

func (filesCap) Offer(entry map[string]*yaml.Node, at capability.Place) (any, error) {
	var fs []File
	if err := capability.DecodeYAML(entry[Name], &fs, Name); err != nil {
		return nil, err
	}
	var problems []string
	add := func(i int, field, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s.%s[%d].%s: %s", at.Path, Name, i, field, fmt.Sprintf(format, a...)))
	}
	for i, f := range fs {
		switch {
		case f.Host == "":
			add(i, "host", "missing: the host directory to mount")
		default:
			if !filepath.IsAbs(f.Host) {
				fs[i].Host = filepath.Join(at.Dir, f.Host)
			}
			if st, err := os.Stat(fs[i].Host); err != nil {
				add(i, "host", "%v", err)
			} else if !st.IsDir() {
				add(i, "host", "%s is not a directory", fs[i].Host)
			}
		}
		if !strings.HasPrefix(f.Guest, "/") || strings.Contains(f.Guest, "..") {
			add(i, "guest", "%q must be an absolute guest path without ..", f.Guest)
		}
		if f.Mode != "" && f.Mode != "ro" && f.Mode != "rw" {
			add(i, "mode", "%q is not a mode: use ro or rw", f.Mode)
		}
	}
	if err := capability.Join(problems); err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []File{}
	}
	return fs, nil
}

func (filesCap) Union(a, b any) any {
	return append(slices.Clone(a.([]File)), b.([]File)...)
}

func (filesCap) Narrow(module, tool any) any {
	m, _ := module.([]File)
	out := []File{}
	for _, f := range tool.([]File) {
		i := slices.IndexFunc(m, func(x File) bool { return x.Guest == f.Guest && x.Host == f.Host })
		if i < 0 {
			continue
		}
		if m[i].Mode != "rw" {
			f.Mode = "ro"
		}
		out = append(out, f)
	}
	return out
}

func (filesCap) Grant(req, offer any, c *capability.Context) (runtime.CapabilityGrant, error) {
	asked, _ := req.([]abi.FileMount)
	var g Grant
	offered, _ := offer.([]File)
	for _, f := range offered {
		i := slices.IndexFunc(asked, func(r abi.FileMount) bool { return r.Guest == f.Guest })
		if i < 0 {
			c.Warn("mount %s at %s is granted but the module does not ask for %s: not mounted", f.Host, f.Guest, f.Guest)
			continue
		}
		g.Mounts = append(g.Mounts, engine.Mount{HostPath: f.Host, GuestPath: f.Guest, Writable: f.Mode == "rw" && asked[i].Mode == "rw"})
	}
	if len(g.Mounts) == 0 {
		return nil, nil
	}
	return &g, nil
}

func (filesCap) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	asked, _ := req.([]abi.FileMount)
	var rf, gf []string
	for _, f := range asked {
		mode := f.Mode
		if mode == "" {
			mode = "ro"
		}
		rf = append(rf, f.Guest+" ("+mode+")")
	}
	if g, _ := grant.(*Grant); g != nil {
		for _, m := range g.Mounts {
			gf = append(gf, fmt.Sprintf("%s <- %s (%s)", m.GuestPath, m.HostPath, modeOf(m.Writable)))
		}
	}
	return []capability.Line{{Capability: Name, Requested: capability.Listed(rf), Granted: capability.Listed(gf)}}
}

func modeOf(writable bool) string {
	if writable {
		return "rw"
	}
	return "ro"
}

func (filesCap) Effects(grant runtime.CapabilityGrant) capability.Effects {
	if g, _ := grant.(*Grant); g != nil && slices.ContainsFunc(g.Mounts, func(m engine.Mount) bool { return m.Writable }) {
		return capability.Effects{Writes: "a writable mount"}
	}
	return capability.Effects{}
}

func (filesCap) Open(*capability.Setup) (*capability.Provision, error) {
	return &capability.Provision{}, nil
}
