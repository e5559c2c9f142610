;; A filter guest that counts to 150 million (a few hundred ms of CPU) and then keeps the
;; event: long enough for the sender to hang up while its request is being processed.
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))

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

  (func (export "router:plugin/filter-api@0.1.0#filter") (param $event i32) (result i32)
    (local $n i32)
    (local.set $n (i32.const 150000000))
    (loop $spin
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $spin (i32.ne (local.get $n) (i32.const 0))))
    ;; Offset 16 holds an all-zero result<verdict, plugin-error>: ok(keep).
    (i32.const 16)))
