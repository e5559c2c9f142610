;; A normalizer guest that answers with its own `content-length` (0) and a 2-byte body: the
;; reply would leave bytes on a keep-alive connection. The host must refuse it as an invalid
;; result. See README.md for the layout of the returned result<normalized, plugin-error>.
(module
  (memory (export "memory") 1)
  ;; The host writes the request above 4096; the answer lives below.
  (global $heap (mut i32) (i32.const 4096))

  ;; ok(normalized { events: [], reply: some(reply { status: 200, headers: [1 at 2100], body: "hi" }) })
  ;; result tag @2048 = 0 (ok); events @2052/2056 = (0, 0); reply tag @2060 = 1;
  ;; status @2064 = 200; headers @2068/2072 = (2100, 1); body @2076/2080 = (2240, 2).
  (data (i32.const 2060) "\01")
  (data (i32.const 2064) "\c8\00")
  (data (i32.const 2068) "\34\08\00\00\01\00\00\00\c0\08\00\00\02\00\00\00")
  ;; header { name: (2200, 14), value: (2220, 1) } at 2100.
  (data (i32.const 2100) "\98\08\00\00\0e\00\00\00\ac\08\00\00\01\00\00\00")
  (data (i32.const 2200) "content-length")
  (data (i32.const 2220) "0")
  (data (i32.const 2240) "hi")

  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ret i32)
    (local.set $ret
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ret) (local.get $size)))
    (block $fits
      (loop $grow
        (br_if $fits (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $ret))

  (func (export "router:plugin/normalize-api@0.1.0#normalize") (param $request i32) (result i32)
    (i32.const 2048)))
