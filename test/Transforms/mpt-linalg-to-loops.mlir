// RUN: mpt-opt %s --mpt-linalg-to-loops | FileCheck %s
// The same loops as upstream's pass (whose greedy driver folds the new ops
// and hoists the constants) on buffers; ops on tensors are left alone.
// RUN: mpt-opt %s --mpt-linalg-to-loops > %t.mpt.mlir
// RUN: mpt-opt %s --convert-linalg-to-loops > %t.upstream.mlir
// RUN: diff %t.mpt.mlir %t.upstream.mlir

// An elementwise generic: the induction variables index the buffers
// directly (the identity affine.applys fold away), the destination, which
// the payload does not read, is not loaded, and each constant is defined
// once, at the entry of the function, the payload's included.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[C4]] step %[[C1]] {
// CHECK-NEXT: scf.for %[[J:.*]] = %[[C0]] to %[[C8]] step %[[C1]] {
// CHECK-NEXT: %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]]
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[X]], %[[ONE]] : f32
// CHECK-NEXT: %[[M:.*]] = arith.mulf %[[S]], %[[TWO]] : f32
// CHECK-NEXT: memref.store %[[M]], %[[B]][%[[I]], %[[J]]]
// CHECK-NOT: affine.apply
// CHECK-NOT: arith.constant
// CHECK: return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @elementwise(%a: memref<4x8xf32>, %b: memref<4x8xf32>) {
  %c = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %one = arith.constant 1.0 : f32
    %s = arith.addf %x, %one : f32
    %m = arith.mulf %s, %c : f32
    linalg.yield %m : f32
  }
  return
}

// A reduction reads its destination; a named op lowers through its body.
// CHECK-LABEL: func.func @row_sum
// CHECK: scf.for %[[I:.*]] =
// CHECK: scf.for %[[J:.*]] =
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK: memref.load %{{.*}}[%[[I]]] : memref<4xf32>
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]]] : memref<4xf32>
func.func @row_sum(%a: memref<4x8xf32>, %r: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x8xf32>) outs(%r : memref<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @matmul
// CHECK-COUNT-3: scf.for
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<4x8xf32>, %b: memref<8x2xf32>, %c: memref<4x2xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x2xf32>) outs(%c : memref<4x2xf32>)
  return
}

// Dynamic sizes come from the buffers (a dim of an allocation folds to its
// size).
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[N:.*]]: index)
// CHECK: %[[BUF:.*]] = memref.alloc(%[[N]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N]] step
// CHECK-NOT: memref.dim
func.func @dynamic(%n: index) {
  %z = arith.constant 0.0 : f32
  %buf = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%z : f32) outs(%buf : memref<?xf32>)
  memref.dealloc %buf : memref<?xf32>
  return
}

// @negative_tensors: on tensors (not bufferized), the op stays.
// CHECK-LABEL: func.func @negative_tensors
// CHECK: linalg.generic
func.func @negative_tensors(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%a : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
