// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch --split-input-file -verify-diagnostics

func.func @on_tensors(%x: tensor<4xf32>) -> tensor<4xf32> {
  %z = arith.constant 0.0 : f32
  // expected-error @below {{'linalg.fill' op is still on tensors; mpt-linalg-to-gpu-launch runs after bufferization}}
  %r = linalg.fill ins(%z : f32) outs(%x : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
