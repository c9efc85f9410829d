// Package policy reads the operator's policy and computes what each call is
// granted: the narrower of what a module's manifest asks for and what the
// operator allows. Nothing is granted by default, and only the operator
// (through the policy file or command-line flags) can grant anything.
//
// What a policy can grant is what the registered capabilities read
// (package capability): a program imports
// github.com/wasmgate/wasmgate/capability/builtin for wasmgate's own, as
// package wasmgate does; without any, a capability's key is an unknown key.
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
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

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
type Size = capability.Size

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

// Module is what the operator grants one module, or one of its tools:
// limits, per-tool entries, and an entry for each capability (package
// capability), read by the capability from its keys. A nil or empty Module
// grants nothing.
type Module struct {
	Limits Limits
	Tools  map[string]*Module
	// Engine names the registered engine the module runs on ("" is the
	// runtime's): a module entry's engine key. Parse refuses an engine this
	// program was built without.
	Engine string

	// entry holds the capabilities' keys as written; offers, what each
	// capability made of them, by capability name (set by validate).
	entry  map[string]*yaml.Node
	offers map[string]any
}

// UnmarshalYAML reads a module entry: limits, tools, and the keys of the
// registered capabilities. Any other key is an error naming its line.
func (m *Module) UnmarshalYAML(n *yaml.Node) error {
	pairs, err := capability.Pairs(n, "a module entry")
	if err != nil {
		return err
	}
	for _, p := range pairs {
		switch k := p.Key.Value; {
		case k == "limits":
			if err := capability.DecodeYAML(p.Value, &m.Limits, "limits"); err != nil {
				return err
			}
		case k == "tools":
			if err := p.Value.Decode(&m.Tools); err != nil {
				return err
			}
		case k == "engine":
			if p.Value.Kind != yaml.ScalarNode || p.Value.Tag != "!!str" || p.Value.Value == "" {
				return fmt.Errorf("line %d: engine must be the name of an engine, such as wazero or wasmtime", p.Value.Line)
			}
			m.Engine = p.Value.Value
		case capability.ForKey(k) != nil:
			if isNull(p.Value) {
				continue // grants nothing, as if it were not written
			}
			if m.entry == nil {
				m.entry = map[string]*yaml.Node{}
			}
			m.entry[k] = p.Value
		default:
			return fmt.Errorf("line %d: field %s is not a known key in a module entry (known keys: %s)", p.Key.Line, k, strings.Join(append(capability.Keys(), "limits", "tools", "engine"), ", "))
		}
	}
	return nil
}

// isNull reports whether n is YAML's null (nothing written, ~ or null).
func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// Offers reports whether the entry grants something of the named
// capability (before any intersection with a manifest).
func (m *Module) Offers(name string) bool {
	if m == nil {
		return false
	}
	_, ok := m.offers[name]
	return ok
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
func cleanYAMLError(err error) error { return capability.CleanYAMLError(err) }

// EntryFrom reads a module entry given as values rather than in a file
// (from a program's own options, say): the keys and checks of an entry
// under modules, with where naming it in errors. Relative host paths are
// not resolved: give absolute ones.
func EntryFrom(where string, entry map[string]any) (*Module, error) {
	b, err := yaml.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	m := &Module{}
	if err := yaml.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if problems := m.validate(where, "", true); len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return m, nil
}

func (m *Module) validate(path, baseDir string, top bool) []string {
	var problems []string
	add := func(field, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s.%s: %s", path, field, fmt.Sprintf(format, a...)))
	}
	m.offers = map[string]any{}
	for _, c := range capability.Registered() {
		sub := map[string]*yaml.Node{}
		for _, k := range c.Keys() {
			if n, ok := m.entry[k]; ok {
				sub[k] = n
			}
		}
		if len(sub) == 0 {
			continue
		}
		o, err := c.Offer(sub, capability.Place{Path: path, Dir: baseDir})
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		m.offers[c.Name()] = o
	}
	if abi.Size(m.Limits.Memory) > runtime.MaxMemory {
		add("limits.memory", "%s is over the maximum of %s", abi.Size(m.Limits.Memory), runtime.MaxMemory)
	}
	if !top && len(m.Tools) > 0 {
		add("tools", "tools cannot be nested inside a tool")
	}
	if m.Engine != "" {
		if !top {
			add("engine", "an engine runs a whole module: set it in the module's entry, not a tool's")
		} else if err := engine.Check(m.Engine); err != nil {
			add("engine", "%v", err)
		}
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

// Engines maps each module whose entry names an engine to that engine.
func (p *Policy) Engines() map[string]string {
	if p == nil {
		return nil
	}
	out := map[string]string{}
	for name, m := range p.Modules {
		if m.Engine != "" {
			out[name] = m.Engine
		}
	}
	return out
}

// Offers reports whether the policy grants the named capability to some
// module, so that what it needs (a store on disk) is opened only then.
func (p *Policy) Offers(name string) bool {
	if p == nil {
		return false
	}
	for _, m := range p.Modules {
		if m.Offers(name) {
			return true
		}
	}
	return false
}
