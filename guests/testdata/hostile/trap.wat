;; Failure class: guest trap. $boom executes unreachable; built with
;; --debug-names so the trap's stack trace names $boom.
(module
  (memory (export "memory") 1)
  (func $boom
    (unreachable))
  (func $start (export "_start")
    (call $boom)))
