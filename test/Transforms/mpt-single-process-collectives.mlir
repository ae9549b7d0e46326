// RUN: mpt-opt %s --mpt-single-process-collectives --split-input-file | FileCheck %s

// One process: an all-reduce is its input, the grid's size 1, the process
// index 0; the grid goes once nothing names it.
// CHECK-NOT: shard.grid
// CHECK-LABEL: func.func @dynamic_grid
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xf32>, %[[F:.*]]: tensor<i1>)
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NOT: shard.
// CHECK: return %[[X]], %[[F]], %[[ONE]], %[[ZERO]]
shard.grid @dp(shape = ?)
func.func @dynamic_grid(%x: tensor<4x3xf32>, %f: tensor<i1>) -> (tensor<4x3xf32>, tensor<i1>, index, index) {
  %r = shard.all_reduce %x on @dp grid_axes = [0] : tensor<4x3xf32> -> tensor<4x3xf32>
  %m = shard.all_reduce %f on @dp grid_axes = [0] reduction = max : tensor<i1> -> tensor<i1>
  %n = shard.grid_shape @dp axes = [0] : index
  %i = shard.process_linear_index on @dp : index
  return %r, %m, %n, %i : tensor<4x3xf32>, tensor<i1>, index, index
}

// -----

// A grid of one; an all-reduce that widens (f16 summed in f32) converts,
// a dynamic shape included.
// CHECK-NOT: shard.grid
// CHECK-LABEL: func.func @widening
// CHECK: %[[D:.*]] = tensor.dim %arg0
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?xf32>
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<?xf16>) outs(%[[E]] : tensor<?xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK-NOT: shard.
shard.grid @one(shape = 1)
func.func @widening(%x: tensor<?xf16>) -> tensor<?xf32> {
  %r = shard.all_reduce %x on @one grid_axes = [0] : tensor<?xf16> -> tensor<?xf32>
  return %r : tensor<?xf32>
}
