// RUN: mpt-opt %s --verify-diagnostics --auto-mixed-precision="loss-scaling=none return-16bit-params=true"

// return-16bit-params adds results to a public step: a step that another
// function calls is refused, naming the caller.

// expected-error @+1 {{'func.func' op is called from @train; keep-io-types=false or return-16bit-params changes what @step takes or returns and does not update its callers}}
func.func @step(%w: tensor<4x4xf32> {mpt.role = "param"}, %x: tensor<4x4xf32> {mpt.role = "input"})
    -> tensor<4x4xf32> {
  %acc = arith.constant dense<0.0> : tensor<4x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m : tensor<4x4xf32>
}

func.func @train(%w: tensor<4x4xf32>, %x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // expected-note @+1 {{called here}}
  %y = func.call @step(%w, %x) : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}
