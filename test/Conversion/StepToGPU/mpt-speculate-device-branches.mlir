// RUN: mpt-opt %s --mpt-speculate-device-branches --split-input-file | FileCheck %s

// The optimizer's skip on found_inf: both branches run, each tensor result
// is selected by a generic that reads the flag as a 0-d tensor, the scalar
// result by arith.select.
// CHECK-LABEL: func.func @skip_on_found_inf
// CHECK-SAME: (%[[FLAG:.*]]: tensor<i1>, %[[W:.*]]: tensor<4xf32>, %[[G:.*]]: tensor<4xf32>, %[[S:.*]]: f32)
// CHECK-NOT: scf.if
// CHECK: %[[C:.*]] = tensor.extract %[[FLAG]][]
// CHECK: %[[NEW:.*]] = arith.subf %[[W]], %[[G]]
// CHECK: %[[T:.*]] = arith.addf %[[S]], %[[S]]
// CHECK: %[[SEL:.*]] = linalg.generic
// CHECK-SAME: ins(%[[FLAG]], %[[W]], %[[NEW]] : tensor<i1>, tensor<4xf32>, tensor<4xf32>)
// CHECK: ^bb0(%[[B:.*]]: i1, %[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.select %[[B]], %[[X]], %[[Y]] : f32
// CHECK: %[[SCALAR:.*]] = arith.select %[[C]], %[[S]], %[[T]] : f32
// CHECK: return %[[SEL]], %[[SCALAR]]
func.func @skip_on_found_inf(%flag: tensor<i1>, %w: tensor<4xf32>,
                             %g: tensor<4xf32>, %s: f32) -> (tensor<4xf32>, f32) {
  %c = tensor.extract %flag[] : tensor<i1>
  %r:2 = scf.if %c -> (tensor<4xf32>, f32) {
    scf.yield %w, %s : tensor<4xf32>, f32
  } else {
    %new = arith.subf %w, %g : tensor<4xf32>
    %t = arith.addf %s, %s : f32
    scf.yield %new, %t : tensor<4xf32>, f32
  }
  return %r#0, %r#1 : tensor<4xf32>, f32
}

// -----

// A condition computed from a tensor element is a device value too; the
// flag tensor is rebuilt with from_elements (mpt-device-scalars moves it
// into a kernel). Dynamic shapes: the select's init takes the sizes.
// CHECK-LABEL: func.func @computed_condition
// CHECK: %[[CMP:.*]] = arith.cmpf ogt
// CHECK: %[[FE:.*]] = tensor.from_elements %[[CMP]] : tensor<i1>
// CHECK: %[[DIM:.*]] = tensor.dim
// CHECK: %[[INIT:.*]] = tensor.empty(%[[DIM]]) : tensor<?xf32>
// CHECK: linalg.generic {{.*}} ins(%[[FE]], {{.*}}) outs(%[[INIT]] : tensor<?xf32>)
func.func @computed_condition(%x: tensor<f32>, %a: tensor<?xf32>,
                              %b: tensor<?xf32>) -> tensor<?xf32> {
  %v = tensor.extract %x[] : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %c = arith.cmpf ogt, %v, %zero : f32
  %r = scf.if %c -> tensor<?xf32> {
    scf.yield %a : tensor<?xf32>
  } else {
    scf.yield %b : tensor<?xf32>
  }
  return %r : tensor<?xf32>
}

// -----

// Negative: a branch on a host value (an argument) stays a branch.
// CHECK-LABEL: func.func @negative_host_condition
// CHECK: scf.if
func.func @negative_host_condition(%c: i1, %a: tensor<4xf32>,
                                   %b: tensor<4xf32>) -> tensor<4xf32> {
  %r = scf.if %c -> tensor<4xf32> {
    scf.yield %a : tensor<4xf32>
  } else {
    scf.yield %b : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}
