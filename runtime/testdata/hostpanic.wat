;; Calls a host function that panics: the runtime must report an internal
;; error and keep serving.
(module
  (import "wasmgate" "test_panic" (func $panic))
  (memory (export "memory") 1)
  (func (export "_start") (call $panic)))
