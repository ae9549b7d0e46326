// RUN: mpt-opt %s --mpt-insert-loss-scaling --split-input-file | FileCheck %s --check-prefix=DYN
// RUN: mpt-opt %s --mpt-insert-loss-scaling="mode=static init-scale=1024" --split-input-file | FileCheck %s --check-prefix=STATIC
// RUN: mpt-opt %s --mpt-insert-loss-scaling="growth-factor=4 backoff-factor=0.25 growth-interval=100 hysteresis=3 min-scale=2 max-scale=4096" --split-input-file | FileCheck %s --check-prefix=OPTS
// RUN: mpt-opt %s --mpt-insert-loss-scaling="init-scale=3.0e38 growth-interval=2147483647 hysteresis=2147483647 max-scale=3.0e38" --split-input-file | FileCheck %s --check-prefix=LIMITS
// RUN: mpt-opt %s --mpt-insert-loss-scaling="growth-interval=2147483647 hysteresis=2147483647" --mpt-lower-ops --split-input-file | FileCheck %s --check-prefix=LIMITS-LOWERED

// The seed argument is multiplied by the scale; the grads leave through
// mpt.unscale_check; the state comes in as arguments and leaves as results.
// DYN-LABEL: func.func @seed_argument
// DYN-SAME: (%[[W:[a-z0-9]+]]: tensor<4x4xf32> {mpt.role = "param"}, %[[SEED:[a-z0-9]+]]: tensor<f32> {mpt.role = "loss_grad"},
// DYN-SAME: %[[S:[a-z0-9]+]]: tensor<f32> {mpt.role = "loss_scale"}, %[[T:[a-z0-9]+]]: tensor<i32> {mpt.role = "growth_tracker"}, %[[H:[a-z0-9]+]]: tensor<i32> {mpt.role = "hysteresis"})
// DYN-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<4x4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}, tensor<i1> {mpt.role = "found_inf"},
// DYN-SAME: tensor<f32> {mpt.role = "loss_scale", mpt.updates = 2 : i64}, tensor<i32> {mpt.role = "growth_tracker", mpt.updates = 3 : i64}, tensor<i32> {mpt.role = "hysteresis", mpt.updates = 4 : i64})
// DYN: %[[SCALED:.*]] = arith.mulf %[[SEED]], %[[S]] : tensor<f32>
// DYN: linalg.broadcast ins(%[[SCALED]]
// DYN: %[[U:.*]], %[[INF:.*]], %{{.*}} = mpt.unscale_check %[[S]], %{{.*}} : tensor<4x4xf32>
// DYN: %[[NS:.*]], %[[NT:.*]], %[[NH:.*]] = mpt.update_scale %[[S]], %[[T]], %[[H]], %[[INF]] {backoff_factor = 5.000000e-01 : f64, growth_factor = 2.000000e+00 : f64, growth_interval = 2000 : i64, hysteresis = 1 : i64, max_scale = 0x4170000000000000 : f64, min_scale = 1.000000e+00 : f64}
// DYN: return %{{.*}}, %[[U]], %[[INF]], %[[NS]], %[[NT]], %[[NH]]
// Static scaling: a constant scale, still checked; no state.
// STATIC-LABEL: func.func @seed_argument
// STATIC-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<4x4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}, tensor<i1> {mpt.role = "found_inf"})
// STATIC: %[[C:.*]] = arith.constant dense<1.024000e+03> : tensor<f32>
// STATIC: arith.mulf %{{.*}}, %[[C]] : tensor<f32>
// STATIC: mpt.unscale_check %[[C]]
// STATIC-NOT: mpt.update_scale
// OPTS-LABEL: func.func @seed_argument
// OPTS: mpt.update_scale {{.*}} {backoff_factor = 2.500000e-01 : f64, growth_factor = 4.000000e+00 : f64, growth_interval = 100 : i64, hysteresis = 3 : i64, max_scale = 4.096000e+03 : f64, min_scale = 2.000000e+00 : f64}
// The largest counts an i32 holds, and a scale near f32's largest value.
// LIMITS-LABEL: func.func @seed_argument
// LIMITS: mpt.update_scale {{.*}} {backoff_factor = 5.000000e-01 : f64, growth_factor = 2.000000e+00 : f64, growth_interval = 2147483647 : i64, hysteresis = 2147483647 : i64, max_scale = 3.000000e+38 : f64, min_scale = 1.000000e+00 : f64}
// LIMITS-LOWERED-LABEL: func.func @seed_argument
// LIMITS-LOWERED: arith.constant 2147483647 : i32
func.func @seed_argument(%w: tensor<4x4xf32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4x4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4x4xf32>) dimensions = [0, 1]
  %g = arith.mulf %b, %w : tensor<4x4xf32>
  return %seed, %g : tensor<f32>, tensor<4x4xf32>
}

// -----

// The seed op mpt.loss_grad is scaled where it is defined.
// DYN-LABEL: func.func @seed_op
// DYN: %[[SEED:.*]] = mpt.loss_grad %{{.*}} : tensor<f32>
// DYN-NEXT: %[[SCALED:.*]] = arith.mulf %[[SEED]], %{{.*}} : tensor<f32>
// DYN: arith.mulf %[[SCALED]], %{{.*}} : tensor<f32>
func.func @seed_op(%w: tensor<f32> {mpt.role = "param"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<f32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %l = arith.mulf %w, %w : tensor<f32>
  %seed = mpt.loss_grad %l : tensor<f32>
  %g = arith.mulf %seed, %w : tensor<f32>
  return %l, %g : tensor<f32>, tensor<f32>
}

// -----

// A seed shaped like a per-example loss gets a broadcast scale.
// DYN-LABEL: func.func @seed_vector
// DYN: %[[B:.*]] = linalg.broadcast ins(%{{.*}} : tensor<f32>) outs(%{{.*}} : tensor<?xf32>) dimensions = [0]
// DYN: arith.mulf %{{.*}}, %[[B]] : tensor<?xf32>
func.func @seed_vector(%w: tensor<?xf32> {mpt.role = "param"}, %seed: tensor<?xf32> {mpt.role = "loss_grad"})
    -> (tensor<?xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %seed, %w : tensor<?xf32>
  return %g : tensor<?xf32>
}

// -----

// A function with no seed and no grads (inference, a helper) is left alone.
// DYN-LABEL: func.func @negative_no_training
// DYN-NOT: mpt.unscale_check
// DYN: return
func.func @negative_no_training(%x: tensor<4xf32> {mpt.role = "input"}) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
