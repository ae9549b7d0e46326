// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-attach-optimizer=kind=sgd
// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-attach-optimizer=kind=adam
// RUN: mpt-opt %s --split-input-file --verify-diagnostics --mpt-attach-optimizer="kind=momentum keep-grads=true"

// A grads-form step that another function calls is refused: with sgd the
// caller would silently receive updated parameters where it read grads, with
// adam or momentum the call would miss the state arguments.

// expected-error @+1 {{'func.func' op is called from @train; mpt-attach-optimizer changes what @step takes or returns and does not update its callers}}
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}, %x: tensor<4xf32> {mpt.role = "input"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %x, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}

func.func @train(%w: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{called here}}
  %g = func.call @step(%w, %x) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %n = arith.subf %w, %g : tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

// A reference that is not a call counts too.
// expected-error @+1 {{'func.func' op is called from @pick; mpt-attach-optimizer changes what @step2 takes or returns}}
func.func @step2(%w: tensor<4xf32> {mpt.role = "param"}, %x: tensor<4xf32> {mpt.role = "input"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %g = arith.mulf %x, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}

func.func @pick() -> ((tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>) {
  // expected-note @+1 {{called here}}
  %f = func.constant @step2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %f : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
}
