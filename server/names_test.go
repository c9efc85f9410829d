package server_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// echoModule compiles the echo guest (which answers "ok" to any tool) under
// a manifest naming the module and its tools.
func echoModule(t *testing.T, module string, tools ...string) *runtime.Module {
	t.Helper()
	wasm, err := os.ReadFile(modulePaths["echo"])
	if err != nil {
		t.Fatal(err)
	}
	type tool struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	man := struct {
		ABI   int    `json:"abi"`
		Name  string `json:"name"`
		Tools []tool `json:"tools"`
	}{ABI: 1, Name: module}
	for _, n := range tools {
		man.Tools = append(man.Tools, tool{Name: n, InputSchema: json.RawMessage(`{"type":"object"}`)})
	}
	raw, _ := json.Marshal(man)
	m, err := testRuntime.Compile(context.Background(), module+".wasm", wasm, raw, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestToolNames(t *testing.T) {
	long := strings.Repeat("m", 100)
	tests := []struct {
		name     string
		modules  [][]string // module name, then its tools
		served   []string
		warnings []string
		errors   []string
	}{
		{
			name:    "no collision",
			modules: [][]string{{"alpha", "one", "two"}, {"beta", "three"}},
			served:  []string{"one", "two", "three"},
		},
		{
			name:     "collision prefixes every declaring module",
			modules:  [][]string{{"alpha", "echo", "one"}, {"beta", "echo"}, {"gamma", "two"}},
			served:   []string{"alpha_echo", "one", "beta_echo", "two"},
			warnings: []string{`tool name "echo" is declared by modules alpha, beta: serving them as alpha_echo, beta_echo`},
		},
		{
			name:     "three modules",
			modules:  [][]string{{"c", "x"}, {"a", "x"}, {"b", "x"}},
			served:   []string{"c_x", "a_x", "b_x"},
			warnings: []string{`tool name "x" is declared by modules a, b, c: serving them as a_x, b_x, c_x`},
		},
		{
			name:     "prefixed name taken by a tool's own name",
			modules:  [][]string{{"alpha", "echo", "beta_echo"}, {"beta", "echo"}},
			served:   []string{"alpha_echo", "beta_echo"},
			warnings: []string{`tool name "echo" is declared by modules alpha, beta: serving them as alpha_echo, beta_echo`},
			errors:   []string{`tool echo of module beta (beta.wasm) skipped: its prefixed name "beta_echo" is also the name of tool beta_echo of module alpha (alpha.wasm)`},
		},
		{
			name:    "two prefixed names the same",
			modules: [][]string{{"a", "b_c"}, {"a_b", "c"}, {"x", "b_c", "c"}},
			served:  []string{"x_b_c", "x_c"},
			warnings: []string{
				`tool name "b_c" is declared by modules a, x: serving them as a_b_c, x_b_c`,
				`tool name "c" is declared by modules a_b, x: serving them as a_b_c, x_c`,
			},
			errors: []string{
				`tool b_c of module a (a.wasm) skipped: its prefixed name "a_b_c" is also the name of tool c of module a_b (a_b.wasm)`,
				`tool c of module a_b (a_b.wasm) skipped: its prefixed name "a_b_c" is also the name of tool b_c of module a (a.wasm)`,
			},
		},
		{
			name:    "same module name",
			modules: [][]string{{"alpha", "one"}, {"alpha", "two"}, {"beta", "three"}},
			served:  []string{"one", "three"},
			errors:  []string{`module alpha (alpha.wasm) refused: module alpha (alpha.wasm) has the same name`},
		},
		{
			name:     "prefixed name too long",
			modules:  [][]string{{long, strings.Repeat("t", 40)}, {"short", strings.Repeat("t", 40)}},
			served:   []string{"short_" + strings.Repeat("t", 40)},
			warnings: []string{`is declared by modules`},
			errors:   []string{`is longer than 128 characters`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []*runtime.Module
			for _, m := range tt.modules {
				mods = append(mods, echoModule(t, m[0], m[1:]...))
			}
			s := mcp.NewServer(&mcp.Implementation{Name: "t"}, nil)
			reg, err := server.Add(s, mods, nil)
			var served []string
			for _, tool := range reg.Tools() {
				served = append(served, tool.Name)
			}
			if d := diff(tt.served, served); d != "" {
				t.Errorf("served %s", d)
			}
			checkAll(t, "warning", reg.Warnings(), tt.warnings)
			var errs []string
			if err != nil {
				errs = strings.Split(err.Error(), "\n")
			}
			checkAll(t, "error", errs, tt.errors)

			// What is served is what clients list, and each answers.
			cs := connectTo(t, s, nil, nil)
			res, lerr := cs.ListTools(context.Background(), nil)
			if lerr != nil {
				t.Fatal(lerr)
			}
			var listed []string
			for _, tool := range res.Tools {
				listed = append(listed, tool.Name)
			}
			slices.Sort(listed)
			if d := diff(slices.Sorted(slices.Values(served)), listed); d != "" {
				t.Errorf("listed %s", d)
			}
			for _, name := range served {
				if res := call(t, cs, name, nil); res.IsError || text(res) != "ok" {
					t.Errorf("%s: %s", name, text(res))
				}
			}
		})
	}
}

// The names do not depend on the order modules are given in.
func TestToolNamesOrder(t *testing.T) {
	a, b := echoModule(t, "alpha", "echo", "one"), echoModule(t, "beta", "echo", "two")
	names := func(mods ...*runtime.Module) []string {
		reg, err := server.Add(mcp.NewServer(&mcp.Implementation{Name: "t"}, nil), mods, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, tool := range reg.Tools() {
			n = append(n, tool.Name+"="+tool.Module.Name()+"/"+tool.Manifest.Name)
		}
		slices.Sort(n)
		return n
	}
	if d := diff(names(a, b), names(b, a)); d != "" {
		t.Errorf("order changes names: %s", d)
	}
}

// checkAll wants one entry of got containing each of want, and no more.
func checkAll(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d %ss, want %d: %q", len(got), what, len(want), got)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s %d = %q, want it to contain %q", what, i, got[i], want[i])
		}
	}
}

// A manifest may write "type": ["object"], which the SDK's AddTool rejects;
// it is served as "type": "object".
func TestTypeArrayInputSchema(t *testing.T) {
	wasm, err := os.ReadFile(modulePaths["echo"])
	if err != nil {
		t.Fatal(err)
	}
	man := `{"abi":1,"name":"arr","tools":[{"name":"arr","inputSchema":{"type":["object"],"properties":{"n":{"type":"integer","default":3}}}}]}`
	m, err := testRuntime.Compile(context.Background(), "arr.wasm", wasm, []byte(man), "test")
	if err != nil {
		t.Fatal(err)
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "t"}, nil)
	if _, err := server.Add(s, []*runtime.Module{m}, nil); err != nil {
		t.Fatal(err)
	}
	cs := connectTo(t, s, nil, nil)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(res.Tools) != 1 {
		t.Fatalf("ListTools: %v %v", res, err)
	}
	if typ := res.Tools[0].InputSchema.(map[string]any)["type"]; typ != "object" {
		t.Errorf("served type %v", typ)
	}
	wantError(t, call(t, cs, "arr", map[string]any{"n": "x"}), `"n": type`)
	if r := call(t, cs, "arr", nil); r.IsError || text(r) != "ok" {
		t.Errorf("arr: %s", text(r))
	}
}
