;; Failure class: oversized initial memory. Declares 60000 pages (~3.7 GiB)
;; up front, which a host memory limit must reject before _start runs.
(module
  (memory (export "memory") 60000)
  (func $start (export "_start")))
