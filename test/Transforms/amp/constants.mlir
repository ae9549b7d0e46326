// RUN: mpt-opt %s --mpt-assign-precision | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision="report=-" 2>&1 -o /dev/null | FileCheck %s --check-prefix=REPORT

// Constants that fit are converted with the op; one that overflows f16
// (1e5 > 65504) or underflows it (1e-8, a non-zero value that would become
// zero or subnormal, like a layernorm epsilon) keeps its op f32, and the
// report says which and why.
// CHECK-LABEL: func.func @range
// CHECK: arith.constant {mpt.assigned = "f16"} dense<2.000000e+00>
// CHECK: arith.constant {mpt.assigned = "f32"} dense<1.000000e+05>
// CHECK: arith.constant {mpt.assigned = "f32"} dense<9.99999993E-9>
// REPORT: "constants_kept_f32": [
// REPORT-NEXT: "arith.constant at {{.*}}constants.mlir:{{[0-9]+}}:{{[0-9]+}}: overflow in f16"
// REPORT-NEXT: "arith.constant at {{.*}}constants.mlir:{{[0-9]+}}:{{[0-9]+}}: underflow in f16"
// REPORT-NEXT: "linalg.generic at {{.*}}constants.mlir:{{[0-9]+}}:{{[0-9]+}}: overflow in f16"
// REPORT: "constant out of range": 3
func.func @range(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %two = arith.constant dense<2.0> : tensor<4x4xf32>
  %big = arith.constant dense<1.0e5> : tensor<4x4xf32>
  %tiny = arith.constant dense<1.0e-8> : tensor<4x4xf32>
  %0 = arith.mulf %m, %two : tensor<4x4xf32>
  %1 = arith.addf %0, %big : tensor<4x4xf32>
  %2 = arith.addf %1, %tiny : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%2, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// bf16 has f32's range: the same constants fit.
// RUN: mpt-opt %s --mpt-assign-precision=dtype=bf16 | FileCheck %s --check-prefix=BF16
// BF16-LABEL: func.func @range
// BF16: arith.constant {mpt.assigned = "bf16"} dense<1.000000e+05>

// A constant inside an elementwise body counts for its op.
// CHECK-LABEL: func.func @body_constant
// CHECK: linalg.generic {{.*}} {mpt.assigned = "f32"}
func.func @body_constant(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %big = arith.constant 7.0e4 : f32
    %s = arith.addf %a, %big : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}
