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

// CHECK-LABEL: func.func @loss_scaling_ops
// CHECK: %[[U:.*]]:2, %[[INF:.*]], %[[SQ:.*]] = mpt.unscale_check %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<?xf32>
// CHECK: mpt.update_scale %{{.*}}, %{{.*}}, %{{.*}}, %[[INF]] {backoff_factor = 5.000000e-01 : f64, growth_factor = 2.000000e+00 : f64, growth_interval = 2000 : i64, hysteresis = 2 : i64, max_scale = 1.024000e+03 : f64, min_scale = 1.000000e+00 : f64}
func.func @loss_scaling_ops(%s: tensor<f32>, %g0: tensor<4x3xf32>, %g1: tensor<?xf32>, %t: tensor<i32>, %h: tensor<i32>)
    -> (tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, tensor<f32>, tensor<f32>, tensor<i32>, tensor<i32>) {
  %u0, %u1, %inf, %sq = mpt.unscale_check %s, %g0, %g1 : tensor<4x3xf32>, tensor<?xf32>
  %ns, %nt, %nh = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2000 : i64, hysteresis = 2 : i64, min_scale = 1.0 : f64, max_scale = 1024.0 : f64}
  return %u0, %u1, %inf, %sq, %ns, %nt, %nh : tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, tensor<f32>, tensor<f32>, tensor<i32>, tensor<i32>
}

// A step in update form: state roles linked by mpt.updates, a 16-bit copy
// linked by mpt.copy_of.
// CHECK-LABEL: func.func @update_form_roles
// CHECK-SAME: {mpt.role = "loss_scale"}
// CHECK-SAME: -> (tensor<i1> {mpt.role = "found_inf"}, tensor<f32> {mpt.role = "loss_scale", mpt.updates = 1 : i64}, tensor<3xf32> {mpt.role = "param_out", mpt.updates = 0 : i64}, tensor<3xf32> {mpt.role = "opt_state", mpt.updates = 2 : i64}, tensor<3xf16> {mpt.copy_of = 0 : i64, mpt.role = "param_low"})
func.func @update_form_roles(%w: tensor<3xf32> {mpt.role = "param"}, %s: tensor<f32> {mpt.role = "loss_scale"},
                             %m: tensor<3xf32> {mpt.role = "opt_state"}, %inf: tensor<i1>, %wh: tensor<3xf16>)
    -> (tensor<i1> {mpt.role = "found_inf"}, tensor<f32> {mpt.role = "loss_scale", mpt.updates = 1 : i64},
        tensor<3xf32> {mpt.role = "param_out", mpt.updates = 0 : i64},
        tensor<3xf32> {mpt.role = "opt_state", mpt.updates = 2 : i64},
        tensor<3xf16> {mpt.role = "param_low", mpt.copy_of = 0 : i64}) {
  return %inf, %s, %w, %m, %wh : tensor<i1>, tensor<f32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf16>
}
