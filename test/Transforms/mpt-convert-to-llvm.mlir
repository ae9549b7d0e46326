// RUN: mpt-opt %s --mpt-convert-to-llvm | FileCheck %s
// RUN: mpt-opt %s --mpt-convert-to-llvm="allow-pattern-rollback=true" | FileCheck %s
// The three passes it replaces give the same module, up to the constants,
// of which each function keeps one of each, at its entry.
// RUN: mpt-opt %s --mpt-convert-to-llvm | FileCheck %s --check-prefix=CST
// RUN: mpt-opt %s --convert-to-llvm --reconcile-unrealized-casts --mpt-strip-foreign-attrs | FileCheck %s

// memref, arith, cf and func in one conversion; no cast between the type
// systems is left; the attribute of another dialect that arith's lowering
// copies onto llvm.fpext is dropped.
// CHECK-NOT: unrealized_conversion_cast
// CHECK-NOT: #arith.fastmath
// CHECK-LABEL: llvm.func @step
// CHECK: llvm.call @malloc
// CHECK: llvm.fpext %{{.*}} : f16 to f32
// CHECK: llvm.cond_br
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr
// CHECK: llvm.return
// CST-LABEL: llvm.func @step
// CST-COUNT-1: llvm.mlir.constant(1 : index) : i64
// CST-NOT: llvm.mlir.constant(1 : index) : i64
// CST: llvm.return
// The stores read the buffer's aligned pointer from the descriptor that the
// allocation built (upstream: an llvm.extractvalue each): folded to the
// pointer itself. The descriptor is still built, for the return.
// RUN: mpt-opt %s --mpt-convert-to-llvm | FileCheck %s --check-prefix=FOLD
// FOLD-LABEL: llvm.func @step
// FOLD-NOT: llvm.extractvalue
// FOLD: %[[PTR:.*]] = llvm.call @malloc
// FOLD: llvm.insertvalue %[[PTR]], %{{.*}}[0]
// FOLD-NOT: llvm.extractvalue
// FOLD: llvm.getelementptr inbounds|nuw %[[PTR]][
// FOLD-NOT: llvm.extractvalue
// FOLD: llvm.return
func.func @step(%x: f16, %n: index) -> memref<4x4xf32> {
  %buf = memref.alloc() : memref<4x4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = arith.extf %x {fastmath = #arith.fastmath<contract>} : f16 to f32
  cf.br ^loop(%c0 : index)
^loop(%i: index):
  %more = arith.cmpi slt, %i, %n : index
  cf.cond_br %more, ^body, ^done
^body:
  memref.store %y, %buf[%i, %i] : memref<4x4xf32>
  memref.store %y, %buf[%i, %c1] : memref<4x4xf32>
  %next = arith.addi %i, %c1 : index
  cf.br ^loop(%next : index)
^done:
  return %buf : memref<4x4xf32>
}
