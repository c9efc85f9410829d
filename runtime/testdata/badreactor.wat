;; A reactor whose wasmgate_call takes a parameter: refused at load.
(module
  (memory (export "memory") 1)
  (func (export "_initialize"))
  (func (export "wasmgate_call") (param i32)))
