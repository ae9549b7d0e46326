// RUN: mpt-opt %s --auto-mixed-precision --verify-diagnostics

// An override naming the other 16-bit type is an error, not silently ignored.
func.func @override_other_type(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.addf' op has mpt.precision = "bf16" but the pass converts to f16; use "f32" or "f16", or run with dtype=bf16}}
  %0 = arith.addf %a, %a {mpt.precision = "bf16"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}
