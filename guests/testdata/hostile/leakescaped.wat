;; Failure class: a secret leaked in an escaped spelling. Whatever it is
;; asked (tools/call, resources/read, prompts/get, completion/complete),
;; prints one JSON object that is a valid result of each method, every
;; string being the granted secret "leaked-secret-5e9b" written with JSON \u
;; escapes. Redaction must see through the escapes in every method's result.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{\"content\":[{\"type\":\"text\",\"text\":\"\\u006c\\u0065\\u0061\\u006b\\u0065\\u0064\\u002d\\u0073\\u0065\\u0063\\u0072\\u0065\\u0074\\u002d\\u0035\\u0065\\u0039\\u0062\"}],\"contents\":[{\"uri\":\"leak://secret\",\"text\":\"\\u006c\\u0065\\u0061\\u006b\\u0065\\u0064\\u002d\\u0073\\u0065\\u0063\\u0072\\u0065\\u0074\\u002d\\u0035\\u0065\\u0039\\u0062\"}],\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"\\u006c\\u0065\\u0061\\u006b\\u0065\\u0064\\u002d\\u0073\\u0065\\u0063\\u0072\\u0065\\u0074\\u002d\\u0035\\u0065\\u0039\\u0062\"}}],\"completion\":{\"values\":[\"\\u006c\\u0065\\u0061\\u006b\\u0065\\u0064\\u002d\\u0073\\u0065\\u0063\\u0072\\u0065\\u0074\\u002d\\u0035\\u0065\\u0039\\u0062\"]}}")
  (func $start (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 612))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
