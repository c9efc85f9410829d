;; Imports the runtime's internal yield function itself: must fail to load.
(module
  (import "wasmgate.runtime" "yield" (func $yield (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $yield))))
