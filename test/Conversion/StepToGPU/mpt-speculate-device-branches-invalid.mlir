// RUN: mpt-opt %s --mpt-speculate-device-branches --split-input-file -verify-diagnostics

func.func @side_effect_in_branch(%flag: tensor<i1>, %m: memref<4xf32>,
                                 %v: f32) {
  %c = tensor.extract %flag[] : tensor<i1>
  // expected-note @below {{the branch}}
  scf.if %c {
    %i = arith.constant 0 : index
    // expected-error @below {{'memref.store' op has side effects in a branch on a value read from a tensor}}
    memref.store %v, %m[%i] : memref<4xf32>
  }
  return
}

// -----

func.func @unselectable_result(%flag: tensor<i1>, %a: memref<4xf32>,
                               %b: memref<4xf32>) -> memref<4xf32> {
  %c = tensor.extract %flag[] : tensor<i1>
  // expected-error @below {{'scf.if' op yields 'memref<4xf32>' from a branch on a value read from a tensor; only ranked tensors and scalars can be selected on the GPU}}
  %r = scf.if %c -> memref<4xf32> {
    scf.yield %a : memref<4xf32>
  } else {
    scf.yield %b : memref<4xf32>
  }
  return %r : memref<4xf32>
}
