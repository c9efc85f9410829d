;; A reactor (ABI.md section 1, Reactors): _initialize sets $ready and
;; wasmgate_call answers "reactor ready" only if it ran first. It also
;; exports a _start answering "command", which must not run: a module with
;; _initialize and wasmgate_call is a reactor. The "trap" tool makes
;; wasmgate_call trap after it read the envelope, the "spin" tool loop
;; forever (to be stopped at the deadline).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $ready (mut i32) (i32.const 0))
  (data (i32.const 0) "reactor ready")
  (data (i32.const 16) "command")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 200) (local.get $ptr))
    (i32.store (i32.const 204) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 208))))
  (func $initialize (export "_initialize")
    (global.set $ready (i32.add (global.get $ready) (i32.const 1))))
  (func $wasmgate_call (export "wasmgate_call")
    ;; read the envelope (up to 1 KiB) into 1024
    (i32.store (i32.const 300) (i32.const 1024))
    (i32.store (i32.const 304) (i32.const 1024))
    (drop (call $fd_read (i32.const 0) (i32.const 300) (i32.const 1) (i32.const 308)))
    (if (i32.ne (global.get $ready) (i32.const 1)) (then (call $exit (i32.const 3))))
    (if (call $has (i32.const 0x70617274)) (then unreachable)) ;; "trap"
    (if (call $has (i32.const 0x6e697073)) (then (loop $forever (br $forever)))) ;; "spin"
    (call $print (i32.const 0) (i32.const 13)))
  ;; $has reports whether the envelope holds the 4 bytes of $word.
  (func $has (param $word i32) (result i32)
    (local $i i32) (local $end i32)
    (local.set $i (i32.const 1024))
    (local.set $end (i32.add (i32.const 1024) (i32.load (i32.const 308))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (if (i32.eq (i32.load (local.get $i)) (local.get $word))
          (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (func (export "_start")
    (call $print (i32.const 16) (i32.const 7))))
