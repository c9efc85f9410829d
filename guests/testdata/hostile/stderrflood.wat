;; Failure class: unbounded stderr. Writes 64 KiB chunks to fd 2 forever,
;; ignoring any error fd_write returns.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; page 0: iovec at 0, nwritten at 8; page 1: the 64 KiB chunk.
  (memory (export "memory") 2)
  (func $start (export "_start")
    (local $i i32)
    ;; fill the chunk at 65536 with 'x' (0x78)
    (local.set $i (i32.const 65536))
    (loop $fill
      (i64.store (local.get $i) (i64.const 0x7878787878787878))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 131072))))
    (i32.store (i32.const 0) (i32.const 65536)) ;; iov.buf
    (i32.store (i32.const 4) (i32.const 65536)) ;; iov.len
    (loop $forever
      (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $forever))))
