// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-assign-precision="infer=arith.bitcast"

// A user's "f16" on an op that has no f16 form is an error, not invalid IR.
func.func @override(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-error @below {{'linalg.generic' op has mpt.precision = "f16" but 'arith.bitcast' in its body has no f16 form; use "f32"}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) attrs = {mpt.precision = "f16"} {
  ^bb0(%a: f32, %o: f32):
    %i = arith.bitcast %a : f32 to i32
    %f = arith.bitcast %i : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4x4xf32>
  return %g : tensor<4x4xf32>
}

// -----

// An op a user puts in a list is checked the same way (here infer=
// arith.bitcast): a bitcast of f32 bits has no f16 form.
func.func @listed(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xi32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.bitcast' has no f16 form}}
  %b = arith.bitcast %m : tensor<4x4xf32> to tensor<4x4xi32>
  return %b : tensor<4x4xi32>
}
