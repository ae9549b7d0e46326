// RUN: mpt-opt %s --mpt-insert-loss-scaling --split-input-file --verify-diagnostics
// RUN: mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=strict=true --verify-diagnostics
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=mode=auto 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=backoff-factor=2 2>&1 | FileCheck %s --check-prefix=BACKOFF
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling="min-scale=8 max-scale=4" 2>&1 | FileCheck %s --check-prefix=BOUNDS
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=init-scale=inf 2>&1 | FileCheck %s --check-prefix=INIT-INF
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=init-scale=1e39 2>&1 | FileCheck %s --check-prefix=INIT-BIG
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=init-scale=1e-50 2>&1 | FileCheck %s --check-prefix=INIT-TINY
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=growth-factor=1e39 2>&1 | FileCheck %s --check-prefix=GROWTH
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=backoff-factor=0.999999999999 2>&1 | FileCheck %s --check-prefix=BACKOFF-ONE
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=min-scale=1e-60 2>&1 | FileCheck %s --check-prefix=MIN
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=max-scale=1e39 2>&1 | FileCheck %s --check-prefix=MAX
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=growth-interval=4294967297 2>&1 | FileCheck %s --check-prefix=INTERVAL
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=growth-interval=3000000000 2>&1 | FileCheck %s --check-prefix=INTERVAL-NEG
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=growth-interval=0 2>&1 | FileCheck %s --check-prefix=INTERVAL-ZERO
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-insert-loss-scaling=hysteresis=4294967297 2>&1 | FileCheck %s --check-prefix=HYST
// MODE: mpt-insert-loss-scaling: unknown mode 'auto'; expected static or dynamic
// BACKOFF: mpt-insert-loss-scaling: backoff-factor must be in (0, 1) in f32, got 2
// BOUNDS: mpt-insert-loss-scaling: max-scale must be >= min-scale and finite in f32, got 4
// The scale and the factors are f32 constants: each must fit, after rounding.
// INIT-INF: mpt-insert-loss-scaling: init-scale must be > 0 and finite in f32, got inf
// INIT-BIG: mpt-insert-loss-scaling: init-scale must be > 0 and finite in f32, got 1e+39
// INIT-TINY: mpt-insert-loss-scaling: init-scale must be > 0 and finite in f32, got 1e-50
// GROWTH: mpt-insert-loss-scaling: growth-factor must be > 1 and finite in f32, got 1e+39
// BACKOFF-ONE: mpt-insert-loss-scaling: backoff-factor must be in (0, 1) in f32, got 0.999999999999
// MIN: mpt-insert-loss-scaling: min-scale must be > 0 and finite in f32, got 1e-60
// MAX: mpt-insert-loss-scaling: max-scale must be >= min-scale and finite in f32, got 1e+39
// The step counts are i32 state: a count that does not fit is refused, not wrapped.
// INTERVAL: mpt-insert-loss-scaling: growth-interval must be in [1, 2147483647] (its state is an i32), got 4294967297
// INTERVAL-NEG: mpt-insert-loss-scaling: growth-interval must be in [1, 2147483647] (its state is an i32), got 3000000000
// INTERVAL-ZERO: mpt-insert-loss-scaling: growth-interval must be in [1, 2147483647] (its state is an i32), got 0
// HYST: mpt-insert-loss-scaling: hysteresis must be in [1, 2147483647] (its state is an i32), got 4294967297

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
