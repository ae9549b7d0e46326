// RUN: not mpt-opt %s --mpt-attach-optimizer=kind=lamb 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not mpt-opt %s --mpt-attach-optimizer=lr=0 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not mpt-opt %s --mpt-attach-optimizer=beta2=1 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not mpt-opt %s --mpt-attach-optimizer=clip-norm=-1 2>&1 | FileCheck %s --check-prefix=CLIP
// Options are checked as the f32 constants they become.
// RUN: not mpt-opt %s --mpt-attach-optimizer=lr=1e39 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not mpt-opt %s --mpt-attach-optimizer="kind=adam eps=1e-50" 2>&1 | FileCheck %s --check-prefix=EPS
// RUN: not mpt-opt %s --mpt-attach-optimizer="kind=adam beta2=0.9999999999" 2>&1 | FileCheck %s --check-prefix=BETA
// RUN: not mpt-opt %s --mpt-attach-optimizer="kind=momentum momentum=0.99999999999" 2>&1 | FileCheck %s --check-prefix=MOM
// RUN: not mpt-opt %s --mpt-attach-optimizer=weight-decay=1e40 2>&1 | FileCheck %s --check-prefix=WD
// RUN: not mpt-opt %S/Inputs/inference.mlir --mpt-attach-optimizer 2>&1 | FileCheck %s --check-prefix=NOGRADS
// RUN: mpt-opt %S/Inputs/f16-param.mlir --mpt-attach-optimizer --verify-diagnostics
// KIND: mpt-attach-optimizer: unknown kind 'lamb'; expected sgd, momentum, adam or adamw
// LR: mpt-attach-optimizer: lr must be > 0 and finite in f32
// BETA: mpt-attach-optimizer: beta1 and beta2 must be in [0, 1) in f32
// CLIP: mpt-attach-optimizer: clip-norm must be >= 0 and finite in f32 (0: off)
// EPS: mpt-attach-optimizer: eps must be > 0 in f32
// MOM: mpt-attach-optimizer: momentum must be in [0, 1) in f32
// WD: mpt-attach-optimizer: weight-decay must be >= 0 and finite in f32
// NOGRADS: mpt-attach-optimizer: no function has results with mpt.role = "grad"; the optimizer needs a grads-form step
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}
