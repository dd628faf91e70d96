;; Structural index of a CSV block (lib/ingest/structural.ts): the offsets of every byte equal to
;; one of four given bytes (delimiter, quote, LF, CR), in order. Sixteen bytes are compared at a
;; time (SIMD); each match's offset comes from the comparison's bit mask.
;;
;; Memory: the block at [0, len) (len <= 262144, readable up to len + 16), the offsets written as
;; i32 from byte 262160 on.
(module
  (memory (export "memory") 22)
  (func (export "index") (param $len i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32) (result i32)
    (local $i i32) (local $n i32) (local $m i32) (local $out i32)
    (local $va v128) (local $vb v128) (local $vc v128) (local $vd v128) (local $v v128)
    (local.set $va (i8x16.splat (local.get $a)))
    (local.set $vb (i8x16.splat (local.get $b)))
    (local.set $vc (i8x16.splat (local.get $c)))
    (local.set $vd (i8x16.splat (local.get $d)))
    (local.set $out (i32.const 262160))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (v128.load (local.get $i)))
        (local.set $m
          (i8x16.bitmask
            (v128.or
              (v128.or (i8x16.eq (local.get $v) (local.get $va)) (i8x16.eq (local.get $v) (local.get $vb)))
              (v128.or (i8x16.eq (local.get $v) (local.get $vc)) (i8x16.eq (local.get $v) (local.get $vd))))))
        ;; the last vector: only the bytes before len
        (if (i32.lt_u (i32.sub (local.get $len) (local.get $i)) (i32.const 16))
          (then
            (local.set $m
              (i32.and (local.get $m)
                (i32.sub (i32.shl (i32.const 1) (i32.sub (local.get $len) (local.get $i))) (i32.const 1))))))
        (block $bits
          (loop $bit
            (br_if $bits (i32.eqz (local.get $m)))
            (i32.store (local.get $out) (i32.add (local.get $i) (i32.ctz (local.get $m))))
            (local.set $out (i32.add (local.get $out) (i32.const 4)))
            (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
            (br $bit)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (i32.shr_u (i32.sub (local.get $out) (i32.const 262160)) (i32.const 2))))
