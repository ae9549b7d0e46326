// RUN: mpt-opt %s --mpt-assign-precision | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=APPLY

// The user's mpt.precision wins over the lists.
// CHECK-LABEL: func.func @override_ops
// CHECK: linalg.matmul {mpt.assigned = "f32", mpt.precision = "f32"}
// CHECK: math.exp %{{.*}} {mpt.assigned = "f16", mpt.precision = "f16"}
// APPLY-LABEL: func.func @override_ops
// APPLY: linalg.matmul {mpt.precision = "f32"} ins(%{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>)
// APPLY: math.exp %{{.*}} {mpt.precision = "f16"} : tensor<4x4xf16>
func.func @override_ops(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul {mpt.precision = "f32"} ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = math.exp %m {mpt.precision = "f16"} : tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}

// mpt.precision = "f32" on a function leaves the whole function alone: no
// decision, no cast.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: mpt.assigned
// CHECK: return
// APPLY-LABEL: func.func @left_alone
// APPLY-NOT: f16
// APPLY: return
func.func @left_alone(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32>
    attributes {mpt.precision = "f32"} {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m : tensor<4x4xf32>
}

// A user may edit the decisions of mpt-assign-precision and run
// mpt-apply-precision on the result.
// RUN: mpt-opt %s --mpt-apply-precision | FileCheck %s --check-prefix=EDITED
// EDITED-LABEL: func.func @edited_decisions
// EDITED: arith.addf %{{.*}}, %{{.*}} : tensor<4xbf16>
// EDITED: arith.mulf %{{.*}}, %{{.*}} : tensor<4xf32>
func.func @edited_decisions(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %a, %a {mpt.assigned = "bf16"} : tensor<4xf32>
  %1 = arith.mulf %0, %0 {mpt.assigned = "f32"} : tensor<4xf32>
  return %1 : tensor<4xf32>
}
