// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=reduction-unroll=65 -verify-diagnostics

// expected-error @below {{reduction-unroll must be in [1, 64]}}
func.func @f(%y: memref<4xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%y : memref<4xf32>)
  return
}
