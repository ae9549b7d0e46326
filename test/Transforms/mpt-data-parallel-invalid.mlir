// RUN: mpt-opt %s --mpt-data-parallel --split-input-file -verify-diagnostics
// RUN: not mpt-opt %s --mpt-data-parallel="world-size=-2" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not mpt-opt %s --mpt-data-parallel="bucket-mb=-1" 2>&1 | FileCheck %s --check-prefix=BUCKET
// RUN: not mpt-opt %s --mpt-data-parallel="reduce-type=f8" 2>&1 | FileCheck %s --check-prefix=TYPE

// SIZE: error: mpt-data-parallel: world-size must be >= 1, or 0 for the launcher's world size at run time; got -2
// BUCKET: error: mpt-data-parallel: bucket-mb must be >= 0 (0: one all-reduce per grad); got -1
// TYPE: error: mpt-data-parallel: reduce-type must be grad, bf16 or f16; got 'f8'

// expected-error @+1 {{mpt-data-parallel: no function has grads to all-reduce (results with mpt.role = "grad", or an mpt.unscale_check after loss scaling)}}
module {
  func.func @inference(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{mpt-data-parallel: the module already has a symbol @dp (the step is data-parallel already?); name the grid with grid=<name>}}
shard.grid @dp(shape = ?)
func.func @step(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op already updates its parameters in the step (mpt-attach-optimizer): mpt-data-parallel must run before it, so that the optimizer reads the all-reduced grads}}
func.func @updated(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "param_out", mpt.updates = 0 : i64}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has 2 blocks: mpt-data-parallel places the all-reduces in a single-block body (structured control flow: scf)}}
func.func @blocks(%w: tensor<4xf32> {mpt.role = "param"}) -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  cf.br ^bb1
^bb1:
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has a grad of type 'tensor<4xi32>': mpt-data-parallel all-reduces ranked float tensors}}
func.func @ints(%w: tensor<4xi32> {mpt.role = "param"}) -> (tensor<4xi32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xi32>
}

// -----

func.func @check_in_region(%w: tensor<4xf32> {mpt.role = "param"}, %s: tensor<f32>, %c: i1) -> tensor<4xf32> {
  %r = scf.if %c -> tensor<4xf32> {
    // expected-error @+1 {{'mpt.unscale_check' op is inside a region: mpt-data-parallel all-reduces the grads of an mpt.unscale_check in the function's body}}
    %u, %inf, %sq = mpt.unscale_check %s, %w : tensor<4xf32>
    scf.yield %u : tensor<4xf32>
  } else {
    scf.yield %w : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}
