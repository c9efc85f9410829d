package runtime

import (
	"context"
	"strings"

	"github.com/yosida95/uritemplate/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

const pageSize = 65536

// tableElemSize is what one table element is counted as before a call
// runs: a reference, pointer-sized on a 64-bit host.
const tableElemSize = 8

// Module is a compiled tool module. It is immutable and safe for concurrent
// calls; each call runs in its own instance.
type Module struct {
	rt             *Runtime
	path           string
	sha256         string
	size           int
	manifest       *abi.Manifest
	manifestSource string
	args           []string // the guest's arguments: its name
	engine         engine.Engine
	compiled       engine.Compiled
	memMinPages    uint64
	tableMins      []uint64 // declared minimum of each table, in elements
	imports        []Import
	exports        []Export
	sem            chan struct{}
	// ready is closed when compiling ended; compiled, exports and reactor
	// are set then, or compileErr says why there is no compiled code.
	ready      chan struct{}
	compileErr error
	reactor    bool // exports _initialize and wasmgate_call
	// snapOff says why calls cannot start from snapshots ("" when they
	// can), set with reactor; snapshots holds them.
	snapOff   string
	snapshots snapshots
	// templates are the manifest's resource templates, parsed once.
	templates []*uritemplate.Template
}

// Import is one import of a module.
type Import struct {
	Module string `json:"module"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
}

// Export is one export of a module.
type Export struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Signature string `json:"signature,omitempty"`
}

// Name is the module's name from its manifest.
func (m *Module) Name() string { return m.manifest.Name }

// Engine is the name of the engine the module runs on.
func (m *Module) Engine() string { return m.engine.Name() }

// Path is the file the module was loaded from.
func (m *Module) Path() string { return m.path }

// SHA256 is the hex digest of the module file as loaded.
func (m *Module) SHA256() string { return m.sha256 }

// Size is the module's size in bytes.
func (m *Module) Size() int { return m.size }

// Manifest is the module's validated manifest. Callers must not modify it.
func (m *Module) Manifest() *abi.Manifest { return m.manifest }

// ManifestSource says where the manifest was read from.
func (m *Module) ManifestSource() string { return m.manifestSource }

// Imports lists the module's imports in declaration order.
func (m *Module) Imports() []Import { return m.imports }

// Exports lists the module's exports by name. It waits for the module to
// be compiled, and is empty if compiling failed.
func (m *Module) Exports() []Export {
	<-m.ready
	return m.exports
}

// Ready waits until the module is compiled and returns the reason if it
// could not be, or ctx's error. Calls wait for it themselves; a module that
// failed to compile fails every call with KindUnavailable.
func (m *Module) Ready(ctx context.Context) error {
	select {
	case <-m.ready:
		return m.compileErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// InitialMemory is the memory the module needs before running any code:
// its linear memory's and its tables' declared minimums.
func (m *Module) InitialMemory() abi.Size {
	n := m.memMinPages * pageSize
	for _, t := range m.tableMins {
		n += t * tableElemSize
	}
	return abi.Size(n)
}

// Tool returns the manifest entry of the named tool.
func (m *Module) Tool(name string) (*abi.Tool, bool) {
	for i := range m.manifest.Tools {
		if m.manifest.Tools[i].Name == name {
			return &m.manifest.Tools[i], true
		}
	}
	return nil, false
}

// Limits returns the limits a call gets when the operator sets ceiling:
// ceiling's zero fields come from the runtime defaults, then the module's
// own requests narrow them.
func (m *Module) Limits(ceiling Limits) Limits {
	return ceiling.Or(m.rt.cfg.limits).Narrow(m.manifest.Limits)
}

// Reactor reports whether the module is a reactor: each call runs
// _initialize, then wasmgate_call, instead of _start. It waits for the
// module to be compiled.
func (m *Module) Reactor() bool {
	<-m.ready
	return m.reactor
}

// Close releases the compiled code, once compiling has ended.
func (m *Module) Close(ctx context.Context) error {
	<-m.ready
	if m.compiled == nil {
		return nil
	}
	return m.compiled.Close(ctx)
}

// ownsResource reports whether uri is one of the module's resources or
// matches one of its resource templates.
func (m *Module) ownsResource(uri string) bool {
	_, ok := m.MatchResource(uri)
	return ok
}

// MatchResource finds what the module serves uri as: one of its fixed
// resources (match is nil) or the first of its resource templates that
// matches it, with the values of the template's variables.
func (m *Module) MatchResource(uri string) (match *abi.TemplateMatch, ok bool) {
	for _, r := range m.manifest.Resources {
		if r.URI == uri {
			return nil, true
		}
	}
	for i, t := range m.manifest.ResourceTemplates {
		tpl := m.templates[i]
		vals := tpl.Match(uri)
		if vals == nil {
			continue
		}
		match := &abi.TemplateMatch{URITemplate: t.URITemplate, Variables: map[string]string{}}
		for _, name := range tpl.Varnames() {
			v := vals.Get(name)
			switch {
			case !v.Valid():
			case v.T == uritemplate.ValueTypeString:
				match.Variables[name] = v.String()
			default:
				match.Variables[name] = strings.Join(v.List(), ",")
			}
		}
		return match, true
	}
	return nil, false
}
