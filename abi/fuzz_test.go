package abi

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseManifest checks that no input crashes the parser, that an
// accepted manifest survives a round trip, and that every rejection is an
// error rather than a half-valid manifest.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object"}}]}`))
	f.Add([]byte(`{"abi":1,"name":"m","tools":[{"name":"t","inputSchema":{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"type":"integer","default":3}}}}]}`))
	f.Add([]byte(`{"abi":1,"name":"m","limits":{"memory":"1.5MiB","timeout":"1h"},"prompts":[{"name":"p"}]}`))
	f.Add([]byte(`{"abi":1,"name":"m","permissions":{"network":["*.a.b:1"],"files":[{"guest":"/x","mode":"rw"}]},"prompts":[{"name":"p"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"abi":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		if _, err := ParseManifest(b); err != nil {
			t.Fatalf("accepted manifest does not parse again: %v\n%s", err, b)
		}
	})
}

// FuzzParseSize checks that sizes parse or fail, never panic, and that a
// parsed size formats to something that parses to the same value when exact.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "64KiB", "1.5MiB", "4GiB", "10B", "1e3", "-1", "NaNMiB", "InfGiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil || v < 0 {
			if v < 0 {
				t.Fatalf("negative size %d from %q", v, s)
			}
			return
		}
		if str := v.String(); !strings.Contains(str, ".") {
			if back, err := ParseSize(str); err != nil || back != v {
				t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, str, back, err)
			}
		}
	})
}
