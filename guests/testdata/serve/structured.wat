;; MCP front-end test: three tools that each return a different kind of
;; result for a tool with an outputSchema. The tool name starts at byte 41
;; of the envelope ({"method":"tools/call","params":{"name":"...):
;;   good    -> structuredContent that matches the schema, no content
;;   bad     -> structuredContent that does not match the schema
;;   missing -> text content only, no structuredContent
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  ;; 0: iovec, 8: nread/nwritten, 64..: answers, 4096..: the envelope
  (memory (export "memory") 2)
  (data (i32.const 64) "{\"structuredContent\":{\"n\":1,\"s\":\"x\"}}")
  (data (i32.const 128) "{\"structuredContent\":{\"n\":\"one\"}}")
  (data (i32.const 192) "{\"content\":[{\"type\":\"text\",\"text\":\"no structure\"}]}")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $start (export "_start")
    (local $len i32)
    (local $c i32)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.add (i32.const 4096) (local.get $len)))
        (i32.store (i32.const 4) (i32.sub (i32.const 61440) (local.get $len)))
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $len (i32.add (local.get $len) (i32.load (i32.const 8))))
        (br_if $eof (i32.ge_u (local.get $len) (i32.const 61440)))
        (br $read)))
    (local.set $c (i32.load8_u (i32.const 4137))) ;; 4096 + 41
    (if (i32.eq (local.get $c) (i32.const 103)) ;; 'g'
      (then (call $write (i32.const 64) (i32.const 37)) (return)))
    (if (i32.eq (local.get $c) (i32.const 98)) ;; 'b'
      (then (call $write (i32.const 128) (i32.const 33)) (return)))
    (call $write (i32.const 192) (i32.const 51))))
