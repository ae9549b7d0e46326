// RUN: mpt-opt %s --mpt-lower-ops --split-input-file --verify-diagnostics

// The state machine keeps its counts in i32 and its scale in f32: an
// attribute that does not fit is refused instead of wrapping (2^32 + 1 would
// become a growth interval of 1) or becoming Inf.

func.func @interval(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op growth_interval = 4294967297 does not fit the i32 state it is compared with (at most 2147483647)}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 4294967297 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return %0 : tensor<f32>
}

// -----

func.func @hysteresis(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op hysteresis = 3000000000 does not fit the i32 state it is compared with (at most 2147483647)}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 3000000000 : i64, min_scale = 1.0 : f64, max_scale = 2.0 : f64}
  return %0 : tensor<f32>
}

// -----

func.func @max_scale(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> tensor<f32> {
  // expected-error @+1 {{'mpt.update_scale' op max_scale = 1.000000e+39 is not finite in f32}}
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 1.0e39 : f64}
  return %0 : tensor<f32>
}
