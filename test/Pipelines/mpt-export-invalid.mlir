// RUN: mpt-opt %s --mpt-export --split-input-file --verify-diagnostics

// mpt-export fails where mpt-lower-ops cannot lower an op faithfully: the
// loss-scale state machine keeps its counts in i32 and its scale in f32.
// The module is then not exported at all (no half-lowered IR).

func.func @interval(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op growth_interval = 4294967297 does not fit the i32 state it is compared with (at most 2147483647)}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 4294967297 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return %0 : tensor<f32>
}

// -----

func.func @growth(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op growth_factor = 1.000000e+40 is not finite in f32}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 1.0e40 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return %0 : tensor<f32>
}
