;; MCP front-end test: answers with its environment ("NAME=VALUE", NUL
;; separated), so tests can see what the operator's grants gave it.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; 0: iovec, 8: nwritten, 16: count, 20: size, 1024..: pointers, 8192..: strings
  (memory (export "memory") 1)
  (data (i32.const 64) "(empty)")
  (func $start (export "_start")
    (drop (call $environ_sizes_get (i32.const 16) (i32.const 20)))
    (if (i32.or (i32.gt_u (i32.load (i32.const 16)) (i32.const 1024))
                (i32.gt_u (i32.load (i32.const 20)) (i32.const 57344)))
      (then (unreachable)))
    (drop (call $environ_get (i32.const 1024) (i32.const 8192)))
    (i32.store (i32.const 0) (i32.const 8192))
    (i32.store (i32.const 4) (i32.load (i32.const 20)))
    (if (i32.eqz (i32.load (i32.const 20)))
      (then
        (i32.store (i32.const 0) (i32.const 64))
        (i32.store (i32.const 4) (i32.const 7))))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
