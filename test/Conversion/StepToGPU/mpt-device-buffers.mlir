// RUN: mpt-opt %s --mpt-device-buffers --split-input-file | FileCheck %s

// Allocations become gpu.alloc; those not returned (through views either)
// are freed after the last use, before the return; copies become
// linalg.copy (a kernel later).
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[A:.*]]: memref<?x4xf32>)
// CHECK: %[[D:.*]] = memref.dim %[[A]]
// CHECK: %[[T:.*]] = gpu.alloc (%[[D]]) : memref<?x4xf32>
// CHECK: %[[R:.*]] = gpu.alloc () : memref<4x2xf32>
// CHECK: linalg.copy ins(%[[A]] : memref<?x4xf32>) outs(%[[T]] : memref<?x4xf32>)
// CHECK: %[[V:.*]] = memref.expand_shape %[[R]]
// CHECK: gpu.dealloc %[[T]] : memref<?x4xf32>
// CHECK-NOT: gpu.dealloc
// CHECK: return %[[V]]
func.func @step(%a: memref<?x4xf32>) -> memref<4x1x2xf32> {
  %c0 = arith.constant 0 : index
  %d = memref.dim %a, %c0 : memref<?x4xf32>
  %t = memref.alloc(%d) : memref<?x4xf32>
  %r = memref.alloc() : memref<4x2xf32>
  memref.copy %a, %t : memref<?x4xf32> to memref<?x4xf32>
  %v = memref.expand_shape %r [[0], [1, 2]] output_shape [4, 1, 2]
      : memref<4x2xf32> into memref<4x1x2xf32>
  return %v : memref<4x1x2xf32>
}

// -----

// A returned constant would give the caller a host global: it is copied
// into a device buffer that the caller owns.
// CHECK-LABEL: func.func @returned_constant
// CHECK: %[[G:.*]] = memref.get_global @k
// CHECK: %[[B:.*]] = gpu.alloc () : memref<2xf32>
// CHECK: linalg.copy ins(%[[G]] : memref<2xf32>) outs(%[[B]] : memref<2xf32>)
// CHECK-NOT: gpu.dealloc
// CHECK: return %[[B]]
memref.global "private" constant @k : memref<2xf32> = dense<[1.0, 2.0]>
func.func @returned_constant() -> memref<2xf32> {
  %g = memref.get_global @k : memref<2xf32>
  return %g : memref<2xf32>
}
