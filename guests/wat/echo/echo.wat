;; A well-behaved WAT tool (no failure class): reads all of stdin, logs
;; "echo called" at info level and prints a valid CallToolResult.
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  ;; 0: iovec, 8: nread/nwritten, 64: messages, 4096..65535: read scratch buffer
  (memory (export "memory") 1)
  (data (i32.const 64) "echo called")
  (data (i32.const 128) "{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}]}")
  (func $start (export "_start")
    ;; drain stdin until EOF (nread == 0) or an error
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 4096))  ;; iov.buf
        (i32.store (i32.const 4) (i32.const 61440)) ;; iov.len
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (br $read)))
    (call $log (i32.const 1) (i32.const 64) (i32.const 11))
    (i32.store (i32.const 0) (i32.const 128)) ;; iov.buf
    (i32.store (i32.const 4) (i32.const 41))  ;; iov.len
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
