;; Failure class: descriptor exhaustion. Opens /data/a.txt (a read-only
;; mount) again and again without closing until an open fails, then asks
;; the client a question (elicit), which holds every descriptor for as long
;; as the client takes to answer, and reports how many opens succeeded and
;; the errno of the first that failed: "opened N files, then errno E".
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate" "elicit" (func $elicit (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: the opened fd; 8: iovec; 16: nwritten
  (data (i32.const 32) "a.txt")
  (data (i32.const 64) "{\"message\":\"holding the files\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{}}}")
  (data (i32.const 192) "opened ")
  (data (i32.const 208) " files, then errno ")
  (func $start (export "_start")
    (local $n i32) (local $errno i32) (local $p i32)
    (block $failed
      (loop $open
        ;; dirfd 3 (/data), follow links, path, no oflags, rights fd_read
        (local.set $errno
          (call $path_open (i32.const 3) (i32.const 1) (i32.const 32) (i32.const 5)
            (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
        (br_if $failed (local.get $errno))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $open)))
    (drop (call $elicit (i32.const 64) (i32.const 83)))
    (local.set $p (call $copy (i32.const 192) (i32.const 7) (i32.const 1024)))
    (local.set $p (call $itoa (local.get $n) (local.get $p)))
    (local.set $p (call $copy (i32.const 208) (i32.const 19) (local.get $p)))
    (local.set $p (call $itoa (local.get $errno) (local.get $p)))
    (i32.store (i32.const 8) (i32.const 1024))
    (i32.store (i32.const 12) (i32.sub (local.get $p) (i32.const 1024)))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16))))
  ;; copy copies len bytes from src to dst and returns dst+len.
  (func $copy (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (block $done
      (loop $byte
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $byte)))
    (local.get $dst))
  ;; itoa writes n in decimal at p and returns the address after it.
  (func $itoa (param $n i32) (param $p i32) (result i32)
    (local $q i32) (local $end i32)
    (local.set $q (local.get $n))
    (local.set $end (local.get $p))
    (loop $count
      (local.set $end (i32.add (local.get $end) (i32.const 1)))
      (local.set $q (i32.div_u (local.get $q) (i32.const 10)))
      (br_if $count (local.get $q)))
    (local.set $q (local.get $end))
    (loop $digit
      (local.set $q (i32.sub (local.get $q) (i32.const 1)))
      (i32.store8 (local.get $q) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (i32.gt_u (local.get $q) (local.get $p))))
    (local.get $end)))
