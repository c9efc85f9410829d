;; Failure class: memory exhaustion through tables. Grows a table by 1M
;; elements (8 MiB) at a time until table.grow fails, then traps: tables
;; count against the call's memory limit.
(module
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func $start (export "_start")
    (loop $grow
      (br_if $grow (i32.ne (table.grow $t (ref.null func) (i32.const 1048576)) (i32.const -1))))
    unreachable))
