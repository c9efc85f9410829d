//go:build wasip1

package sdk

import (
	"context"
	"os"
	"unsafe"
)

//go:wasmimport wasmgate log
func hostLog(level uint32, ptr unsafe.Pointer, n uint32)

//go:wasmimport wasmgate progress
func hostProgress(progress, total float64, ptr unsafe.Pointer, n uint32)

//go:wasmimport wasmgate response_len
func hostResponseLen() int32

//go:wasmimport wasmgate response
func hostResponse(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wasmgate http_request
func hostHTTPRequest(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wasmgate kv_get
func hostKVGet(kp unsafe.Pointer, kn uint32) int32

//go:wasmimport wasmgate kv_set
func hostKVSet(kp unsafe.Pointer, kn uint32, vp unsafe.Pointer, vn uint32) int32

//go:wasmimport wasmgate kv_delete
func hostKVDelete(kp unsafe.Pointer, kn uint32) int32

//go:wasmimport wasmgate kv_list
func hostKVList(pp unsafe.Pointer, pn uint32, ap unsafe.Pointer, an uint32) int32

//go:wasmimport wasmgate secret_get
func hostSecretGet(np unsafe.Pointer, nn uint32) int32

//go:wasmimport wasmgate sample
func hostSample(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wasmgate elicit
func hostElicit(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wasmgate ask
func hostAsk(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport wasmgate resource_updated
func hostResourceUpdated(ptr unsafe.Pointer, n uint32) int32

func sp(s string) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.StringData(s)), uint32(len(s))
}

func bp(b []byte) (unsafe.Pointer, uint32) {
	return unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))
}

// Each wrapper calls only its own import, so a module imports only the
// host functions it uses.

func rawLog(level uint32, msg string) {
	p, n := sp(msg)
	hostLog(level, p, n)
}

func rawProgress(progress, total float64, msg string) {
	p, n := sp(msg)
	hostProgress(progress, total, p, n)
}

func rawHTTP(req []byte) int32 {
	p, n := bp(req)
	return hostHTTPRequest(p, n)
}

func rawKVGet(key string) int32 {
	p, n := sp(key)
	return hostKVGet(p, n)
}

func rawKVSet(key string, value []byte) int32 {
	kp, kn := sp(key)
	vp, vn := bp(value)
	return hostKVSet(kp, kn, vp, vn)
}

func rawKVDelete(key string) int32 {
	p, n := sp(key)
	return hostKVDelete(p, n)
}

func rawKVList(prefix, after string) int32 {
	pp, pn := sp(prefix)
	ap, an := sp(after)
	return hostKVList(pp, pn, ap, an)
}

func rawSecret(name string) int32 {
	p, n := sp(name)
	return hostSecretGet(p, n)
}

func rawSample(req []byte) int32 {
	p, n := bp(req)
	return hostSample(p, n)
}

func rawElicit(req []byte) int32 {
	p, n := bp(req)
	return hostElicit(p, n)
}

func rawAsk(req []byte) int32 {
	p, n := bp(req)
	return hostAsk(p, n)
}

func rawResUpd(uri string) int32 {
	p, n := sp(uri)
	return hostResourceUpdated(p, n)
}

// rawTake fetches and releases the bytes the host holds.
func rawTake() []byte {
	n := hostResponseLen()
	if n <= 0 {
		return nil
	}
	buf := make([]byte, n)
	got := hostResponse(unsafe.Pointer(&buf[0]), uint32(n))
	return buf[:got]
}

// Run serves one call over stdin and stdout (the command model). In a
// reactor (-buildmode=c-shared) main never runs and the host calls
// wasmgate_call instead.
func Run() {
	if err := Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		os.Stderr.WriteString("writing the result: " + err.Error() + "\n")
		os.Exit(1)
	}
}

// wasmgateCall is the reactor's entry point (abi/ABI.md section 1): one
// call, envelope on stdin, result on stdout, like a command's _start.
//
//go:wasmexport wasmgate_call
func wasmgateCall() { Run() }

// wasmgateWarmup is the reactor's warm-up (abi/ABI.md, Snapshots): run
// once after _initialize, before the snapshot each call starts from.
//
//go:wasmexport wasmgate_warmup
func wasmgateWarmup() { WarmUp() }
