// RUN: mpt-opt %s --mpt-single-process-collectives --split-input-file -verify-diagnostics

// expected-error @+1 {{'shard.grid' op has an axis of size 4: the single-process lowering (mpt-lower-to-cpu) runs one process; build the step with world-size=1 or 0 (the launcher's), or for the GPU (NCCL)}}
shard.grid @dp(shape = 4)
func.func @four(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = shard.all_reduce %x on @dp grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

shard.grid @dp(shape = ?)
func.func @gather(%x: tensor<4xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'shard.all_gather' op is not supported by the single-process lowering of collectives (mpt-single-process-collectives takes shard.all_reduce, shard.grid_shape and the process indices)}}
  %r = shard.all_gather %x on @dp grid_axes = [0] gather_axis = 0 : tensor<4xf32> -> tensor<?xf32>
  return %r : tensor<?xf32>
}
