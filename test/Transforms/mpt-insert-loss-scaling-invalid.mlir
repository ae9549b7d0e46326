// RUN: mpt-opt %s --mpt-insert-loss-scaling --split-input-file --verify-diagnostics
// RUN: mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=strict=true --verify-diagnostics
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=mode=auto 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=backoff-factor=2 2>&1 | FileCheck %s --check-prefix=BACKOFF
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling="min-scale=8 max-scale=4" 2>&1 | FileCheck %s --check-prefix=BOUNDS
// MODE: mpt-insert-loss-scaling: unknown mode 'auto'; expected static or dynamic
// BACKOFF: mpt-insert-loss-scaling: backoff-factor must be in (0, 1)
// BOUNDS: mpt-insert-loss-scaling: needs 0 < min-scale <= max-scale

// expected-error @+1 {{'func.func' op has grads but no backward seed: loss scaling needs an argument with mpt.role = "loss_grad" or the op mpt.loss_grad to multiply by the scale}}
func.func @no_seed(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has a backward seed but no result with mpt.role = "grad": loss scaling has no gradient to unscale and check}}
func.func @no_grads(%s: tensor<f32> {mpt.role = "loss_grad"}) -> tensor<f32> {
  return %s : tensor<f32>
}

// -----

// expected-error @+1 {{'func.func' op already has a "loss_scale" argument: loss scaling was inserted before}}
func.func @twice(%w: tensor<4xf32> {mpt.role = "param"}, %s: tensor<f32> {mpt.role = "loss_grad"}, %ls: tensor<f32> {mpt.role = "loss_scale"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has a backward seed of type 'tensor<f16>'; loss scaling expects an f32 seed}}
func.func @f16_seed(%w: tensor<4xf32> {mpt.role = "param"}, %s: tensor<f16> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}
