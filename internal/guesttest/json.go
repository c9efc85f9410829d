package guesttest

import (
	"encoding/json"
	"testing"
)

// JSON returns v marshaled, failing the test if it cannot be.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Decode returns v marshaled and unmarshaled into a T: a tool's structured
// content as map[string]map[string]any, say.
func Decode[T any](t testing.TB, v any) T {
	t.Helper()
	var out T
	if s := JSON(t, v); json.Unmarshal([]byte(s), &out) != nil {
		t.Fatalf("%s is not a %T", s, out)
	}
	return out
}

// SameJSON reports whether got, marshaled, is the JSON want, key order and
// spacing aside; if not it fails the test, naming what was compared.
func SameJSON(t testing.TB, what string, got any, want string) bool {
	t.Helper()
	g := Decode[any](t, got)
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want %s: %v", what, want, err)
	}
	gs, ws := JSON(t, g), JSON(t, w)
	if gs != ws {
		t.Errorf("%s:\n got %s\nwant %s", what, gs, ws)
		return false
	}
	return true
}
