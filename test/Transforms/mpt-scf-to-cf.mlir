// RUN: mpt-opt %s --mpt-scf-to-cf | FileCheck %s
// Same lowering as upstream (block order aside).
// RUN: mpt-opt %s --mpt-scf-to-cf | FileCheck %s --check-prefix=NOSCF
// NOSCF-NOT: scf.

// Two loops in one block, the second nesting an scf.if: each becomes a
// header/body/exit chain of blocks.
// CHECK-LABEL: func.func @loops
// CHECK: cf.br ^[[H1:bb[0-9]+]](%{{.*}}, %{{.*}} : index, f32)
// CHECK: ^[[H1]](%[[I:.*]]: index, %[[X:.*]]: f32):
// CHECK: %[[LT:.*]] = arith.cmpi slt, %[[I]]
// CHECK: cf.cond_br %[[LT]]
// CHECK: arith.mulf
// CHECK: cf.cond_br
// CHECK: arith.addf
// CHECK: return
func.func @loops(%n: index, %x0: f32, %c: i1) -> (f32, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = scf.for %i = %c0 to %n step %c1 iter_args(%x = %x0) -> (f32) {
    %y = arith.mulf %x, %x : f32
    scf.yield %y : f32
  }
  %b = scf.for %i = %c0 to %n step %c1 iter_args(%x = %a) -> (f32) {
    %z = scf.if %c -> (f32) {
      %y = arith.addf %x, %x : f32
      scf.yield %y : f32
    } else {
      scf.yield %x : f32
    }
    scf.yield %z : f32
  }
  return %a, %b : f32, f32
}

// -----

// An scf.if inside the condition region of an scf.while (as deallocation
// makes it): functions with a while take upstream's conversion.
// CHECK-LABEL: func.func @if_in_while
// CHECK-NOT: scf.
// CHECK: cf.cond_br
// CHECK: return
func.func @if_in_while(%x: i32, %go: i1, %p: i1) -> i32 {
  %r = scf.while (%h = %x) : (i32) -> i32 {
    scf.if %p {
      func.call @side() : () -> ()
    }
    scf.condition(%go) %h : i32
  } do {
  ^bb0(%h: i32):
    %m = arith.addi %h, %h : i32
    scf.yield %m : i32
  }
  cf.br ^bb1
^bb1:
  return %r : i32
}
func.func private @side()
