;; The guest of the toy capability that capability/toy_test.go registers:
;; its tool "ping" calls the toy's host function toy_ping("ping") and
;; writes the response it holds, a tools/call result, to stdout. When
;; toy_ping fails (denied without the grant) it exits with code 3.
(module
  (import "wasmgate" "toy_ping" (func $ping (param i32 i32) (result i32)))
  (import "wasmgate" "response" (func $response (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ping")
  (func (export "_start")
    (local $n i32)
    (local.set $n (call $ping (i32.const 0) (i32.const 4)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $exit (i32.const 3))))
    (local.set $n (call $response (i32.const 1024) (local.get $n)))
    ;; iovec at 200: {ptr 1024, len n}
    (i32.store (i32.const 200) (i32.const 1024))
    (i32.store (i32.const 204) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 300)))))
