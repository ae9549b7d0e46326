// RUN: mpt-opt %s --mpt-assign-precision | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=APPLY

// allow -> infer -> infer -> allow stays 16-bit: one cast after the first
// matmul's f32 result, none before the second matmul (no ping-pong). The
// bias broadcast is clear and all its users take 16 bits, so the bias is
// cast once at the entry.
// CHECK-LABEL: func.func @mlp_layer
// CHECK: linalg.matmul {mpt.assigned = "f16"}
// CHECK: linalg.broadcast {{.*}} {mpt.assigned = "f16"}
// CHECK: arith.addf {{.*}} {mpt.assigned = "f16"}
// CHECK: arith.maximumf {{.*}} {mpt.assigned = "f16"}
// CHECK: linalg.matmul {mpt.assigned = "f16"}
// APPLY-LABEL: func.func @mlp_layer
// APPLY-SAME: (%[[X:.*]]: tensor<8x4xf32>, %[[W:.*]]: tensor<4x4xf32>, %[[B:.*]]: tensor<4xf32>, %[[ACC:.*]]: tensor<8x4xf32>)
// APPLY-COUNT-3: arith.truncf %arg
// APPLY: %[[M:.*]] = linalg.matmul
// APPLY: %[[MH:.*]] = arith.truncf %[[M]] : tensor<8x4xf32> to tensor<8x4xf16>
// APPLY: linalg.broadcast ins(%{{.*}} : tensor<4xf16>) outs(%{{.*}} : tensor<8x4xf16>)
// APPLY: %[[S:.*]] = arith.addf %[[MH]], %{{.*}} : tensor<8x4xf16>
// APPLY: %[[R:.*]] = arith.maximumf %[[S]], %{{.*}} : tensor<8x4xf16>
// APPLY-NOT: arith.truncf
// APPLY-NOT: arith.extf
// APPLY: linalg.matmul ins(%[[R]], %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
func.func @mlp_layer(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %init = tensor.empty() : tensor<8x4xf32>
  %bb = linalg.broadcast ins(%b : tensor<4xf32>) outs(%init : tensor<8x4xf32>) dimensions = [0]
  %s = arith.addf %m, %bb : tensor<8x4xf32>
  %zero = arith.constant dense<0.0> : tensor<8x4xf32>
  %r = arith.maximumf %s, %zero : tensor<8x4xf32>
  %m2 = linalg.matmul ins(%r, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2 : tensor<8x4xf32>
}

// An infer op after a matmul that feeds no other matmul stays f32 (nothing
// to gain, and it may feed sensitive code): not "between" 16-bit ops.
// CHECK-LABEL: func.func @negative_not_between
// CHECK: arith.addf {{.*}} {mpt.assigned = "f32"}
func.func @negative_not_between(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %s = arith.addf %m, %m : tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// An infer op on f32 inputs (no 16-bit producer) that feeds a matmul stays
// f32; the cast is at the matmul input (one cast instead of two).
// CHECK-LABEL: func.func @negative_not_fed_by_low
// CHECK: arith.mulf {{.*}} {mpt.assigned = "f32"}
func.func @negative_not_fed_by_low(%x: tensor<8x4xf32>, %y: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %p = arith.mulf %x, %y : tensor<8x4xf32>
  %m = linalg.matmul ins(%p, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m : tensor<8x4xf32>
}

// Clear ops that only feed 16-bit inputs move the cast upstream: the
// weight is cast once and transposed in 16 bits; the forward use shares
// the same cast.
// CHECK-LABEL: func.func @transposed_weight
// APPLY-LABEL: func.func @transposed_weight
// APPLY-COUNT-1: arith.truncf %arg1
// APPLY-NOT: arith.truncf %arg1
// APPLY: linalg.transpose ins(%{{.*}} : tensor<4x6xf16>) outs(%{{.*}} : tensor<6x4xf16>)
func.func @transposed_weight(%x: tensor<8x4xf32>, %w: tensor<4x6xf32>, %g: tensor<8x6xf32>, %a1: tensor<8x6xf32>, %a2: tensor<8x4xf32>)
    -> (tensor<8x6xf32>, tensor<8x4xf32>) {
  %y = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x6xf32>) outs(%a1 : tensor<8x6xf32>) -> tensor<8x6xf32>
  %init = tensor.empty() : tensor<6x4xf32>
  %wt = linalg.transpose ins(%w : tensor<4x6xf32>) outs(%init : tensor<6x4xf32>) permutation = [1, 0]
  %dx = linalg.matmul ins(%g, %wt : tensor<8x6xf32>, tensor<6x4xf32>) outs(%a2 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %y, %dx : tensor<8x6xf32>, tensor<8x4xf32>
}
