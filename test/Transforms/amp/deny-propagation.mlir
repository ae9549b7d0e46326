// RUN: mpt-opt %s --mpt-assign-precision | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s --check-prefix=APPLY

// A deny op (exp) keeps the infer and clear ops downstream of it f32 even
// though they feed a matmul: the cast happens at the matmul's input.
// CHECK-LABEL: func.func @deny_taints_downstream
// CHECK: linalg.matmul {mpt.assigned = "f16"}
// CHECK: math.exp %{{.*}} {mpt.assigned = "f32"}
// CHECK: arith.mulf %{{.*}} {mpt.assigned = "f32"}
// CHECK: linalg.transpose {{.*}} {mpt.assigned = "f32"}
// CHECK: linalg.matmul {mpt.assigned = "f16"}
// APPLY-LABEL: func.func @deny_taints_downstream
// APPLY: math.exp %{{.*}} : tensor<4x4xf32>
// APPLY: arith.mulf %{{.*}} : tensor<4x4xf32>
// APPLY: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<4x4xf32>)
// APPLY: %[[TH:.*]] = arith.truncf %[[T]] : tensor<4x4xf32> to tensor<4x4xf16>
// APPLY: linalg.matmul ins(%[[TH]], %{{.*}} : tensor<4x4xf16>, tensor<4x4xf16>)
func.func @deny_taints_downstream(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>, %s: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %e = math.exp %m : tensor<4x4xf32>
  %p = arith.mulf %e, %s : tensor<4x4xf32>
  %init = tensor.empty() : tensor<4x4xf32>
  %t = linalg.transpose ins(%p : tensor<4x4xf32>) outs(%init : tensor<4x4xf32>) permutation = [1, 0]
  %m2 = linalg.matmul ins(%t, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// Every default deny op stays f32 even between two matmuls.
// CHECK-LABEL: func.func @default_deny_list
// CHECK: math.log {{.*}}"f32"
// CHECK: math.log1p {{.*}}"f32"
// CHECK: math.expm1 {{.*}}"f32"
// CHECK: math.powf {{.*}}"f32"
// CHECK: math.rsqrt {{.*}}"f32"
// CHECK: math.sqrt {{.*}}"f32"
func.func @default_deny_list(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %0 = math.log %m : tensor<4x4xf32>
  %1 = math.log1p %0 : tensor<4x4xf32>
  %2 = math.expm1 %1 : tensor<4x4xf32>
  %3 = math.powf %2, %m : tensor<4x4xf32>
  %4 = math.rsqrt %3 : tensor<4x4xf32>
  %5 = math.sqrt %4 : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%5, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// An elementwise generic whose body calls a deny op is a deny op.
// CHECK-LABEL: func.func @generic_with_exp_body
// CHECK: linalg.generic {{.*}} {mpt.assigned = "f32"}
func.func @generic_with_exp_body(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%x : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// The op producing the result with role "loss" is kept f32 even when it
// is an infer op next to 16-bit ops.
// CHECK-LABEL: func.func @loss_is_f32
// CHECK: arith.addf %{{.*}} {mpt.assigned = "f32"} : tensor<f32>
func.func @loss_is_f32(%a: tensor<f32> {mpt.role = "input"}) -> (tensor<f32> {mpt.role = "loss"}) {
  %0 = arith.addf %a, %a : tensor<f32>
  return %0 : tensor<f32>
}
