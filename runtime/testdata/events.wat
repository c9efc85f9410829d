;; Reports progress three times, then logs 1500 messages: the runtime must
;; deliver the first ones and drop the rest past its per-call bound.
(module
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  (import "wasmgate" "progress" (func $progress (param f64 f64 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "step")
  (data (i32.const 16) "hello")
  (func (export "_start")
    (local $i i32)
    (call $progress (f64.const 1) (f64.const 3) (i32.const 0) (i32.const 4))
    (call $progress (f64.const 2) (f64.const 3) (i32.const 0) (i32.const 4))
    (call $progress (f64.const 3) (f64.const 3) (i32.const 0) (i32.const 0))
    (loop $more
      (call $log (i32.rem_u (local.get $i) (i32.const 8)) (i32.const 16) (i32.const 5))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 1500))))))
