;; Failure class: memory exhaustion through a declared table minimum of 2^27
;; elements (1 GiB of references), allocated at instantiation before any
;; guest code runs.
(module
  (memory (export "memory") 1)
  (table $t 134217728 funcref)
  (func $start (export "_start")))
