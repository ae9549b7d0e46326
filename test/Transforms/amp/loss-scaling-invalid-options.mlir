// The loss-scaling options of auto-mixed-precision are checked as the pass's
// are: the scale and the factors must fit f32, the step counts i32.
// RUN: not mpt-opt %s --auto-mixed-precision="growth-interval=4294967297" 2>&1 | FileCheck %s --check-prefix=INTERVAL
// RUN: not mpt-opt %s --auto-mixed-precision="hysteresis=3000000000" 2>&1 | FileCheck %s --check-prefix=HYST
// RUN: not mpt-opt %s --auto-mixed-precision="init-scale=inf" 2>&1 | FileCheck %s --check-prefix=INIT
// RUN: not mpt-opt %s --auto-mixed-precision="loss-scaling=static init-scale=1e39" 2>&1 | FileCheck %s --check-prefix=INIT-BIG
// RUN: not mpt-opt %s --auto-mixed-precision="dtype=bf16 loss-scaling=dynamic max-scale=1e39" 2>&1 | FileCheck %s --check-prefix=MAX
// RUN: not mpt-opt %s --auto-mixed-precision="growth-factor=inf" 2>&1 | FileCheck %s --check-prefix=GROWTH
// Without loss scaling the options are not used, and not checked.
// RUN: mpt-opt %s --auto-mixed-precision="loss-scaling=none growth-interval=4294967297" | FileCheck %s --check-prefix=NONE
// INTERVAL: mpt-insert-loss-scaling: growth-interval must be in [1, 2147483647] (its state is an i32), got 4294967297
// HYST: mpt-insert-loss-scaling: hysteresis must be in [1, 2147483647] (its state is an i32), got 3000000000
// INIT: mpt-insert-loss-scaling: init-scale must be > 0 and finite in f32, got inf
// INIT-BIG: mpt-insert-loss-scaling: init-scale must be > 0 and finite in f32, got 1e+39
// MAX: mpt-insert-loss-scaling: max-scale must be >= min-scale and finite in f32, got 1e+39
// GROWTH: mpt-insert-loss-scaling: growth-factor must be > 1 and finite in f32, got inf
// NONE-LABEL: func.func @step
// NONE-NOT: mpt.update_scale
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  %e = tensor.empty() : tensor<4xf32>
  %b = linalg.broadcast ins(%seed : tensor<f32>) outs(%e : tensor<4xf32>) dimensions = [0]
  %g = arith.mulf %b, %w : tensor<4xf32>
  return %g : tensor<4xf32>
}
