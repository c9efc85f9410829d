;; Failure class: memory exhaustion by growth. Grows memory one page at a
;; time until memory.grow fails (returns -1), then traps with unreachable.
(module
  (memory (export "memory") 1)
  (func $start (export "_start")
    (loop $grow
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
        (then (unreachable)))
      (br $grow))))
