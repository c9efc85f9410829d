//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// On a non-wasm host the same tool runs over stdin and stdout, with log
// messages on stderr, which is handy for debugging the tool logic.
func main() {
	logf := func(level uint32, msg string) { fmt.Fprintf(os.Stderr, "log[%d]: %s\n", level, msg) }
	if err := serve(os.Stdin, os.Stdout, logf); err != nil {
		fmt.Fprintln(os.Stderr, "textstats:", err)
		os.Exit(1)
	}
}
