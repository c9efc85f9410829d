;; Failure class: CPU exhaustion. _start spins forever and never returns.
(module
  (memory (export "memory") 1)
  (func $start (export "_start")
    (loop $forever
      (br $forever))))
