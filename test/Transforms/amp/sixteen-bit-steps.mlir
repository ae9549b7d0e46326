// RUN: mpt-opt %s --auto-mixed-precision --split-input-file --verify-diagnostics | FileCheck %s

// The default pipeline leaves 16-bit and mixed steps without loss scaling,
// with a remark, as it leaves 16-bit ops as they are ("nothing to convert").

// An f16 step: seed, parameter and grad in f16.
// CHECK-LABEL: func.func @f16_step
// CHECK-NOT: loss_scale
// CHECK-NOT: mpt.unscale_check
// CHECK: return
// expected-remark @+2 {{loss scaling left out: the backward seed or a grad has type 'tensor<f16>' (a 16-bit step is left as it is; loss scaling applies to f32 steps)}}
// expected-remark @+1 {{nothing to convert}}
func.func @f16_step(%w: tensor<4xf16> {mpt.role = "param"}, %seed: tensor<f16> {mpt.role = "loss_grad"})
    -> (tensor<4xf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf16>
  %b = linalg.broadcast ins(%seed : tensor<f16>) outs(%e : tensor<4xf16>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf16>
  return %g : tensor<4xf16>
}

// -----

// A bf16 step with the seed op.
// CHECK-LABEL: func.func @bf16_step
// CHECK-NOT: loss_scale
// CHECK-NOT: mpt.unscale_check
// CHECK: return
// expected-remark @+2 {{loss scaling left out: the backward seed or a grad has type 'tensor<bf16>' (a 16-bit step is left as it is; loss scaling applies to f32 steps)}}
// expected-remark @+1 {{nothing to convert}}
func.func @bf16_step(%w: tensor<bf16> {mpt.role = "param"})
    -> (tensor<bf16> {mpt.role = "loss"}, tensor<bf16> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %l = arith.mulf %w, %w : tensor<bf16>
  %seed = mpt.loss_grad %l : tensor<bf16>
  %g = arith.mulf %seed, %w : tensor<bf16>
  return %l, %g : tensor<bf16>, tensor<bf16>
}

// -----

// Mixed: an f32 seed, a grad made f16 by hand.
// CHECK-LABEL: func.func @f16_grad
// CHECK-NOT: loss_scale
// CHECK-NOT: mpt.unscale_check
// CHECK: return
// expected-remark @+1 {{loss scaling left out: the backward seed or a grad has type 'tensor<4xf16>' (a 16-bit step is left as it is; loss scaling applies to f32 steps)}}
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
// CHECK-LABEL: func.func @f16_seed
// CHECK-NOT: loss_scale
// CHECK-NOT: mpt.unscale_check
// CHECK: return
// expected-remark @+1 {{loss scaling left out: the backward seed or a grad has type 'tensor<f16>' (a 16-bit step is left as it is; loss scaling applies to f32 steps)}}
func.func @f16_seed(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<f16> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %s = arith.extf %seed : tensor<f16> to tensor<f32>
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%s : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}
