// RUN: mpt-opt %s --verify-diagnostics --mpt-apply-precision

// mpt-apply-precision refuses a hand-written decision it cannot carry out
// (mpt-assign-precision never makes it) instead of writing invalid IR.
func.func @assigned(%x: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // expected-error @below {{'linalg.generic' op is assigned f16 but 'arith.bitcast' in its body has no f16 form}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) attrs = {mpt.assigned = "f16"} {
  ^bb0(%a: f32, %o: f32):
    %i = arith.bitcast %a : f32 to i32
    %f = arith.bitcast %i : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4x4xf32>
  return %g : tensor<4x4xf32>
}
