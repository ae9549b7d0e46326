// RUN: mpt-opt %s --mpt-collectives-to-runtime --split-input-file -verify-diagnostics

// expected-error @+1 {{'shard.grid' op has 2 axes: the GPU path runs the ranks of one NCCL communicator (a one-axis grid, as mpt-data-parallel makes)}}
shard.grid @g(shape = 2x2)
func.func @two_axes(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = shard.all_reduce %x on @g grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

shard.grid @g(shape = ?)
func.func @gather(%x: tensor<4xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'shard.all_gather' op is not supported on the GPU path (mpt-collectives-to-runtime takes shard.all_reduce, shard.grid_shape and shard.process_linear_index)}}
  %r = shard.all_gather %x on @g grid_axes = [0] gather_axis = 0 : tensor<4xf32> -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

shard.grid @g(shape = ?)
func.func @complex(%x: tensor<4xcomplex<f32>>) -> tensor<4xcomplex<f32>> {
  // expected-error @+1 {{'shard.all_reduce' op of 'complex<f32>' elements: NCCL reduces f16, bf16, f32, f64, i1 (as bytes), i8, i32 and i64}}
  %r = shard.all_reduce %x on @g grid_axes = [0] : tensor<4xcomplex<f32>> -> tensor<4xcomplex<f32>>
  return %r : tensor<4xcomplex<f32>>
}

// -----

shard.grid @g(shape = ?)
func.func @memrefs(%x: memref<4xf32>) -> memref<4xf32> {
  // expected-error @+1 {{'shard.all_reduce' op on memrefs: the GPU path lowers all-reduces of tensors}}
  %r = shard.all_reduce %x on @g grid_axes = [0] : memref<4xf32> -> memref<4xf32>
  return %r : memref<4xf32>
}

// -----

shard.grid @g(shape = ?)
func.func @bitwise(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'shard.all_reduce' op reduces with bitwise_or: NCCL reduces with sum, product, max, min or average}}
  %r = shard.all_reduce %x on @g grid_axes = [0] reduction = bitwise_or : tensor<4xi32> -> tensor<4xi32>
  return %r : tensor<4xi32>
}
