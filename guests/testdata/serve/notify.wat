;; MCP front-end test: reports progress three times and logs at three levels,
;; then answers "done". Checks that wasmgate.progress and wasmgate.log reach
;; the client as notifications.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  (import "wasmgate" "progress" (func $progress (param f64 f64 i32 i32)))
  ;; 0: iovec, 8: nwritten, 64..: messages
  (memory (export "memory") 1)
  (data (i32.const 64) "step 1")
  (data (i32.const 72) "step 2")
  (data (i32.const 80) "step 3")
  (data (i32.const 96) "notify: debug")
  (data (i32.const 112) "notify: info")
  (data (i32.const 128) "notify: warning")
  (data (i32.const 256) "{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}")
  (func $start (export "_start")
    (call $log (i32.const 0) (i32.const 96) (i32.const 13))
    (call $progress (f64.const 1) (f64.const 3) (i32.const 64) (i32.const 6))
    (call $progress (f64.const 2) (f64.const 3) (i32.const 72) (i32.const 6))
    (call $progress (f64.const 3) (f64.const 3) (i32.const 80) (i32.const 6))
    (call $log (i32.const 1) (i32.const 112) (i32.const 12))
    (call $log (i32.const 3) (i32.const 128) (i32.const 15))
    (i32.store (i32.const 0) (i32.const 256)) ;; iov.buf
    (i32.store (i32.const 4) (i32.const 43))  ;; iov.len
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
