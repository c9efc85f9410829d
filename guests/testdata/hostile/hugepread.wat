;; Failure class: a long host call. Makes /data/sparse.bin (a writable
;; mount) a 64 GiB file of holes, then one fd_pread into 4,096 iovecs of
;; 16 MiB each (all of memory below 16 MiB): 64 GiB of zeros inside a single
;; host call, where the interrupt checks of loops and calls never run. Then
;; it tries to create /data/after.txt, which must fail once the call is past
;; its deadline, and loops forever.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size"
    (func $set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread"
    (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  ;; 0 to 16 MiB: read into; page 256: the iovecs (32 KiB), then the names
  (memory (export "memory") 257)
  (data (i32.const 0x1008000) "sparse.bin")
  (data (i32.const 0x1008010) "after.txt")
  (func $start (export "_start")
    (local $i i32) (local $fd i32)
    ;; O_CREAT|O_TRUNC, rights fd_read|fd_write; the fd at 0x1008040
    (if (call $path_open (i32.const 3) (i32.const 1) (i32.const 0x1008000) (i32.const 10)
          (i32.const 9) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 0x1008040))
      (then (unreachable)))
    (local.set $fd (i32.load (i32.const 0x1008040)))
    (if (call $set_size (local.get $fd) (i64.const 0x1000000000))
      (then (unreachable)))
    (loop $fill
      (i32.store (i32.add (i32.const 0x1000000) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0))
      (i32.store (i32.add (i32.const 0x1000004) (i32.shl (local.get $i) (i32.const 3))) (i32.const 0x1000000))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 4096))))
    (drop (call $fd_pread (local.get $fd) (i32.const 0x1000000) (i32.const 4096) (i64.const 0) (i32.const 0x1008044)))
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 0x1008010) (i32.const 9)
      (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 0x1008048)))
    (loop $forever
      (br $forever))))
