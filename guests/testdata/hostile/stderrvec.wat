;; Failure class: CPU exhaustion inside a host function: one fd_write to
;; stderr with 1M iovecs, each pointing at the same 4 MiB, in a loop. A
;; single fd_write is 4 TiB of bytes to take in.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 192)
  (func $start (export "_start")
    (local $i i32)
    ;; iovecs at 4 MiB: {buf 0, len 4 MiB} x 1M (8 MiB of iovecs)
    (loop $fill
      (i32.store (i32.add (i32.const 4194304) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0))
      (i32.store (i32.add (i32.const 4194308) (i32.shl (local.get $i) (i32.const 3))) (i32.const 4194304))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1048576))))
    (loop $forever
      (drop (call $fd_write (i32.const 2) (i32.const 4194304) (i32.const 1048576) (i32.const 16)))
      (br $forever))))
