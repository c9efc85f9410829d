;; Failure class: host function misuse. Passes wasmgate.log a pointer/length
;; (0xFFFFFF00, 4096) that lies outside guest memory.
(module
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func $start (export "_start")
    (call $log (i32.const 1) (i32.const 0xFFFFFF00) (i32.const 4096))))
