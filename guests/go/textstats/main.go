//go:build wasip1

package main

import (
	"os"
	"unsafe"
)

// hostLog is wasmgate.log(level, ptr, len).
//
//go:wasmimport wasmgate log
func hostLog(level uint32, ptr unsafe.Pointer, n uint32)

func logf(level uint32, msg string) {
	if len(msg) == 0 {
		return
	}
	hostLog(level, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

func main() {
	if err := serve(os.Stdin, os.Stdout, logf); err != nil {
		os.Stderr.WriteString("textstats: " + err.Error() + "\n")
		os.Exit(1)
	}
}
