package policy

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/engine"
)

// The policy package's tests register one engine of their own: the
// policy names engines, it does not run them.
const testEngine = "policy-test-engine"

func init() {
	engine.Register(testEngine, func(context.Context, engine.Config) (engine.Engine, error) {
		return nil, errors.New("not an engine")
	})
}

// A module entry may name the engine the module runs on; one this program
// was built without, a tool entry naming one, or a value that is not a
// name is an error at start-up.
func TestEngine(t *testing.T) {
	p, err := Parse([]byte("modules:\n  a:\n    engine: "+testEngine+"\n  b:\n    limits: {timeout: 1s}\n"), testDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Engines(); !maps.Equal(got, map[string]string{"a": testEngine}) {
		t.Errorf("Engines = %v", got)
	}
	if (*Policy)(nil).Engines() != nil {
		t.Error("a nil policy names engines")
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"not compiled in", "modules:\n  a:\n    engine: wasmtime", `modules.a.engine: engine "wasmtime" is not compiled into this program (it has ` + testEngine + `)`},
		{"per tool", "modules:\n  a:\n    tools:\n      t: {engine: " + testEngine + "}", "modules.a.tools.t.engine: an engine runs a whole module"},
		{"not a name", "modules:\n  a:\n    engine: [x]", "line 3: engine must be the name of an engine"},
		{"empty", "modules:\n  a:\n    engine: ''", "line 3: engine must be the name of an engine"},
	} {
		if _, err := Parse([]byte(tc.yaml), testDir(t)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if m, err := EntryFrom("opts", map[string]any{"engine": testEngine}); err != nil || m.Engine != testEngine {
		t.Errorf("EntryFrom: %+v, %v", m, err)
	}
}
