;; Failure class: blocking host call. poll_oneoff with one relative
;; monotonic-clock subscription of 1 hour; only a deadline can end it.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $start (export "_start")
    ;; subscription (48 bytes) at 0: userdata@0, tag@8 = 0 (clock),
    ;; clock id@16 = 1 (monotonic), timeout@24 (ns), precision@32, flags@40 = 0 (relative)
    (i64.store (i32.const 0) (i64.const 1))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 3600000000000))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    ;; event (32 bytes) at 64, nevents at 128
    (drop (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))))
