// Package policy reads the operator's policy and computes what each call is
// granted: the narrower of what a module's manifest asks for and what the
// operator allows. Nothing is granted by default, and only the operator
// (through the policy file or command-line flags) can grant anything.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// DefaultKVQuota is the storage a kv grant gives when the policy names no quota.
const DefaultKVQuota abi.Size = 16 << 20

// Policy is a parsed policy file.
type Policy struct {
	Defaults Defaults           `yaml:"defaults"`
	Modules  map[string]*Module `yaml:"modules"`

	path string
}

// Defaults apply to every module.
type Defaults struct {
	Limits Limits `yaml:"limits"`
}

// Limits are operator ceilings; zero fields keep the built-in defaults.
type Limits struct {
	Memory  Size     `yaml:"memory"`
	Timeout Duration `yaml:"timeout"`
	Output  Size     `yaml:"output"`
	// ClientWait bounds each wait for the client's answer to sample,
	// elicit or ask (runtime.Limits.ClientWait).
	ClientWait Duration `yaml:"clientWait"`
}

func (l Limits) runtime() runtime.Limits {
	return runtime.Limits{Memory: abi.Size(l.Memory), Timeout: time.Duration(l.Timeout), Output: abi.Size(l.Output), ClientWait: time.Duration(l.ClientWait)}
}

// Size is an abi.Size read from YAML, with the line in errors.
type Size abi.Size

// UnmarshalYAML parses a size such as 64MiB or a number of bytes.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := abi.ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// Duration is an abi.Duration read from YAML, with the line in errors.
type Duration abi.Duration

// UnmarshalYAML parses a duration such as 10s.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var v abi.Duration
	if err := v.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Module is what the operator grants one module. A nil or zero field grants
// nothing.
type Module struct {
	Network     *Network           `yaml:"network"`
	Files       []File             `yaml:"files"`
	Env         Env                `yaml:"env"`
	Secrets     map[string]string  `yaml:"secrets"`
	KV          *KV                `yaml:"kv"`
	Sampling    bool               `yaml:"sampling"`
	Elicitation bool               `yaml:"elicitation"`
	Roots       bool               `yaml:"roots"`
	Limits      Limits             `yaml:"limits"`
	Tools       map[string]*Module `yaml:"tools"`
}

// Network allows outbound HTTP(S) to hosts matching Allow.
type Network struct {
	Allow   []string `yaml:"allow"`
	Private bool     `yaml:"private"`
}

// File mounts a host directory at a guest path, read-only unless Mode is "rw".
type File struct {
	Host  string `yaml:"host"`
	Guest string `yaml:"guest"`
	Mode  string `yaml:"mode"`
}

// KV grants a key-value namespace of at most Quota bytes.
type KV struct {
	Quota Size `yaml:"quota"`
}

// Env is either a map of names to values or a list of names whose values
// are taken from wasmgate's own environment when the policy is loaded.
type Env map[string]string

// UnmarshalYAML accepts a mapping (NAME: value) or a sequence of names.
func (e *Env) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		*e = m
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		m := map[string]string{}
		for _, name := range names {
			v, ok := os.LookupEnv(name)
			if !ok {
				return fmt.Errorf("line %d: env %s is not set in wasmgate's environment, so it cannot be passed through", n.Line, name)
			}
			m[name] = v
		}
		*e = m
	default:
		return fmt.Errorf("line %d: env must be a map of NAME: value or a list of names to pass through", n.Line)
	}
	return nil
}

// Load reads and validates a policy file. Relative host paths in it are
// resolved against the file's directory.
func Load(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := Parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	p.path = path
	return p, nil
}

// Parse decodes and validates policy YAML; baseDir resolves relative host
// paths. Unknown keys, bad sizes, durations, patterns and paths are errors.
func Parse(b []byte, baseDir string) (*Policy, error) {
	p := &Policy{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
		return nil, cleanYAMLError(err)
	}
	var problems []string
	for _, name := range sortedKeys(p.Modules) {
		m := p.Modules[name]
		if m == nil {
			p.Modules[name] = &Module{}
			continue
		}
		problems = append(problems, m.validate("modules."+name, baseDir, true)...)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return p, nil
}

// cleanYAMLError makes yaml.v3's messages read as one line.
func cleanYAMLError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n", "")
	msg = strings.Join(strings.Fields(msg), " ")
	msg = strings.ReplaceAll(msg, "not found in type policy.", "is not a known key in ")
	return errors.New(msg)
}

func (m *Module) validate(path, baseDir string, top bool) []string {
	var problems []string
	add := func(field, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s.%s: %s", path, field, fmt.Sprintf(format, a...)))
	}
	if m.Network != nil {
		for i, h := range m.Network.Allow {
			if err := abi.CheckHostPattern(h); err != nil {
				add(fmt.Sprintf("network.allow[%d]", i), "%v", err)
			}
		}
	}
	for i, f := range m.Files {
		switch {
		case f.Host == "":
			add(fmt.Sprintf("files[%d].host", i), "missing: the host directory to mount")
		default:
			if !filepath.IsAbs(f.Host) {
				m.Files[i].Host = filepath.Join(baseDir, f.Host)
			}
			if st, err := os.Stat(m.Files[i].Host); err != nil {
				add(fmt.Sprintf("files[%d].host", i), "%v", err)
			} else if !st.IsDir() {
				add(fmt.Sprintf("files[%d].host", i), "%s is not a directory", m.Files[i].Host)
			}
		}
		if !strings.HasPrefix(f.Guest, "/") || strings.Contains(f.Guest, "..") {
			add(fmt.Sprintf("files[%d].guest", i), "%q must be an absolute guest path without ..", f.Guest)
		}
		if f.Mode != "" && f.Mode != "ro" && f.Mode != "rw" {
			add(fmt.Sprintf("files[%d].mode", i), "%q is not a mode: use ro or rw", f.Mode)
		}
	}
	for name, ref := range m.Secrets {
		if !strings.HasPrefix(ref, "env:") && !strings.HasPrefix(ref, "file:") {
			add("secrets."+name, "%q must be env:VARIABLE or file:PATH", ref)
		}
	}
	if abi.Size(m.Limits.Memory) > runtime.MaxMemory {
		add("limits.memory", "%s is over the maximum of %s", abi.Size(m.Limits.Memory), runtime.MaxMemory)
	}
	if !top && len(m.Tools) > 0 {
		add("tools", "tools cannot be nested inside a tool")
	}
	for _, t := range sortedKeys(m.Tools) {
		if tm := m.Tools[t]; tm != nil {
			problems = append(problems, tm.validate(path+".tools."+t, baseDir, false)...)
		}
	}
	return problems
}

// Check reports grants for modules or tools that are not loaded: a typo in a
// module name must not leave the intended module ungranted silently.
//
// With partial set (a command that loads one module of many the policy
// covers), entries for modules that are not loaded are not an error; their
// tools are still not checked.
func (p *Policy) Check(manifests map[string]*abi.Manifest, partial bool) error {
	if p == nil {
		return nil
	}
	var problems []string
	for _, name := range sortedKeys(p.Modules) {
		man, ok := manifests[name]
		if !ok && partial {
			continue
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("modules.%s: no module named %q is loaded (loaded: %s)", name, name, strings.Join(sortedKeys(manifests), ", ")))
			continue
		}
		for _, t := range sortedKeys(p.Modules[name].Tools) {
			if !slices.ContainsFunc(man.Tools, func(x abi.Tool) bool { return x.Name == t }) {
				problems = append(problems, fmt.Sprintf("modules.%s.tools.%s: module %s has no tool %q", name, t, name, t))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// GrantsKV reports whether the policy grants key-value storage to any module
// or tool, so the store is opened only when something may use it.
func (p *Policy) GrantsKV() bool {
	if p == nil {
		return false
	}
	for _, m := range p.Modules {
		if m == nil {
			continue
		}
		if m.KV != nil {
			return true
		}
	}
	return false
}
