// RUN: mpt-opt %s --mpt-device-scalars --split-input-file -verify-diagnostics

// A loop bound read from a tensor would need the host to wait for the
// device.
func.func @loop_bound(%n: tensor<index>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @below {{the scalar is computed here}}
  %b = tensor.extract %n[] : tensor<index>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @below {{'scf.for' op uses a scalar read from a tensor on the host}}
  %r = scf.for %i = %c0 to %b step %c1 iter_args(%a = %x) -> tensor<4xf32> {
    scf.yield %a : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// A data-dependent shape.
func.func @dynamic_size(%n: tensor<index>) -> tensor<?xf32> {
  // expected-note @below {{the scalar is computed here}}
  %b = tensor.extract %n[] : tensor<index>
  // expected-error @below {{'tensor.empty' op uses a scalar read from a tensor on the host}}
  %e = tensor.empty(%b) : tensor<?xf32>
  return %e : tensor<?xf32>
}

// -----

// A named op other than fill cannot take the chain into its body.
func.func @named_op_capture(%x: tensor<f32>, %a: tensor<4xf32>) -> tensor<4xf32> {
  %v = tensor.extract %x[] : tensor<f32>
  %e = tensor.empty() : tensor<4xf32>
  // expected-error @below {{'linalg.map' op captures a scalar read from a tensor; only linalg.generic can compute it in its kernel}}
  %r = linalg.map ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>)
    (%in: f32, %out: f32) {
      %y = arith.mulf %in, %v : f32
      linalg.yield %y : f32
    }
  return %r : tensor<4xf32>
}
