package capability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate"
	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/audit"
	"github.com/wasmgate/wasmgate/capability"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// A capability that is not wasmgate's: registered here in one line, it is
// asked for in a manifest (permissions.toy), offered in a policy (toy:),
// granted as the narrower of the two, reported, served in annotations and
// used by its own host function, with nothing else changed.
func init() { capability.Register(toy{}) }

// toy grants words: a module asks for some, the operator offers some, and
// toy_ping answers with the words both name.
type toy struct{}

// toyGrant is the words a call may use.
type toyGrant struct{ words []string }

func (*toyGrant) Capability() string { return "toy" }

func (toy) Name() string   { return "toy" }
func (toy) Keys() []string { return []string{"toy"} }

func (toy) Request(raw map[string]json.RawMessage) (any, error) {
	var r struct {
		Words []string `json:"words"`
	}
	if err := json.Unmarshal(raw["toy"], &r); err != nil {
		return nil, fmt.Errorf("permissions.toy: %v", err)
	}
	if len(r.Words) == 0 {
		return nil, nil
	}
	return r.Words, nil
}

func (toy) Offer(entry map[string]*yaml.Node, _ capability.Place) (any, error) {
	var o struct {
		Words []string `yaml:"words"`
	}
	if err := capability.DecodeYAML(entry["toy"], &o, "toy"); err != nil {
		return nil, err
	}
	return o.Words, nil
}

func (toy) Union(a, b any) any { return append(slices.Clone(a.([]string)), b.([]string)...) }

func (toy) Narrow(module, tool any) any {
	m, _ := module.([]string)
	var out []string
	for _, w := range tool.([]string) {
		if slices.Contains(m, w) {
			out = append(out, w)
		}
	}
	return out
}

func (toy) Grant(req, offer any, c *capability.Context) (runtime.CapabilityGrant, error) {
	asked, _ := req.([]string)
	offered, _ := offer.([]string)
	var words []string
	for _, w := range offered {
		if !slices.Contains(asked, w) {
			c.Warn("toy word %s is granted but the module does not ask for it: not given", w)
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return nil, nil
	}
	return &toyGrant{words}, nil
}

func (toy) Report(req any, grant runtime.CapabilityGrant) []capability.Line {
	asked, _ := req.([]string)
	var granted []string
	if g, _ := grant.(*toyGrant); g != nil {
		granted = g.words
	}
	return []capability.Line{{Capability: "toy", Requested: capability.Listed(asked), Granted: capability.Listed(granted)}}
}

func (toy) Effects(grant runtime.CapabilityGrant) capability.Effects {
	if grant == nil {
		return capability.Effects{}
	}
	return capability.Effects{Writes: "the toy's notebook"}
}

func (toy) Open(*capability.Setup) (*capability.Provision, error) {
	ping := runtime.HostFunc{
		Name:    "toy_ping",
		Params:  []engine.ValueType{engine.I32, engine.I32},
		Results: []engine.ValueType{engine.I32},
		Fn: func(_ context.Context, h *runtime.HostCall, stack []uint64) {
			said := h.Read("toy_ping", engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1]))
			g, ok := runtime.Granted[*toyGrant](h, "toy")
			if !ok {
				stack[0] = engine.EncodeI32(h.Deny("toy is not granted to module " + h.Module()))
				return
			}
			res, _ := json.Marshal(mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("%s: pong with %s", said, strings.Join(g.words, ", "))}}})
			stack[0] = engine.EncodeI32(h.Respond(res))
		},
	}
	return &capability.Provision{HostFuncs: []runtime.HostFunc{ping}}, nil
}

// audits keeps the audit entries of a gateway.
type audits struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (a *audits) Record(e audit.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
}

// serveToy serves testdata/toy.wasm under the policy y and returns the
// module's grants, a client session and the audit entries.
func serveToy(t *testing.T, y string) (*policy.ModuleGrants, *mcp.ClientSession, *audits) {
	t.Helper()
	ctx := context.Background()
	var pol *policy.Policy
	if y != "" {
		var err error
		if pol, err = policy.Parse([]byte(y), t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	rec := &audits{}
	g, err := wasmgate.Open(ctx, wasmgate.Options{
		Sources:     []wasmgate.Source{wasmgate.File("testdata/toy.wasm")},
		Policy:      pol,
		Audit:       rec,
		Config:      runtime.NewConfig().WithCacheDir(""),
		OnLoadError: func(err error) { t.Error(err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if len(g.Modules()) != 1 {
		t.Fatalf("modules served: %d", len(g.Modules()))
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := g.Server().Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return g.Grants(g.Modules()[0]), cs, rec
}

// ping calls the toy's tool and returns its text and whether it failed.
func ping(t *testing.T, cs *mcp.ClientSession) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Content[0].(*mcp.TextContent).Text, res.IsError
}

func readOnly(t *testing.T, cs *mcp.ClientSession) bool {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools[0].Annotations.ReadOnlyHint
}

func TestToyCapability(t *testing.T) {
	t.Run("granted", func(t *testing.T) {
		mg, cs, _ := serveToy(t, "modules:\n  toy:\n    toy: {words: [hello, extra]}\n")
		if want := (capability.Line{Capability: "toy", Requested: "hello, bye", Granted: "hello"}); !slices.Contains(mg.Report, want) {
			t.Errorf("report %+v does not have %+v", mg.Report, want)
		}
		if want := "toy word extra is granted but the module does not ask for it: not given"; !slices.Contains(mg.Warnings, want) {
			t.Errorf("warnings %q do not have %q", mg.Warnings, want)
		}
		if text, failed := ping(t, cs); failed || text != "ping: pong with hello" {
			t.Errorf("ping = %q (failed %t), want the host function's answer with the granted word", text, failed)
		}
		if readOnly(t, cs) {
			t.Error("a tool granted the toy's notebook is served as read-only")
		}
	})

	t.Run("refused", func(t *testing.T) {
		for name, y := range map[string]string{"no policy": "", "not offered": "modules:\n  toy: {limits: {timeout: 5s}}\n", "no word in common": "modules:\n  toy:\n    toy: {words: [other]}\n"} {
			mg, cs, rec := serveToy(t, y)
			if want := (capability.Line{Capability: "toy", Requested: "hello, bye", Granted: "-"}); !slices.Contains(mg.Report, want) {
				t.Errorf("%s: report %+v does not have %+v", name, mg.Report, want)
			}
			if text, failed := ping(t, cs); !failed || !strings.Contains(text, "exited with code 3") {
				t.Errorf("%s: ping = %q (failed %t), want the guest's exit on denied", name, text, failed)
			}
			rec.mu.Lock()
			if len(rec.entries) != 1 || !slices.Contains(rec.entries[0].Denied, "toy is not granted to module toy") {
				t.Errorf("%s: audit %+v, want the denied attempt", name, rec.entries)
			}
			rec.mu.Unlock()
			if !readOnly(t, cs) {
				t.Errorf("%s: a tool granted nothing is not served as read-only", name)
			}
		}
	})

	t.Run("narrowed per tool", func(t *testing.T) {
		_, cs, _ := serveToy(t, "modules:\n  toy:\n    toy: {words: [hello, bye]}\n    tools:\n      ping: {toy: {words: [bye, other]}}\n")
		if text, failed := ping(t, cs); failed || text != "ping: pong with bye" {
			t.Errorf("ping = %q (failed %t), want only the word the tool's entry keeps", text, failed)
		}
	})

	t.Run("strict", func(t *testing.T) {
		if _, err := policy.Parse([]byte("modules:\n  toy:\n    toy: {wrods: [hello]}\n"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "line 3: field wrods is not a known key in toy") {
			t.Errorf("a typo in the toy's policy entry: %v", err)
		}
		if _, err := abi.ParseManifest([]byte(`{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}],"permissions":{"toyy":{}}}`)); err == nil || !strings.Contains(err.Error(), "permissions.toyy: unknown field") {
			t.Errorf("a manifest asking for an unregistered capability: %v", err)
		}
	})
}
