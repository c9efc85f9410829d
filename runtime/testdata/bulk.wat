;; Bulk memory and table instructions in functions with parameters and
;; locals, which the instrumenter charges through a scratch local of its
;; own: the result proves their semantics are unchanged. Prints the text
;; "aaaaa0123456789aaa7".
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 2 funcref)
  (data $digits "0123456789")
  (data (i32.const 1024) "{\"content\":[{\"type\":\"text\",\"text\":\"")
  (data (i32.const 2048) "\"}]}")
  ;; aaaaa (fill) 0123456789 (init) aaa (copy); returns the length written.
  (func $build (param $dst i32) (param $n i32) (result i32)
    (local $k i32) (local $unused i64)
    (local.set $k (i32.add (local.get $dst) (local.get $n)))
    (memory.fill (local.get $dst) (i32.const 97) (local.get $n))
    (memory.init $digits (local.get $k) (i32.const 0) (i32.const 10))
    (memory.copy (i32.add (local.get $k) (i32.const 10)) (local.get $dst) (i32.const 3))
    (i32.add (local.get $n) (i32.const 13)))
  ;; grows the table from 2 to 5 (table.grow returns 2), fills it: 2 + 5.
  (func $tables (result i32)
    (local $old i32)
    (local.set $old (table.grow $t (ref.null func) (i32.const 3)))
    (table.fill $t (i32.const 0) (ref.null func) (table.size $t))
    (table.copy $t $t (i32.const 0) (i32.const 1) (i32.const 2))
    (i32.add (local.get $old) (table.size $t)))
  (func $start (export "_start")
    (local $end i32)
    (local.set $end (i32.add (i32.const 1059) (call $build (i32.const 1059) (i32.const 5))))
    (i32.store8 (local.get $end) (i32.add (i32.const 48) (call $tables)))
    (memory.copy (i32.add (local.get $end) (i32.const 1)) (i32.const 2048) (i32.const 4))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.sub (i32.add (local.get $end) (i32.const 5)) (i32.const 1024)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
