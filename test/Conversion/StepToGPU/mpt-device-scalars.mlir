// RUN: mpt-opt %s --mpt-device-scalars --split-input-file | FileCheck %s

// The unscale of mpt.unscale_check: 1/scale is read from a tensor; the
// chain is cloned into the generic that uses it, the host copy is erased.
// CHECK-LABEL: func.func @captured_scalar
// CHECK-SAME: (%[[SCALE:.*]]: tensor<f32>, %[[G:.*]]: tensor<4xf32>)
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.0
// CHECK-NEXT: %[[E:.*]] = tensor.empty
// CHECK-NEXT: linalg.generic
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = tensor.extract %[[SCALE]][] : tensor<f32>
// CHECK-NEXT: %[[INV:.*]] = arith.divf %[[ONE]], %[[S]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[INV]] : f32
// CHECK-NEXT: linalg.yield %[[Y]]
#id = affine_map<(d0) -> (d0)>
func.func @captured_scalar(%scale: tensor<f32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %s = tensor.extract %scale[] : tensor<f32>
  %one = arith.constant 1.0 : f32
  %inv = arith.divf %one, %s : f32
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%g : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %inv : f32
    linalg.yield %y : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// The loss-scale state machine: tensor.from_elements of a chain becomes a
// 0-d generic computing it; a host constant from_elements too (no host
// stores into device memory).
// CHECK-LABEL: func.func @from_elements
// CHECK-SAME: (%[[SCALE:.*]]: tensor<f32>)
// CHECK-NOT: tensor.from_elements
// CHECK: %[[A:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<f32>)
// CHECK-NEXT: ^bb0(%{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = tensor.extract %[[SCALE]][]
// CHECK-NEXT: %[[H:.*]] = arith.mulf %[[S]], %{{.*}} : f32
// CHECK-NEXT: linalg.yield %[[H]]
// CHECK: %[[B:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<i1>)
// CHECK-NEXT: ^bb0(%{{.*}}: i1):
// CHECK-NEXT: linalg.yield %false
// CHECK: return %[[A]], %[[B]]
func.func @from_elements(%scale: tensor<f32>) -> (tensor<f32>, tensor<i1>) {
  %s = tensor.extract %scale[] : tensor<f32>
  %half = arith.constant 0.5 : f32
  %h = arith.mulf %s, %half : f32
  %a = tensor.from_elements %h : tensor<f32>
  %false = arith.constant false
  %b = tensor.from_elements %false : tensor<i1>
  return %a, %b : tensor<f32>, tensor<i1>
}

// -----

// Several elements: element i at linear index i.
// CHECK-LABEL: func.func @several_elements
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: %[[I0:.*]] = linalg.index 0
// CHECK: %[[I1:.*]] = linalg.index 1
// CHECK-COUNT-3: arith.select
// CHECK-NOT: arith.select
func.func @several_elements(%x: tensor<2xf32>, %y: f32) -> tensor<2x2xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = tensor.extract %x[%c0] : tensor<2xf32>
  %b = tensor.extract %x[%c1] : tensor<2xf32>
  %r = tensor.from_elements %a, %b, %y, %y : tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// -----

// linalg.fill of a device scalar becomes a generic computing the value.
// CHECK-LABEL: func.func @fill
// CHECK-NOT: linalg.fill
// CHECK: linalg.generic
// CHECK: tensor.extract
// CHECK: math.sqrt
func.func @fill(%x: tensor<f32>) -> tensor<3xf32> {
  %v = tensor.extract %x[] : tensor<f32>
  %r = math.sqrt %v : f32
  %e = tensor.empty() : tensor<3xf32>
  %f = linalg.fill ins(%r : f32) outs(%e : tensor<3xf32>) -> tensor<3xf32>
  return %f : tensor<3xf32>
}

// -----

// Negative: host scalars (arguments, shapes) stay where they are.
// CHECK-LABEL: func.func @negative_host_scalars
// CHECK: %[[D:.*]] = tensor.dim
// CHECK: arith.index_cast %[[D]]
// CHECK: linalg.fill
func.func @negative_host_scalars(%x: tensor<?xf32>, %lr: f32) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %n = arith.index_cast %d : index to i32
  %f = arith.sitofp %n : i32 to f32
  %v = arith.mulf %f, %lr : f32
  %e = tensor.empty(%d) : tensor<?xf32>
  %r = linalg.fill ins(%v : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}
