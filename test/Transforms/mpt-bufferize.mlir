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

// A chain of reductions, each accumulating into the previous one's result
// (as the loss-scaling check does): the chain owns the buffer of its
// from_elements, so each link reads a placeholder during the analysis and
// writes in place, the buffers One-Shot chooses.
// CHECK-LABEL: func.func @owned_chain
// CHECK-SAME: (%[[A:.*]]: memref<4xf32>, %[[B:.*]]: memref<8xf32>) -> memref<f32>
// CHECK: %[[ACC:.*]] = memref.alloc() {alignment = 64 : i64} : memref<f32>
// CHECK: memref.store %{{.*}}, %[[ACC]][] : memref<f32>
// CHECK: linalg.generic {{.*}} ins(%[[A]] : memref<4xf32>) outs(%[[ACC]] : memref<f32>)
// CHECK: linalg.generic {{.*}} ins(%[[B]] : memref<8xf32>) outs(%[[ACC]] : memref<f32>)
// CHECK: linalg.generic {{.*}} ins(%[[A]] : memref<4xf32>) outs(%[[ACC]] : memref<f32>)
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: return %[[ACC]] : memref<f32>
#sum_in = affine_map<(d0) -> (d0)>
#sum_out = affine_map<(d0) -> ()>
func.func @owned_chain(%a: tensor<4xf32>, %b: tensor<8xf32>) -> tensor<f32> {
  %z = arith.constant 0.0 : f32
  %init = tensor.from_elements %z : tensor<f32>
  %s0 = linalg.generic {indexing_maps = [#sum_in, #sum_out], iterator_types = ["reduction"]}
      ins(%a : tensor<4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %s1 = linalg.generic {indexing_maps = [#sum_in, #sum_out], iterator_types = ["reduction"]}
      ins(%b : tensor<8xf32>) outs(%s0 : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %s2 = linalg.generic {indexing_maps = [#sum_in, #sum_out], iterator_types = ["reduction"]}
      ins(%a : tensor<4xf32>) outs(%s1 : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %s2 : tensor<f32>
}

// @negative_shared_link: the first partial sum is also returned, so the
// second reduction is no link of an owned chain (nothing is taken out of
// the analysis): it must not overwrite that result and gets a copy.
// CHECK-LABEL: func.func @negative_shared_link
// CHECK: %[[ACC:.*]] = memref.alloc() {alignment = 64 : i64} : memref<f32>
// CHECK: linalg.generic {{.*}} outs(%[[ACC]] : memref<f32>)
// CHECK: %[[COPY:.*]] = memref.alloc() {alignment = 64 : i64} : memref<f32>
// CHECK: memref.copy %[[ACC]], %[[COPY]]
// CHECK: linalg.generic {{.*}} outs(%[[COPY]] : memref<f32>)
// CHECK: return %[[ACC]], %[[COPY]]
func.func @negative_shared_link(%a: tensor<4xf32>) -> (tensor<f32>, tensor<f32>) {
  %z = arith.constant 0.0 : f32
  %init = tensor.from_elements %z : tensor<f32>
  %s0 = linalg.generic {indexing_maps = [#sum_in, #sum_out], iterator_types = ["reduction"]}
      ins(%a : tensor<4xf32>) outs(%init : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  %s1 = linalg.generic {indexing_maps = [#sum_in, #sum_out], iterator_types = ["reduction"]}
      ins(%a : tensor<4xf32>) outs(%s0 : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %s0, %s1 : tensor<f32>, tensor<f32>
}
