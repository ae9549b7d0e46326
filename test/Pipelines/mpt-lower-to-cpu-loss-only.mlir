// RUN: mpt-opt %s --mpt-lower-to-cpu | FileCheck %s
// RUN: mpt-opt %s --mpt-lower-to-cpu="c-interface=false" | FileCheck %s

// A step whose only result is the loss lowers: the role stays on the
// llvm.func, whose result is then a memref descriptor (found by the random
// graph search, issue 12).
// CHECK-LABEL: llvm.func @step
// CHECK-SAME: mpt.role = "loss"
func.func @step(%x: tensor<4xf32> {mpt.role = "input"}) -> (tensor<f32> {mpt.role = "loss"}) {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.reduce ins(%x : tensor<4xf32>) outs(%f : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  return %r : tensor<f32>
}
