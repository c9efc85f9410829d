;; Failure class: CPU exhaustion through table instructions: table.fill over
;; a table of 1M elements (8 MiB), unrolled, forever.
(module
  (memory (export "memory") 1)
  (table $t 1048576 funcref)
  (func $fill
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576))
    (table.fill $t (i32.const 0) (ref.null func) (i32.const 1048576)))
  (func $start (export "_start")
    (loop $forever
      (call $fill)
      (br $forever))))
