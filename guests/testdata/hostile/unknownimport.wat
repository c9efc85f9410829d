;; Failure class: load failure. Imports a host function that does not exist,
;; so the module cannot be instantiated.
(module
  (import "wasmgate" "no_such_function" (func $missing))
  (memory (export "memory") 1)
  (func $start (export "_start")
    (call $missing)))
