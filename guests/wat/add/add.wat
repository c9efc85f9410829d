;; add: adds two integers, and keeps a running total in the module's
;; key-value store when the operator grants one.
;;
;; This module is the raw guest ABI (abi/ABI.md) written out by hand, as a
;; walk-through for anyone porting wasmgate to a language without an SDK:
;;
;;   1. read the call envelope: all of stdin, one JSON object
;;        {"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":3}}}
;;   2. find the arguments (a tiny scan: after "arguments", the keys "a"
;;      and "b", each followed by a JSON integer);
;;   3. call request-style host functions with the response convention:
;;      kv_get returns a status; >= 0 means the host holds that many bytes
;;      of value, < 0 an error code with a held UTF-8 message; either way
;;      response_len/response fetch what is held;
;;   4. write one CallToolResult to stdout and return from _start (exit 0).
;;
;; Tool errors the model should see are results with "isError": true, not
;; traps or exit codes.
(module
  ;; ---- imports: WASI for stdin/stdout, wasmgate for the host functions ----
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasmgate" "log" (func $log (param i32 i32 i32)))
  (import "wasmgate" "response_len" (func $response_len (result i32)))
  (import "wasmgate" "response" (func $response (param i32 i32) (result i32)))
  (import "wasmgate" "kv_get" (func $kv_get (param i32 i32) (result i32)))
  (import "wasmgate" "kv_set" (func $kv_set (param i32 i32 i32 i32) (result i32)))

  ;; ---- memory layout (2 pages, 128 KiB) ----
  ;;      0  iovec {buf, len} and the nread/nwritten count
  ;;     64  constant strings (data segments below)
  ;;   2048  number formatting scratch (32 bytes)
  ;;   4096  the output being built (up to 4 KiB)
  ;;   8192  what the host hands back through response (up to 4 KiB)
  ;;  65536  stdin (up to 64 KiB)
  (memory (export "memory") 2)

  (data (i32.const 64)  "\"arguments\"")                                 ;; 11 bytes
  (data (i32.const 80)  "\"a\"")                                         ;; 3
  (data (i32.const 84)  "\"b\"")                                         ;; 3
  (data (i32.const 88)  "total")                                         ;; 5: the kv key
  (data (i32.const 96)  "{\"content\":[{\"type\":\"text\",\"text\":\"")  ;; 35
  (data (i32.const 144) "\"}],\"structuredContent\":{\"sum\":")          ;; 31
  (data (i32.const 192) ",\"total\":")                                   ;; 9
  (data (i32.const 208) "}}")                                            ;; 2
  (data (i32.const 224) "{\"content\":[{\"type\":\"text\",\"text\":\"arguments a and b must be integers of at most 18 digits\"}],\"isError\":true}") ;; 109
  (data (i32.const 352) "add: running total unavailable: ")              ;; 32

  (global $out_len (mut i32) (i32.const 0)) ;; bytes built at 4096
  (global $bad (mut i32) (i32.const 0))     ;; set by $parse_int on malformed input

  ;; Step 1: read all of stdin to 65536; returns its length.
  (func $read_all (result i32)
    (local $len i32)
    (block $eof
      (loop $more
        (br_if $eof (i32.ge_u (local.get $len) (i32.const 65536)))
        (i32.store (i32.const 0) (i32.add (i32.const 65536) (local.get $len)))
        (i32.store (i32.const 4) (i32.sub (i32.const 65536) (local.get $len)))
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $len (i32.add (local.get $len) (i32.load (i32.const 8))))
        (br $more)))
    (local.get $len))

  ;; $find returns the offset just after the first occurrence of
  ;; needle[0:n] in [from, end), or -1.
  (func $find (param $from i32) (param $end i32) (param $needle i32) (param $n i32) (result i32)
    (local $i i32)
    (block $none
      (loop $at
        (br_if $none (i32.gt_u (i32.add (local.get $from) (local.get $n)) (local.get $end)))
        (local.set $i (i32.const 0))
        (block $differ
          (loop $cmp
            (if (i32.eq (local.get $i) (local.get $n))
              (then (return (i32.add (local.get $from) (local.get $n)))))
            (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $from) (local.get $i)))
                                   (i32.load8_u (i32.add (local.get $needle) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $cmp)))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $at)))
    (i32.const -1))

  ;; $skip_ws returns the first offset at or after p that is not JSON
  ;; whitespace.
  (func $skip_ws (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (block $done
      (loop $ws
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.and (i32.ne (local.get $c) (i32.const 0x20))
                     (i32.and (i32.ne (local.get $c) (i32.const 0x0a))
                     (i32.and (i32.ne (local.get $c) (i32.const 0x0d))
                              (i32.ne (local.get $c) (i32.const 0x09))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $ws)))
    (local.get $p))

  ;; $parse_digits reads an optional '-' and 1 to 18 decimal digits at p;
  ;; sets $bad on anything else (a fraction or exponent included).
  (func $parse_digits (param $p i32) (param $end i32) (result i64)
    (local $neg i32) (local $v i64) (local $n i32) (local $c i32)
    (if (i32.and (i32.lt_u (local.get $p) (local.get $end))
                 (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2d)))
      (then (local.set $neg (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (block $done
      (loop $digit
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
        (br_if $done (i32.gt_u (local.get $c) (i32.const 9)))
        (local.set $v (i64.add (i64.mul (local.get $v) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 18)))
      (then (global.set $bad (i32.const 1))))
    ;; A '.', 'e' or 'E' right after the digits: not an integer.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (local.set $c (i32.or (i32.load8_u (local.get $p)) (i32.const 0x20)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 0x2e)) (i32.eq (local.get $c) (i32.const 0x65)))
          (then (global.set $bad (i32.const 1))))))
    (if (result i64) (local.get $neg)
      (then (i64.sub (i64.const 0) (local.get $v)))
      (else (local.get $v))))

  ;; Step 2: $arg finds the key (a 3-byte "x" at $key) after `from` and
  ;; parses the integer after its colon.
  (func $arg (param $from i32) (param $end i32) (param $key i32) (result i64)
    (local $p i32)
    (local.set $p (call $find (local.get $from) (local.get $end) (local.get $key) (i32.const 3)))
    (if (i32.lt_s (local.get $p) (i32.const 0))
      (then (global.set $bad (i32.const 1)) (return (i64.const 0))))
    (local.set $p (call $skip_ws (local.get $p) (local.get $end)))
    (if (i32.or (i32.ge_u (local.get $p) (local.get $end))
                (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x3a)))
      (then (global.set $bad (i32.const 1)) (return (i64.const 0))))
    (local.set $p (call $skip_ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
    (call $parse_digits (local.get $p) (local.get $end)))

  ;; $fmt writes v in decimal at 2048 and returns its length.
  (func $fmt (param $v i64) (result i32)
    (local $neg i32) (local $i i32) (local $n i32)
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then (local.set $neg (i32.const 1)) (local.set $v (i64.sub (i64.const 0) (local.get $v)))))
    ;; digits backwards from 2079
    (local.set $i (i32.const 2080))
    (loop $d
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $d (i64.ne (local.get $v) (i64.const 0))))
    (if (local.get $neg)
      (then (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (i32.store8 (local.get $i) (i32.const 0x2d))))
    (local.set $n (i32.sub (i32.const 2080) (local.get $i)))
    (memory.copy (i32.const 2048) (local.get $i) (local.get $n))
    (local.get $n))

  ;; $emit appends [p, p+n) to the output at 4096.
  (func $emit (param $p i32) (param $n i32)
    (memory.copy (i32.add (i32.const 4096) (global.get $out_len)) (local.get $p) (local.get $n))
    (global.set $out_len (i32.add (global.get $out_len) (local.get $n))))

  ;; $write writes [p, p+n) to stdout, looping over short writes.
  (func $write (param $p i32) (param $n i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store (i32.const 0) (local.get $p))
        (i32.store (i32.const 4) (local.get $n))
        (br_if $done (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (i32.eqz (i32.load (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.load (i32.const 8))))
        (local.set $n (i32.sub (local.get $n) (i32.load (i32.const 8))))
        (br $more))))

  ;; $take_response copies what the host holds to 8192 (at most 4 KiB; the
  ;; rest stays held until the next request-style call replaces it) and
  ;; returns the number of bytes copied.
  (func $take_response (result i32)
    (local $n i32)
    (local.set $n (call $response_len))
    (if (i32.gt_u (local.get $n) (i32.const 4096)) (then (local.set $n (i32.const 4096))))
    (call $response (i32.const 8192) (local.get $n)))

  ;; $log_failure logs, at warning level, our prefix and then the host's
  ;; error message, in two messages (no string concatenation needed).
  (func $log_failure
    (local $n i32)
    (local.set $n (call $take_response))
    (call $log (i32.const 3) (i32.const 352) (i32.const 32))
    (call $log (i32.const 3) (i32.const 8192) (local.get $n)))

  (func $start (export "_start")
    (local $end i32) (local $args i32) (local $sum i64)
    (local $status i32) (local $n i32) (local $total i64) (local $has_total i32)

    ;; 1. the envelope
    (local.set $end (i32.add (i32.const 65536) (call $read_all)))

    ;; 2. the arguments, searched for after "arguments"
    (local.set $args (call $find (i32.const 65536) (local.get $end) (i32.const 64) (i32.const 11)))
    (if (i32.lt_s (local.get $args) (i32.const 0)) (then (global.set $bad (i32.const 1))))
    (local.set $sum (i64.add (call $arg (local.get $args) (local.get $end) (i32.const 80))
                             (call $arg (local.get $args) (local.get $end) (i32.const 84))))
    (if (global.get $bad)
      (then (call $write (i32.const 224) (i32.const 109)) (return)))

    ;; 3. the running total: kv_get("total") with the response convention
    (local.set $status (call $kv_get (i32.const 88) (i32.const 5)))
    (if (i32.ge_s (local.get $status) (i32.const 0))
      (then
        ;; success: the host holds the value (status bytes of it)
        (local.set $n (call $take_response))
        (local.set $total (call $parse_digits (i32.const 8192) (i32.add (i32.const 8192) (local.get $n))))
        ;; a value we cannot read starts the total again
        (if (global.get $bad) (then (global.set $bad (i32.const 0)) (local.set $total (i64.const 0))))
        (local.set $has_total (i32.const 1)))
      (else
        (if (i32.eq (local.get $status) (i32.const -5)) ;; not_found: the first call
          (then (drop (call $take_response)) (local.set $has_total (i32.const 1)))
          ;; denied (no kv grant) or another error: the host holds a message
          (else (call $log_failure)))))
    (if (local.get $has_total)
      (then
        (local.set $total (i64.add (local.get $total) (local.get $sum)))
        ;; kv_set holds nothing on success and a message on failure
        (local.set $n (call $fmt (local.get $total)))
        (if (i32.lt_s (call $kv_set (i32.const 88) (i32.const 5) (i32.const 2048) (local.get $n)) (i32.const 0))
          (then (call $log_failure) (local.set $has_total (i32.const 0))))))

    ;; 4. the result: {"content":[{"type":"text","text":"SUM"}],
    ;;                 "structuredContent":{"sum":SUM[,"total":TOTAL]}}
    (call $emit (i32.const 96) (i32.const 35))
    (call $emit (i32.const 2048) (call $fmt (local.get $sum)))
    (call $emit (i32.const 144) (i32.const 31))
    (call $emit (i32.const 2048) (call $fmt (local.get $sum)))
    (if (local.get $has_total)
      (then
        (call $emit (i32.const 192) (i32.const 9))
        (call $emit (i32.const 2048) (call $fmt (local.get $total)))))
    (call $emit (i32.const 208) (i32.const 2))
    (call $write (i32.const 4096) (global.get $out_len))))
