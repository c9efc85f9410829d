;; Failure class: memory exhaustion through tables in one step: table.grow
;; by 2^32-16 elements (32 GiB of references), then by 2^27. Each must fail
;; with -1, not allocate; the guest then traps.
(module
  (memory (export "memory") 1)
  (table $t 0 funcref)
  (func $start (export "_start")
    (if (i32.ne (table.grow $t (ref.null func) (i32.const -16)) (i32.const -1))
      (then unreachable))
    (if (i32.ne (table.grow $t (ref.null func) (i32.const 134217728)) (i32.const -1))
      (then unreachable))
    unreachable))
