;; Failure class: stack overflow. $recurse calls itself with no base case.
(module
  (memory (export "memory") 1)
  (func $recurse (param $depth i32) (result i32)
    (i32.add
      (call $recurse (i32.add (local.get $depth) (i32.const 1)))
      (i32.const 1)))
  (func $start (export "_start")
    (drop (call $recurse (i32.const 0)))))
