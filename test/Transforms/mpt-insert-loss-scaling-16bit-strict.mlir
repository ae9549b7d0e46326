// RUN: mpt-opt %s --mpt-insert-loss-scaling=strict=true --split-input-file --verify-diagnostics
// RUN: mpt-opt %s --auto-mixed-precision="loss-scaling=dynamic" --split-input-file --verify-diagnostics
// RUN: mpt-opt %s --auto-mixed-precision="loss-scaling=static" --split-input-file --verify-diagnostics

// Loss scaling asked for explicitly on a 16-bit or mixed step is an error.

// An f16 step: seed, parameter and grad in f16.
// expected-error @+1 {{'func.func' op has a backward seed or a grad of type 'tensor<f16>'; loss scaling expects an f32 seed and f32 grads (leave it out for a 16-bit step: loss-scaling=none)}}
func.func @f16_step(%w: tensor<4xf16> {mpt.role = "param"}, %seed: tensor<f16> {mpt.role = "loss_grad"})
    -> (tensor<4xf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf16>
  %b = linalg.broadcast ins(%seed : tensor<f16>) outs(%e : tensor<4xf16>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf16>
  return %g : tensor<4xf16>
}

// -----

// A bf16 step with the seed op.
// expected-error @+1 {{'func.func' op has a backward seed or a grad of type 'tensor<bf16>'; loss scaling expects an f32 seed and f32 grads (leave it out for a 16-bit step: loss-scaling=none)}}
func.func @bf16_step(%w: tensor<bf16> {mpt.role = "param"})
    -> (tensor<bf16> {mpt.role = "loss"}, tensor<bf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %l = arith.mulf %w, %w : tensor<bf16>
  %seed = mpt.loss_grad %l : tensor<bf16>
  %g = arith.mulf %seed, %w : tensor<bf16>
  return %l, %g : tensor<bf16>, tensor<bf16>
}

// -----

// Mixed: an f32 seed, a grad made f16 by hand.
// expected-error @+1 {{'func.func' op has a backward seed or a grad of type 'tensor<4xf16>'; loss scaling expects an f32 seed and f32 grads (leave it out for a 16-bit step: loss-scaling=none)}}
func.func @f16_grad(%w: tensor<4xf16> {mpt.role = "param"}, %x: tensor<4xf32> {mpt.role = "input"},
                    %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<4xf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %x : tensor<4xf32>
  %h = arith.truncf %g : tensor<4xf32> to tensor<4xf16>
  return %h : tensor<4xf16>
}

// -----

// Mixed: an f16 seed, f32 parameter and grad.
// expected-error @+1 {{'func.func' op has a backward seed or a grad of type 'tensor<f16>'; loss scaling expects an f32 seed and f32 grads (leave it out for a 16-bit step: loss-scaling=none)}}
func.func @f16_seed(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<f16> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %s = arith.extf %seed : tensor<f16> to tensor<f32>
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%s : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}
