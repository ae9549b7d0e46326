// RUN: mpt-opt %s --split-input-file --verify-diagnostics --auto-mixed-precision="keep-io-types=false"
// RUN: mpt-opt %s --split-input-file --auto-mixed-precision="keep-io-types=true" | FileCheck %s --check-prefix=KEEP

// keep-io-types=false may retype a public function's inputs and results; a
// function that another function calls is refused when its type changed
// (the call would no longer match). The same with return-16bit-params:
// signature-callers-low-params.mlir.

// expected-error @+1 {{'func.func' op is called from @outer; keep-io-types=false or return-16bit-params changes what @layer takes or returns and does not update its callers}}
func.func @layer(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %acc = arith.constant dense<0.0> : tensor<4x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m : tensor<4x4xf32>
}

// KEEP-LABEL: func.func @outer
// KEEP: call @layer(%{{.*}}, %{{.*}}) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
func.func @outer(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // expected-note @+1 {{called here}}
  %y = func.call @layer(%x, %w) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %z = math.exp %y : tensor<4x4xf32>
  return %z : tensor<4x4xf32>
}

// -----

// negative: a called function whose signature keep-io-types=false leaves as
// it is (its input is read in f32) is accepted.
// KEEP-LABEL: func.func @f32_layer
func.func @f32_layer(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = math.exp %x : tensor<4xf32>
  return %e : tensor<4xf32>
}

func.func @f32_outer(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = func.call @f32_layer(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
