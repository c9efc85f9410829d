;; MCP front-end test: copies its stdin (the call envelope) to stdout
;; unchanged. The envelope is a JSON object without content,
;; structuredContent or isError, so it comes back as one text item: tests
;; read exactly what the guest was given (arguments after defaults, _meta).
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; 0: iovec, 8: nread/nwritten; the envelope is read to 1024..(1024+$len)
  (memory (export "memory") 4)
  (func $start (export "_start")
    (local $len i32)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $len))) ;; iov.buf
        (i32.store (i32.const 4) (i32.sub (i32.const 261120) (local.get $len))) ;; iov.len: up to 255 KiB
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $len (i32.add (local.get $len) (i32.load (i32.const 8))))
        (br_if $eof (i32.ge_u (local.get $len) (i32.const 261120)))
        (br $read)))
    (i32.store (i32.const 0) (i32.const 1024))  ;; iov.buf
    (i32.store (i32.const 4) (local.get $len))  ;; iov.len
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
