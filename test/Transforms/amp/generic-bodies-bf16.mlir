// RUN: mpt-opt %s --auto-mixed-precision="dtype=bf16" -verify-diagnostics --split-input-file | FileCheck %s

// generic-bodies.mlir with dtype=bf16: the casts that f16 cannot retype
// become no-ops, and the one to f16 is the cast without a bf16 form.

// The f32 bits of a value have no bf16 form either.
// CHECK-LABEL: func.func @bitcast
// CHECK: arith.bitcast %{{.*}} : f32 to i32
func.func @bitcast(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.bitcast' in its body has no}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = arith.bitcast %a : f32 to i32
    %c = arith.constant 2147483647 : i32
    %n = arith.andi %i, %c : i32
    %f = arith.bitcast %n : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// An explicit rounding to bf16 in a bf16 step is a no-op: folded.
// CHECK-LABEL: func.func @truncf_other_type
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<4x4xbf16>) outs(%{{.*}} : tensor<4x4xbf16>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: bf16, %{{.*}}: bf16):
// CHECK-NEXT: %[[S:.*]] = arith.mulf %[[A]], %[[A]] : bf16
// CHECK-NEXT: linalg.yield %[[S]] : bf16
func.func @truncf_other_type(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.truncf %a : f32 to bf16
    %e = arith.extf %t : bf16 to f32
    %s = arith.mulf %e, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A bf16 constant widened in the body is used as it is.
// CHECK-LABEL: func.func @other_constant
// CHECK: arith.constant 1.500000e+00 : bf16
// CHECK-NEXT: arith.addf %{{.*}}, %{{.*}} : bf16
func.func @other_constant(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 1.5 : bf16
    %e = arith.extf %c : bf16 to f32
    %s = arith.addf %a, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A rounding to f16 in a bf16 step: f16 -> bf16 is no cast.
// CHECK-LABEL: func.func @f16_rounding
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @f16_rounding(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.truncf' in its body has no bf16 form}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.truncf %a : f32 to f16
    %e = arith.extf %t : f16 to f32
    %s = arith.addf %e, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}
