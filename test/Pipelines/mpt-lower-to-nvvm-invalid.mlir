// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa" --split-input-file -verify-diagnostics

// An op no pass of the GPU pipeline puts in a kernel is named, not run on
// the host.
func.func @step(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %e = tensor.empty() : tensor<2x4xf32>
  // expected-error @below {{'linalg.softmax' op would run on the host: mpt-lower-to-nvvm runs every op of a step in a kernel and cannot put this one in one}}
  %r = linalg.softmax dimension(1) ins(%x : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// A scalar read from a tensor used by an op that cannot take it into a
// kernel.
func.func @step(%x: tensor<4xf32>, %i: tensor<index>) -> tensor<4xf32> {
  // expected-note @below {{the scalar is computed here}}
  %k = tensor.extract %i[] : tensor<index>
  %v = arith.constant 1.0 : f32
  // expected-error @below {{'tensor.insert' op uses a scalar read from a tensor on the host}}
  %r = tensor.insert %v into %x[%k] : tensor<4xf32>
  return %r : tensor<4xf32>
}
