// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-insert-loss-scaling
// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-insert-loss-scaling=mode=static
// RUN: mpt-opt %s --split-input-file --verify-diagnostics --auto-mixed-precision

// Passes that change what a step takes or returns refuse a step that another
// function calls, naming the caller: the call would no longer match, or (an
// optimizer that turns grads into updated parameters) would silently read
// something else. These steps are called from @train.

// expected-error @+1 {{'func.func' op is called from @train; mpt-insert-loss-scaling changes what @step takes or returns and does not update its callers: call a copy of the step there, or apply it to a step that nothing calls}}
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}

func.func @train(%w: tensor<4xf32>) -> tensor<4xf32> {
  %one = arith.constant dense<1.0> : tensor<f32>
  // expected-note @+1 {{called here}}
  %g = func.call @step(%w, %one) : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %g : tensor<4xf32>
}
