// RUN: mpt-opt %s --mpt-bufferize | FileCheck %s
// Upstream One-Shot Bufferize with the same options gives the same buffers.
// RUN: mpt-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map allow-return-allocs-from-loops" | FileCheck %s

// A nest of loops carrying a tensor: the argument may not be written, so
// it is copied once before the nest; every loop then works in that buffer.
// CHECK-LABEL: func.func @nest
// CHECK-SAME: (%[[A:.*]]: memref<16xf32>, %[[N:.*]]: index) -> memref<16xf32>
// CHECK: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: memref.copy %[[A]], %[[BUF]]
// CHECK: %[[R:.*]] = scf.for {{.*}} iter_args(%[[T0:.*]] = %[[BUF]]) -> (memref<16xf32>)
// CHECK-NEXT: %[[R1:.*]] = scf.for {{.*}} iter_args(%[[T1:.*]] = %[[T0]]) -> (memref<16xf32>)
// CHECK-NEXT: %[[R2:.*]] = scf.for {{.*}} iter_args(%[[T2:.*]] = %[[T1]]) -> (memref<16xf32>)
// CHECK-NEXT: linalg.generic {{.*}} ins(%[[T2]], %[[T2]] : memref<16xf32>, memref<16xf32>) outs(%[[T2]] : memref<16xf32>)
// CHECK: scf.yield %[[T2]] : memref<16xf32>
// CHECK: scf.yield %[[R2]] : memref<16xf32>
// CHECK: scf.yield %[[R1]] : memref<16xf32>
// CHECK: return %[[R]] : memref<16xf32>
// CHECK-NOT: memref.alloc
#map = affine_map<(d0) -> (d0)>
func.func @nest(%a: tensor<16xf32> {bufferization.writable = false}, %n: index) -> tensor<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r0 = scf.for %i0 = %c0 to %n step %c1 iter_args(%t0 = %a) -> (tensor<16xf32>) {
    %r1 = scf.for %i1 = %c0 to %n step %c1 iter_args(%t1 = %t0) -> (tensor<16xf32>) {
      %r2 = scf.for %i2 = %c0 to %n step %c1 iter_args(%t2 = %t1) -> (tensor<16xf32>) {
        %x = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
            ins(%t2, %t2 : tensor<16xf32>, tensor<16xf32>) outs(%t2 : tensor<16xf32>) {
        ^bb0(%p: f32, %q: f32, %o: f32):
          %s = arith.addf %p, %q : f32
          linalg.yield %s : f32
        } -> tensor<16xf32>
        scf.yield %x : tensor<16xf32>
      }
      scf.yield %r2 : tensor<16xf32>
    }
    scf.yield %r1 : tensor<16xf32>
  }
  return %r0 : tensor<16xf32>
}
