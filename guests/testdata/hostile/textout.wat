;; Failure class: none (non-JSON output path). Prints plain text, which the
;; host must wrap as a single text content item.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from wat\n")
  (func $start (export "_start")
    (i32.store (i32.const 0) (i32.const 64)) ;; iov.buf
    (i32.store (i32.const 4) (i32.const 15)) ;; iov.len
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
