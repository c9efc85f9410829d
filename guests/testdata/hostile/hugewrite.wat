;; Failure class: a long host call. One fd_write to a file on a writable
;; mount (/data/big.out) with 1,048,576 iovecs of 4 KiB each: 4 GiB and a
;; million writes inside a single host call, where the interrupt checks of
;; loops and calls never run. Then it tries to create /data/after.txt, which
;; must fail once the call is past its deadline, and loops forever.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; page 0: what is written (4 KiB at 0) and the names; 1 MiB to 9 MiB: the iovecs
  (memory (export "memory") 160)
  (data (i32.const 8192) "big.out")
  (data (i32.const 8208) "after.txt")
  (func $start (export "_start")
    (local $i i32)
    ;; O_CREAT|O_TRUNC, rights fd_write; the fd at 8240
    (if (call $path_open (i32.const 3) (i32.const 1) (i32.const 8192) (i32.const 7)
          (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8240))
      (then (unreachable)))
    (loop $fill
      (i32.store (i32.add (i32.const 0x100000) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0))
      (i32.store (i32.add (i32.const 0x100004) (i32.shl (local.get $i) (i32.const 3))) (i32.const 4096))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 1048576))))
    (drop (call $fd_write (i32.load (i32.const 8240)) (i32.const 0x100000) (i32.const 1048576) (i32.const 8244)))
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 8208) (i32.const 9)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8248)))
    (loop $forever
      (br $forever))))
