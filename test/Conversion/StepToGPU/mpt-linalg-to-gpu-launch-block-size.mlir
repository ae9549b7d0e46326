// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=block-size=2048 -verify-diagnostics

// expected-error @below {{block-size must be in [1, 1024]}}
func.func @f(%y: memref<4xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%y : memref<4xf32>)
  return
}
