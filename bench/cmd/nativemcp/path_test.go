package main

import (
	"os"
	"testing"
)

// path.go is a copy of the jsonq tool's path code, so that the native
// baseline does the tool's own work; it must not drift from it.
func TestPathIsJSONQs(t *testing.T) {
	ours, err := os.ReadFile("path.go")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := os.ReadFile("../../../guests/go/jsonq/path.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(ours) != string(theirs) {
		t.Fatal("bench/cmd/nativemcp/path.go differs from guests/go/jsonq/path.go: copy it again (cp guests/go/jsonq/path.go bench/cmd/nativemcp/)")
	}
}
