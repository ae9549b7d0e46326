// RUN: mpt-opt %s --mpt-strip-dialect --split-input-file --verify-diagnostics

// An mpt op cannot be dropped without changing the step: the pass refuses
// it (mpt-export runs mpt-lower-ops first) and leaves the module as it was.

func.func @seed(%loss: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.loss_grad' op has no upstream form without lowering; run mpt-lower-ops before mpt-strip-dialect}}
  %0 = mpt.loss_grad %loss : tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @update(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op has no upstream form without lowering; run mpt-lower-ops before mpt-strip-dialect}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return %0 : tensor<f32>
}
