;; Failure class: malformed result. Prints a JSON object that is not a valid
;; CallToolResult (content is not an array) and exits normally.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{\"content\":\"not an array\"}")
  (func $start (export "_start")
    (i32.store (i32.const 0) (i32.const 64)) ;; iov.buf
    (i32.store (i32.const 4) (i32.const 26)) ;; iov.len
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
