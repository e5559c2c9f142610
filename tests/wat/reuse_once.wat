;; A filter guest: see README.md. Keeps the first event it is called with and traps on every
;; later call, so it tells a fresh instance (always keeps) from a reused one (traps). Memory
;; below 1024 stays zero, so offset 16 holds an all-zero result<verdict, plugin-error>,
;; which is ok(keep).
(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (global $calls (mut i32) (i32.const 0))

  ;; Bump allocator for the canonical ABI: the host copies the event in through this.
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
    (if (i32.ne (global.get $calls) (i32.const 0)) (then unreachable))
    (global.set $calls (i32.const 1))
    (i32.const 16)))
