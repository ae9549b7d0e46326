// RUN: not mpt-opt %s --mpt-attach-optimizer=kind=lamb 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not mpt-opt %s --mpt-attach-optimizer=lr=0 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not mpt-opt %s --mpt-attach-optimizer=beta2=1 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not mpt-opt %s --mpt-attach-optimizer=clip-norm=-1 2>&1 | FileCheck %s --check-prefix=CLIP
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-attach-optimizer 2>&1 | FileCheck %s --check-prefix=NOGRADS
// RUN: mpt-opt %S/Inputs/f16-param.mlir --mpt-attach-optimizer --verify-diagnostics
// KIND: mpt-attach-optimizer: unknown kind 'lamb'; expected sgd, momentum, adam or adamw
// LR: mpt-attach-optimizer: lr must be > 0
// BETA: mpt-attach-optimizer: beta1 and beta2 must be in [0, 1)
// CLIP: mpt-attach-optimizer: clip-norm must be >= 0 (0: off)
// NOGRADS: mpt-attach-optimizer: no function has results with mpt.role = "grad"; the optimizer needs a grads-form step
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}
