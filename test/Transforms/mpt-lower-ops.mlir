// RUN: mpt-opt %s --mpt-lower-ops --split-input-file | FileCheck %s
// (Debian's LLVM 22 is built without statistics, so -mlir-pass-statistics
// prints no counts; see docs/Design.md.)

// CHECK-LABEL: func.func @static_seed
// CHECK-NOT: mpt.loss_grad
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: return %[[ONE]]
func.func @static_seed(%loss: tensor<f32>) -> tensor<f32> {
  %0 = mpt.loss_grad %loss : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// CHECK-LABEL: func.func @scalar_seed
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f16
// CHECK: return %[[ONE]]
func.func @scalar_seed(%loss: f16) -> f16 {
  %0 = mpt.loss_grad %loss : f16
  return %0 : f16
}

// -----

// The dynamic sizes come from the loss itself.
// CHECK-LABEL: func.func @dynamic_seed
// CHECK-SAME: (%[[L:.*]]: tensor<?x3xbf16>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[D:.*]] = tensor.dim %[[L]], %[[C0]]
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x3xbf16>
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : bf16
// CHECK: %[[F:.*]] = linalg.fill ins(%[[ONE]] : bf16) outs(%[[E]] : tensor<?x3xbf16>)
// CHECK: return %[[F]]
func.func @dynamic_seed(%loss: tensor<?x3xbf16>) -> tensor<?x3xbf16> {
  %0 = mpt.loss_grad %loss : tensor<?x3xbf16>
  return %0 : tensor<?x3xbf16>
}

// -----

// The pass folds nothing but mpt ops: the foldable addition stays.
// CHECK-LABEL: func.func @negative_only_mpt_ops
// CHECK: arith.addf
func.func @negative_only_mpt_ops() -> f32 {
  %a = arith.constant 1.0 : f32
  %b = arith.addf %a, %a : f32
  return %b : f32
}

// -----

// mpt.unscale_check: per grad an elementwise generic (g * 1/scale) and a
// reduction computing the Inf/NaN flag and the sum of squares, chained
// through the inits (flag of grad 0 is the init of grad 1's reduction).
// CHECK-LABEL: func.func @unscale_check
// CHECK: %[[S:.*]] = tensor.extract %arg0[] : tensor<f32>
// CHECK: %[[INV:.*]] = arith.divf %{{.*}}, %[[S]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%arg1 : tensor<4x3xf32>)
// CHECK: arith.mulf %{{.*}}, %[[INV]] : f32
// CHECK: %[[R0:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%arg1 : tensor<4x3xf32>)
// CHECK: math.absf
// CHECK: arith.cmpf olt
// CHECK: arith.ori
// CHECK: linalg.generic {{.*}} ins(%arg2 : tensor<?xf32>)
// CHECK: %[[R1:.*]]:2 = linalg.generic {{.*}} ins(%arg2 : tensor<?xf32>) outs(%[[R0]]#0, %[[R0]]#1 : tensor<i1>, tensor<f32>)
// CHECK: return %{{.*}}, %{{.*}}, %[[R1]]#0, %[[R1]]#1
func.func @unscale_check(%s: tensor<f32>, %g0: tensor<4x3xf32>, %g1: tensor<?xf32>)
    -> (tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, tensor<f32>) {
  %u0, %u1, %inf, %sq = mpt.unscale_check %s, %g0, %g1 : tensor<4x3xf32>, tensor<?xf32>
  return %u0, %u1, %inf, %sq : tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, tensor<f32>
}

// -----

// mpt.update_scale: scalar arithmetic with selects, no control flow.
// CHECK-LABEL: func.func @update_scale
// CHECK-NOT: scf.
// CHECK: arith.cmpi sle
// CHECK: arith.maximumf
// CHECK: arith.cmpi sge
// CHECK: arith.minimumf
// CHECK-COUNT-3: tensor.from_elements
func.func @update_scale(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>) -> (tensor<f32>, tensor<i32>, tensor<i32>) {
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf {growth_factor = 2.0 : f64, backoff_factor = 0.5 : f64, growth_interval = 2000 : i64, hysteresis = 1 : i64, min_scale = 1.0 : f64, max_scale = 16777216.0 : f64}
  return %0, %1, %2 : tensor<f32>, tensor<i32>, tensor<i32>
}
