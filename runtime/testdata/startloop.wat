;; Loops forever in the wasm start function, which runs before _start: the
;; deadline must stop it too.
(module
  (memory (export "memory") 1)
  (func $init (loop $forever (br $forever)))
  (start $init)
  (func (export "_start")))
