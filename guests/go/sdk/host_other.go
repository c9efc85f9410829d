//go:build !wasip1

package sdk

import (
	"context"
	"fmt"
	"os"
)

// Outside wasmgate (a native build, for tests and for -manifest) log and
// progress go to stderr and every request-style host function fails with
// ErrFailed. Tests in this package replace these.
var (
	rawLog = func(level uint32, msg string) {
		fmt.Fprintf(os.Stderr, "%s: %s\n", Level(level), msg)
	}
	rawProgress = func(progress, total float64, msg string) {
		fmt.Fprintf(os.Stderr, "progress %g/%g %s\n", progress, total, msg)
	}
	rawHTTP     = func([]byte) int32 { return unavailable("http_request") }
	rawKVGet    = func(string) int32 { return unavailable("kv_get") }
	rawKVSet    = func(string, []byte) int32 { return unavailable("kv_set") }
	rawKVDelete = func(string) int32 { return unavailable("kv_delete") }
	rawKVList   = func(string, string) int32 { return unavailable("kv_list") }
	rawSecret   = func(string) int32 { return unavailable("secret_get") }
	rawSample   = func([]byte) int32 { return unavailable("sample") }
	rawElicit   = func([]byte) int32 { return unavailable("elicit") }
	rawAsk      = func([]byte) int32 { return unavailable("ask") }
	rawResUpd   = func(string) int32 { return unavailable("resource_updated") }
	rawTake     = func() []byte { b := held; held = nil; return b }
	held        []byte
)

func unavailable(fn string) int32 {
	held = []byte(fn + " is only available when the module runs under wasmgate")
	return -3
}

// Run, in a native build, prints the manifest when the first argument is
// -manifest, and otherwise serves one call over stdin and stdout.
func Run() {
	if len(os.Args) > 1 && (os.Args[1] == "-manifest" || os.Args[1] == "--manifest") {
		b, err := Manifest()
		if err != nil {
			fmt.Fprintln(os.Stderr, "manifest:", err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	}
	if err := Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "writing the result:", err)
		os.Exit(1)
	}
}
