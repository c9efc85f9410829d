;; A reactor whose initialisation calls a host function (log): it cannot be
;; snapshotted, so each call runs _initialize, and logs, again.
(module
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "initialising")
  (data (i32.const 200) "{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}")
  (func (export "_initialize")
    (call $log (i32.const 1) (i32.const 100) (i32.const 12)))
  (func (export "wasmgate_call")
    (i32.store (i32.const 0) (i32.const 200))
    (i32.store (i32.const 4) (i32.const 41))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
