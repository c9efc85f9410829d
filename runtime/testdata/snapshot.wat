;; A reactor whose calls show what state they start from (ABI.md,
;; Snapshots). _initialize counts itself in $inits, copies a marker into
;; memory, draws 8 random bytes and reads the environment; wasmgate_warmup
;; sets $warm. The "state" tool reports all of it, checks that memory is
;; one page, grows it by one and checks that everything above 4096 is zero,
;; then dirties everything it can: every byte of memory (0xAA) and the
;; globals. A call that
;; started from anything but a clean snapshot (or a clean initialisation)
;; reports it.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $inits (mut i32) (i32.const 0))
  (global $warm (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 3072))
  (data (i32.const 3800) "initialised!")
  (data (i32.const 3820) "{\"content\":[{\"type\":\"text\",\"text\":\"")
  (data (i32.const 3860) "\"}]}")
  (data (i32.const 3880) "0123456789abcdef")

  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (memory.copy (i32.const 16) (i32.const 3800) (i32.const 12))
    (drop (call $random_get (i32.const 64) (i32.const 8)))
    ;; environ: count at 84, size at 80 (at most 1 KiB, 16 entries)
    (drop (call $environ_sizes_get (i32.const 84) (i32.const 80)))
    (if (i32.and (i32.le_u (i32.load (i32.const 80)) (i32.const 1024))
                 (i32.le_u (i32.load (i32.const 84)) (i32.const 16)))
      (then (drop (call $environ_get (i32.const 960) (i32.const 1024))))
      (else (i32.store (i32.const 80) (i32.const 0)))))

  (func (export "wasmgate_warmup")
    (global.set $warm (i32.const 1)))

  (func $emit (param $ptr i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $ptr) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))
  (func $emitByte (param $b i32)
    (i32.store8 (global.get $out) (local.get $b))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))
  (func $emitDigit (param $n i32)
    (call $emitByte (i32.add (i32.const 48) (local.get $n))))
  (func $label (param $a i32) (param $b i32) (param $c i32) (param $d i32)
    (call $emitByte (i32.const 32))
    (call $emitByte (local.get $a)) (call $emitByte (local.get $b))
    (call $emitByte (local.get $c)) (call $emitByte (local.get $d))
    (call $emitByte (i32.const 61)))

  ;; $clean reports whether memory from 4096 to its end is all zero.
  (func $clean (result i32)
    (local $i i32) (local $end i32)
    (local.set $i (i32.const 4096))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i64.ne (i64.load (local.get $i)) (i64.const 0)) (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
    (i32.const 1))

  (func (export "wasmgate_call")
    (local $i i32) (local $b i32) (local $pages i32)
    (global.set $out (i32.const 3072))
    ;; a page more, which must be zero like the rest
    (local.set $pages (memory.size))
    (drop (memory.grow (i32.const 1)))
    ;; read the envelope (not needed beyond draining stdin)
    (i32.store (i32.const 0) (i32.const 2048))
    (i32.store (i32.const 4) (i32.const 1024))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $emit (i32.const 3820) (i32.const 35))
    (call $emitByte (i32.const 109)) (call $emitByte (i32.const 97)) ;; mark=<12 bytes>
    (call $emitByte (i32.const 114)) (call $emitByte (i32.const 107))
    (call $emitByte (i32.const 61))
    (call $emit (i32.const 16) (i32.const 12))
    (call $label (i32.const 105) (i32.const 110) (i32.const 105) (i32.const 116)) ;; init=
    (call $emitDigit (i32.rem_u (global.get $inits) (i32.const 10)))
    (call $label (i32.const 119) (i32.const 97) (i32.const 114) (i32.const 109)) ;; warm=
    (call $emitDigit (i32.rem_u (global.get $warm) (i32.const 10)))
    (call $label (i32.const 112) (i32.const 97) (i32.const 103) (i32.const 101)) ;; page=
    (call $emitDigit (i32.rem_u (local.get $pages) (i32.const 10)))
    (call $label (i32.const 122) (i32.const 101) (i32.const 114) (i32.const 111)) ;; zero=
    (call $emitDigit (call $clean))
    (call $label (i32.const 115) (i32.const 101) (i32.const 101) (i32.const 100)) ;; seed=
    (local.set $i (i32.const 64))
    (loop $hex
      (local.set $b (i32.load8_u (local.get $i)))
      (call $emitByte (i32.load8_u (i32.add (i32.const 3880) (i32.shr_u (local.get $b) (i32.const 4)))))
      (call $emitByte (i32.load8_u (i32.add (i32.const 3880) (i32.and (local.get $b) (i32.const 15)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $hex (i32.lt_u (local.get $i) (i32.const 72))))
    (call $label (i32.const 101) (i32.const 110) (i32.const 118) (i32.const 115)) ;; envs=
    ;; the environment's strings, each NUL as ';'
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 80))))
        (local.set $b (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
        (if (i32.eqz (local.get $b)) (then (local.set $b (i32.const 59))))
        (call $emitByte (local.get $b))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $emit (i32.const 3860) (i32.const 4))
    (i32.store (i32.const 0) (i32.const 3072))
    (i32.store (i32.const 4) (i32.sub (global.get $out) (i32.const 3072)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; dirty everything for the next call to find, if it could
    (memory.fill (i32.const 0) (i32.const 0xAA) (i32.mul (memory.size) (i32.const 65536)))
    (global.set $inits (i32.const 7))
    (global.set $warm (i32.const 7))))
