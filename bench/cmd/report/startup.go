package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A probe is one call that only a module ready to run can answer: a tool
// call, or for a module without tools a resource read, answered by the
// module's own code.
type probe struct {
	path      string // under the repository root
	tool      string
	args      string
	resource  string // read instead when tool is ""
	want      string // in the answer's text or structured content
	toolError bool   // the module's own error is its answer (fetch has no network here)
}

// startupModules are the modules served by the start-up row: every module
// `serve guests/` finds, the Go SDK's test module and the serve test
// modules, so 20 with 7 in Go. The grants are guests/demo/policy.yaml's.
var startupModules = []probe{
	{path: "guests/assemblyscript/roman/roman.wasm", tool: "to_roman", args: `{"number":1994}`, want: "MCMXCIV"},
	{path: "guests/assemblyscript/slugify/slugify.wasm", tool: "slugify", args: `{"text":"Hello World"}`, want: "hello-world"},
	{path: "guests/c/hash/hash.wasm", tool: "sha256", args: `{"text":"hello world"}`, want: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
	{path: "guests/c/markdown/markdown.wasm", tool: "markdown_to_html", args: `{"markdown":"# hi"}`, want: "<h1>hi</h1>"},
	{path: "guests/conformance/resources/resources.wasm", resource: "test://static-text", want: "static text resource"},
	{path: "guests/conformance/tools/tools.wasm", tool: "test_simple_text", args: `{}`, want: "simple text response"},
	{path: "guests/go/fetch/fetch.wasm", tool: "fetch", args: `{"url":"ftp://example.invalid/"}`, want: "must start with http", toolError: true},
	{path: "guests/go/grep/grep.wasm", tool: "grep", args: `{"pattern":"Sample files"}`, want: "README.txt:1:"},
	{path: "guests/go/jsonq/jsonq.wasm", tool: "query", args: `{"json":"[1,2]","path":".[]"}`, want: "1\n2"},
	{path: "guests/go/notes/notes.wasm", tool: "list_notes", args: `{}`, want: `"notes":`},
	{path: "guests/go/textstats/textstats.wasm", tool: "word_count", args: `{"text":"a b"}`, want: `"words":2`},
	{path: "guests/rust/counter/counter.wasm", tool: "counter_get", args: `{"name":"a"}`, want: `"value":0`},
	{path: "guests/rust/wordfreq/wordfreq.wasm", tool: "word_frequencies", args: `{"text":"a b"}`, want: `"total_words":2`},
	{path: "guests/wat/add/add.wasm", tool: "add", args: `{"a":1,"b":2}`, want: `"sum":3`},
	{path: "guests/wat/echo/echo.wasm", tool: "echo", args: `{}`, want: "ok"},
	{path: "guests/go/sdk/testdata/hostcheck/hostcheck.wasm", tool: "check", args: `{"op":"structured"}`, want: `"n":7`},
	{path: "guests/testdata/serve/environ.wasm", tool: "environ", args: `{}`, want: "(empty)"},
	{path: "guests/testdata/serve/notify.wasm", tool: "notify", args: `{}`, want: "done"},
	{path: "guests/testdata/serve/reflect.wasm", tool: "reflect", args: `{}`, want: `"name":"reflect"`},
	{path: "guests/testdata/serve/structured.wasm", tool: "good", args: `{}`, want: `"n":1`},
}

// startup measures the start-up row: serve of the modules above with a
// filled compilation cache until each has answered a call, against serve of
// the WAT echo module alone until it has.
func (b *bench) startup(ctx context.Context) ([]row, error) {
	if err := b.binaries(ctx); err != nil {
		return nil, err
	}
	goModules := 0
	for _, p := range startupModules {
		wasm, err := os.ReadFile(b.path(p.path))
		if err != nil {
			return nil, err
		}
		if bytes.Contains(wasm, []byte("go:buildid")) {
			goModules++
		}
	}
	var floor []probe
	for _, p := range startupModules {
		if p.path == "guests/wat/echo/echo.wasm" {
			floor = append(floor, p)
		}
	}
	cache := filepath.Join(b.tmp, "cache-startup")
	progress("start-up: filling the compilation cache (serve of %d modules, empty cache)", len(startupModules))
	cold, err := b.serveUntilReady(ctx, cache, startupModules)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.raw, "startup cold cache (fills it): %d modules ready in %s, tools/list after %s\n", len(startupModules), cold.ready, cold.listed)
	progress("start-up: cold cache: ready in %s", cold.ready.Round(time.Millisecond))

	n := b.rounds(6)
	progress("start-up: %d rounds, one module and %d modules in turn", n, len(startupModules))
	res, err := alternate(n, []func() (float64, error){
		func() (float64, error) {
			t, err := b.serveUntilReady(ctx, cache, floor)
			return t.ready.Seconds(), err
		},
		func() (float64, error) {
			t, err := b.serveUntilReady(ctx, cache, startupModules)
			if err == nil {
				fmt.Fprintf(b.raw, "startup warm: tools/list after %s\n", t.listed)
			}
			return t.ready.Seconds(), err
		},
	}, func(r int, v []float64) {
		fmt.Fprintf(b.raw, "startup round %d: one module %.3fs, %d modules %.3fs, ratio %.2f\n", r+1, v[0], len(startupModules), v[1], v[1]/v[0])
	})
	if err != nil {
		return nil, err
	}
	base, subj, ratio := median(res[0]), median(res[1]), median(ratios(res[1], res[0]))
	progress("start-up: one module %s, %d modules %s, ratio %.2f", dur(base), len(startupModules), dur(subj), ratio)
	return []row{{
		what: fmt.Sprintf("`serve` (stdio) of %d modules (%d Go) with a warm cache, from process start until every module has answered a call (cold cache, once: %s)",
			len(startupModules), goModules, dur(cold.ready.Seconds())),
		baseline: dur(base) + " serving `wat/echo` alone",
		subject:  dur(subj),
		ratio:    fmt.Sprintf("%.2fx", ratio),
		target:   target{kind: maxSeconds, value: 0.5, label: "≤ 0.5 s"},
		seconds:  subj,
		value:    ratio,
	}}, nil
}

type startTimes struct{ listed, ready time.Duration }

// serveUntilReady starts wasmgate serve over stdio on the probes' modules
// and returns how long after the start tools/list was answered and every
// probe was.
func (b *bench) serveUntilReady(ctx context.Context, cache string, probes []probe) (startTimes, error) {
	var t startTimes
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args := []string{"serve", "--cache-dir", cache}
	if len(probes) > 1 {
		// The grants of the modules that need some; the policy names
		// modules the floor does not serve, which serve refuses.
		args = append(args, "--policy", b.path("guests/demo/policy.yaml"), "--state-dir", b.tmp)
	}
	for _, p := range probes {
		args = append(args, b.path(p.path))
	}
	cmd := exec.Command(b.wasmgateBin, args...)
	cmd.Dir = b.o.root
	stderr := &tail{max: 8 << 10}
	cmd.Stderr = stderr
	start := time.Now()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "wasmgate-bench"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return t, fmt.Errorf("wasmgate serve: %v: %s", err, stderr.String())
	}
	defer cs.Close()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return t, fmt.Errorf("tools/list: %v: %s", err, stderr.String())
	}
	t.listed = time.Since(start)
	served := map[string]bool{}
	for _, tool := range tools.Tools {
		served[tool.Name] = true
	}
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() { errs[i] = p.run(ctx, cs, served) })
	}
	wg.Wait()
	t.ready = time.Since(start)
	for i, err := range errs {
		if err != nil {
			return t, fmt.Errorf("%s: %v (serve said: %s)", probes[i].path, err, stderr.String())
		}
	}
	return t, nil
}

func (p probe) run(ctx context.Context, cs *mcp.ClientSession, served map[string]bool) error {
	if p.tool == "" {
		res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: p.resource})
		if err != nil {
			return err
		}
		for _, c := range res.Contents {
			if strings.Contains(c.Text, p.want) {
				return nil
			}
		}
		return fmt.Errorf("resources/read %s: no %q in the answer", p.resource, p.want)
	}
	name := p.tool
	if !served[name] {
		// Served as <module>_<tool> when another module has the tool too.
		for n := range served {
			if strings.HasSuffix(n, "_"+p.tool) {
				name = n
			}
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(p.args)})
	if err != nil {
		return err
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	sc, _ := json.Marshal(res.StructuredContent)
	switch {
	case res.IsError != p.toolError:
		return fmt.Errorf("tools/call %s: isError %v: %s", name, res.IsError, text.String())
	case !strings.Contains(text.String(), p.want) && !bytes.Contains(sc, []byte(p.want)):
		return fmt.Errorf("tools/call %s: no %q in the answer %s %s", name, p.want, text.String(), sc)
	}
	return nil
}
