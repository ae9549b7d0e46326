// RUN: mpt-opt %s | FileCheck %s
// Round trip: printing and parsing again gives the same IR.
// RUN: mpt-opt %s | mpt-opt | FileCheck %s
// RUN: mpt-opt %s --mlir-print-op-generic | mpt-opt | FileCheck %s

// CHECK-LABEL: func.func @seed_scalar_tensor
// CHECK-SAME: (%[[W:.*]]: tensor<4x3xf32> {mpt.role = "param"}, %[[X:.*]]: tensor<8x4xf32> {mpt.role = "input"})
// CHECK-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<4x3xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"})
// CHECK: %[[S:.*]] = mpt.loss_grad %{{.*}} : tensor<f32>
func.func @seed_scalar_tensor(%w: tensor<4x3xf32> {mpt.role = "param"},
                              %x: tensor<8x4xf32> {mpt.role = "input"})
    -> (tensor<f32> {mpt.role = "loss"},
        tensor<4x3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %l = arith.constant dense<2.5> : tensor<f32>
  %s = mpt.loss_grad %l : tensor<f32>
  return %s, %w : tensor<f32>, tensor<4x3xf32>
}

// CHECK-LABEL: func.func @seed_forms
// CHECK: mpt.loss_grad %{{.*}} : f32
// CHECK: mpt.loss_grad %{{.*}} : tensor<?x4xf16>
// CHECK: mpt.loss_grad %{{.*}} : tensor<2xbf16>
func.func @seed_forms(%a: f32, %b: tensor<?x4xf16>, %c: tensor<2xbf16>)
    -> (f32, tensor<?x4xf16>, tensor<2xbf16>) {
  %0 = mpt.loss_grad %a : f32
  %1 = mpt.loss_grad %b : tensor<?x4xf16>
  %2 = mpt.loss_grad %c : tensor<2xbf16>
  return %0, %1, %2 : f32, tensor<?x4xf16>, tensor<2xbf16>
}

// All argument roles, a seed argument and a scalar f32 loss.
// CHECK-LABEL: func.func @all_roles
// CHECK-SAME: {mpt.role = "loss_grad"}
// CHECK-SAME: -> (f32 {mpt.role = "loss"}
func.func @all_roles(%w: tensor<3xf32> {mpt.role = "param"},
                     %y: tensor<3xi64> {mpt.role = "input"},
                     %seed: f32 {mpt.role = "loss_grad"})
    -> (f32 {mpt.role = "loss"},
        tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %seed, %w : f32, tensor<3xf32>
}
