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
