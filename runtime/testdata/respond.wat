;; Exercises the request/response convention: sends "ping" to the test host
;; function test_upper, reads the held response with response_len/response
;; and writes it to stdout.
(module
  (import "wasmgate" "test_upper" (func $upper (param i32 i32) (result i32)))
  (import "wasmgate" "response_len" (func $response_len (result i32)))
  (import "wasmgate" "response" (func $response (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ping")
  (func (export "_start")
    (local $n i32) (local $got i32)
    (local.set $n (call $upper (i32.const 0) (i32.const 4)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $exit (i32.const 10))))
    (if (i32.ne (call $response_len) (local.get $n)) (then (call $exit (i32.const 11))))
    ;; read in two parts to check partial reads
    (local.set $got (call $response (i32.const 100) (i32.const 2)))
    (local.set $got (i32.add (local.get $got) (call $response (i32.const 102) (i32.const 100))))
    (if (i32.ne (local.get $got) (local.get $n)) (then (call $exit (i32.const 12))))
    (if (i32.ne (call $response_len) (i32.const 0)) (then (call $exit (i32.const 13))))
    ;; iovec at 200: {ptr 100, len n}
    (i32.store (i32.const 200) (i32.const 100))
    (i32.store (i32.const 204) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 300)))))
