// RUN: mpt-opt %s --mpt-export | FileCheck %s --implicit-check-not=mpt.
// RUN: mpt-opt %s --mpt-export=keep-roles | FileCheck %s --check-prefix=ROLES

// A step holding each op of the mpt dialect (the seed op, the fused
// unscale/check, the scale state machine) and its roles: mpt-export lowers
// the ops to linalg/tensor/arith (mpt-lower-ops) and removes the roles
// (mpt-strip-dialect), so that a compiler without the mpt dialect, such as
// IREE, takes the module.

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[W:.*]]: tensor<4xf32>, %[[S:.*]]: tensor<f32>, %[[T:.*]]: tensor<i32>, %[[H:.*]]: tensor<i32>)
// CHECK-SAME: -> (tensor<f32>, tensor<4xf32>, tensor<i1>, tensor<f32>, tensor<i32>, tensor<i32>)
// The seed becomes a constant of ones.
// CHECK: arith.constant dense<1.000000e+00> : tensor<f32>
// The unscale and the Inf/NaN check become linalg ops.
// CHECK: linalg.generic
// CHECK: arith.select
// CHECK: return

// ROLES-LABEL: func.func @step
// ROLES-SAME: (%{{.*}}: tensor<4xf32> {mpt.role = "param"}, %{{.*}}: tensor<f32> {mpt.role = "loss_scale"}, %{{.*}}: tensor<i32> {mpt.role = "growth_tracker"}, %{{.*}}: tensor<i32> {mpt.role = "hysteresis"})
// ROLES-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}, tensor<i1> {mpt.role = "found_inf"}, tensor<f32> {mpt.role = "loss_scale", mpt.updates = 1 : i64}, tensor<i32> {mpt.role = "growth_tracker", mpt.updates = 2 : i64}, tensor<i32> {mpt.role = "hysteresis", mpt.updates = 3 : i64})
// ROLES-NOT: mpt.loss_grad
// ROLES-NOT: mpt.unscale_check
// ROLES-NOT: mpt.update_scale
// ROLES-NOT: mpt.precision
// ROLES: return
func.func @step(%w: tensor<4xf32> {mpt.role = "param"},
                %scale: tensor<f32> {mpt.role = "loss_scale"},
                %tracker: tensor<i32> {mpt.role = "growth_tracker"},
                %hyst: tensor<i32> {mpt.role = "hysteresis"})
    -> (tensor<f32> {mpt.role = "loss"},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<i1> {mpt.role = "found_inf"},
        tensor<f32> {mpt.role = "loss_scale", mpt.updates = 1 : i64},
        tensor<i32> {mpt.role = "growth_tracker", mpt.updates = 2 : i64},
        tensor<i32> {mpt.role = "hysteresis", mpt.updates = 3 : i64}) {
  %cst = arith.constant 0.000000e+00 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%cst : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %sq = arith.mulf %w, %w {mpt.precision = "f32"} : tensor<4xf32>
  %loss = linalg.reduce ins(%sq : tensor<4xf32>) outs(%init : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %seed = mpt.loss_grad %loss : tensor<f32>
  %scaled = arith.mulf %seed, %scale : tensor<f32>
  %s = tensor.extract %scaled[] : tensor<f32>
  %eb = tensor.empty() : tensor<4xf32>
  %b = linalg.fill ins(%s : f32) outs(%eb : tensor<4xf32>) -> tensor<4xf32>
  %two = arith.addf %w, %w : tensor<4xf32>
  %g = arith.mulf %two, %b : tensor<4xf32>
  %u, %inf, %norm = mpt.unscale_check %scale, %g : tensor<4xf32>
  %ns, %nt, %nh = mpt.update_scale %scale, %tracker, %hyst, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2000 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 16777216.0 : f64}
  return %loss, %u, %inf, %ns, %nt, %nh : tensor<f32>, tensor<4xf32>, tensor<i1>, tensor<f32>, tensor<i32>, tensor<i32>
}
