;; Failure class: CPU exhaustion inside a host function: random_get over
;; 12 MiB, in a loop. One call of random_get does not return to the guest's
;; fuel checks; the host must bound it.
(module
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 192)
  (func $start (export "_start")
    (loop $forever
      (drop (call $random_get (i32.const 0) (i32.const 12582912)))
      (br $forever))))
