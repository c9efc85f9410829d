;; Compute-bound benchmark guest: recursive fib(27) plus a tight loop of 2e7
;; iterations, so the cost of interrupt checks at calls and loops shows.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "_start")
    (local $i i32) (local $acc i32)
    (global.set $sink (call $fib (i32.const 27)))
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 20000000))))
    (global.set $sink (i32.add (global.get $sink) (local.get $acc)))))
