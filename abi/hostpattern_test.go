package abi

import "testing"

func TestHostPatternIntersect(t *testing.T) {
	tests := []struct {
		a, b, want string // want "" means empty
	}{
		{"api.example.com", "api.example.com", "api.example.com"},
		{"api.example.com", "*.example.com", "api.example.com"},
		{"*.example.com", "api.example.com", "api.example.com"},
		{"*.example.com", "*.api.example.com", "*.api.example.com"},
		{"*.api.example.com", "*.example.com", "*.api.example.com"},
		{"*.example.com", "example.com", ""}, // a wildcard does not cover the apex
		{"a.com", "b.com", ""},
		{"a.com", "a.com:443", "a.com:443"},
		{"a.com:443", "a.com", "a.com:443"},
		{"a.com:8080", "a.com", ""},
		{"a.com:8080", "a.com:8080", "a.com:8080"},
		{"API.Example.COM", "api.example.com", "api.example.com"},
		{"*.x.com", "*.y.com", ""},
	}
	for _, tc := range tests {
		a, err := ParseHostPattern(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseHostPattern(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := a.Intersect(b)
		if (tc.want == "") == ok || ok && got.String() != tc.want {
			t.Errorf("%s ∩ %s = %v %v, want %q", tc.a, tc.b, got, ok, tc.want)
		}
	}
}

func TestHostPatternMatch(t *testing.T) {
	p, _ := ParseHostPattern("*.example.org")
	if !p.MatchHost("a.example.org") || !p.MatchHost("a.b.example.org") || p.MatchHost("example.org") || p.MatchHost("badexample.org") {
		t.Error("wildcard matching")
	}
	if !p.MatchPort(443) || !p.MatchPort(80) || p.MatchPort(8080) {
		t.Error("default ports are 80 and 443 only")
	}
	for _, bad := range []string{"", "http://x.com", "x.com/", "x.com:0", "*.*.com", "x..com", "user@x.com", "-x.com"} {
		if err := CheckHostPattern(bad); err == nil {
			t.Errorf("CheckHostPattern(%q) accepted", bad)
		}
	}
}
