;; Failure class: CPU exhaustion through bulk instructions, unrolled by
;; recursion instead of a loop: $copy copies 6 MiB twice and calls itself.
;; There is no loop at all, and the recursion depth grows by one frame per
;; 12 MiB copied, so the stack lasts far longer than any time limit.
(module
  (memory (export "memory") 192)
  (func $copy
    (memory.copy (i32.const 6291456) (i32.const 0) (i32.const 6291456))
    (memory.copy (i32.const 0) (i32.const 6291456) (i32.const 6291456))
    (call $copy))
  (func $start (export "_start")
    (loop $forever
      (call $copy)
      (br $forever))))
