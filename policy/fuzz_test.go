package policy

import (
	"testing"

	"github.com/wasmgate/wasmgate/abi"
)

// FuzzParse feeds arbitrary YAML to the policy parser and computes grants
// for an accepted policy: nothing may panic, and a grant never includes a
// capability the manifest did not ask for.
func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("modules:\n  m:\n    env: [HOME]\n"))
	f.Add([]byte("modules:\n  m:\n    network: {allow: ['*.a.com:8080'], private: true}\n    tools: {t: {network: {allow: [b.a.com]}}}\n"))
	f.Add([]byte("defaults: {limits: {memory: 1GiB}}\n"))
	f.Add([]byte("modules: {m: null}\n"))
	f.Add([]byte("&a [*a]"))
	dir := f.TempDir()
	requested, _ := abi.ParseHostPattern("*.a.com")
	man := &abi.Manifest{ABI: 1, Name: "m", Tools: []abi.Tool{{Name: "t"}}, Permissions: abi.Permissions{Network: []string{"*.a.com"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, dir)
		if err != nil {
			return
		}
		g, err := p.Grants(man, &Options{ResolveSecret: func(string) (string, error) { return "x", nil }})
		if err != nil {
			return
		}
		for name, tg := range g.Tools {
			if names := tg.Names(); len(names) > 1 || len(names) == 1 && names[0] != "network" {
				t.Fatalf("tool %s granted something the manifest did not ask for: %v", name, names)
			}
			if n := netOf(tg); n != nil {
				for _, a := range n.Allow {
					p, err := abi.ParseHostPattern(a)
					if err != nil {
						t.Fatalf("granted an invalid pattern %q: %v", a, err)
					}
					if x, ok := p.Intersect(requested); !ok || x != p {
						t.Fatalf("granted %q, which is not within the requested %s", a, requested)
					}
				}
			}
		}
	})
}
