package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	extism "github.com/extism/go-sdk"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Each round starts with the next contestant, and every result lands with
// its contestant.
func TestAlternate(t *testing.T) {
	var order []int
	contestant := func(i int) func() (float64, error) {
		return func() (float64, error) { order = append(order, i); return float64(i), nil }
	}
	res, err := alternate(3, []func() (float64, error){contestant(0), contestant(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := order, []int{0, 1, 1, 0, 0, 1}; !equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if len(res[0]) != 3 || res[0][2] != 0 || res[1][0] != 1 {
		t.Errorf("results %v", res)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRewrite(t *testing.T) {
	section := beginMarker + "\nnew\n" + endMarker + "\n"
	doc := "# Benchmarks\n\nintro\n\n## Hand-written\n\ntext\n"
	first, err := rewrite([]byte(doc), section)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Benchmarks\n\nintro\n\n" + section + "\n## Hand-written\n\ntext\n"; string(first) != want {
		t.Fatalf("inserted:\n%s\nwant:\n%s", first, want)
	}
	again, err := rewrite(first, strings.Replace(section, "new", "newer", 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(string(first), "new\n", "newer\n", 1); string(again) != want {
		t.Fatalf("replaced:\n%s\nwant:\n%s", again, want)
	}
	if _, err := rewrite([]byte(beginMarker+"\nno end\n"), section); err == nil {
		t.Error("a lone marker was accepted")
	}
	if out, _ := rewrite([]byte("# Only a title"), section); string(out) != "# Only a title\n\n"+section {
		t.Errorf("without a second-level heading: %q", out)
	}
}

func TestTargets(t *testing.T) {
	for _, tc := range []struct {
		r    row
		want bool
	}{
		{row{target: target{kind: maxRatio, value: 1.2}, value: 1.2}, true},
		{row{target: target{kind: maxRatio, value: 1, strict: true}, value: 1}, false},
		{row{target: target{kind: minRatio, value: 0.5}, values: []float64{0.6, 0.49}}, false},
		{row{target: target{kind: minRatio, value: 0.5}, values: []float64{0.6, 0.5}}, true},
		{row{target: target{kind: maxSeconds, value: 0.5}, seconds: 0.51}, false},
		{row{target: target{kind: maxBytes, value: 150 << 20}, bytes: 100 << 20}, true},
	} {
		if got := tc.r.met(); got != tc.want {
			t.Errorf("%+v: met %v, want %v", tc.r, got, tc.want)
		}
	}
}

// The plugin echoes inputs of every length, whole words and the bytes
// after them.
func TestExtismEchoPlugin(t *testing.T) {
	ctx := context.Background()
	p, err := extism.NewPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: extismEcho}}}, extism.PluginConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	for n := 0; n < 20; n++ {
		in := []byte(strings.Repeat("abcdefghij", 2)[:n])
		rc, out, err := p.Call("echo", in)
		if err != nil || rc != 0 || !bytes.Equal(out, in) {
			t.Errorf("echo %q: %d %q %v", in, rc, out, err)
		}
	}
}

func TestEchoPluginIsBuiltFromWat(t *testing.T) {
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		t.Skip("wat2wasm not found (apt-get install wabt)")
	}
	out := filepath.Join(t.TempDir(), "echo.wasm")
	if msg, err := exec.Command("wat2wasm", "-o", out, "plugin/echo.wat").CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, msg)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, extismEcho) {
		t.Error("plugin/echo.wasm is not built from plugin/echo.wat: wat2wasm -o plugin/echo.wasm plugin/echo.wat")
	}
}

// The baseline of every per-call row runs and answers right.
func TestRawModules(t *testing.T) {
	ctx := context.Background()
	for _, c := range callCases {
		if testing.Short() && strings.HasPrefix(c.key, "go-") {
			continue // compiling a Go module takes seconds
		}
		t.Run(c.key, func(t *testing.T) {
			wasm, err := os.ReadFile(filepath.Join("..", "..", "..", c.path))
			if err != nil {
				t.Fatal(err)
			}
			r, err := newRawModule(ctx, wasm, c.tool, c.args)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close(ctx)
			for range 2 { // a fresh instance each time
				if err := r.check(ctx, c.want); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
