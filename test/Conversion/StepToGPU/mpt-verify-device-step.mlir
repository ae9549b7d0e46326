// RUN: mpt-opt %s --mpt-verify-device-step --split-input-file -verify-diagnostics

// Host code that only allocates, takes views, reads shapes, computes with
// host scalars and launches passes.
func.func @ok(%x: memref<?x4xf32>, %lr: f32) -> memref<?x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %b = gpu.alloc (%n) : memref<?x4xf32>
  %v = memref.collapse_shape %b [[0, 1]] : memref<?x4xf32> into memref<?xf32>
  %s = arith.mulf %lr, %lr : f32
  gpu.launch blocks(%a0, %a1, %a2) in (%g0 = %n, %g1 = %c1, %g2 = %c1)
             threads(%t0, %t1, %t2) in (%h0 = %c1, %h1 = %c1, %h2 = %c1) {
    %e = memref.load %x[%a0, %c0] : memref<?x4xf32>
    %y = arith.mulf %e, %s : f32
    memref.store %y, %v[%a0] : memref<?xf32>
    gpu.terminator
  }
  return %b : memref<?x4xf32>
}

// -----

func.func @host_load(%x: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{'memref.load' op would run on the host: mpt-lower-to-nvvm runs every op of a step in a kernel and cannot put this one in one}}
  %v = memref.load %x[%c0] : memref<4xf32>
  return %v : f32
}

// -----

func.func @host_linalg(%x: memref<4xf32>) {
  %z = arith.constant 0.0 : f32
  // expected-error @below {{'linalg.fill' op would run on the host}}
  linalg.fill ins(%z : f32) outs(%x : memref<4xf32>)
  return
}

// -----

// Host loops may hold launches; each op inside is checked.
func.func @host_loop(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    // expected-error @below {{'memref.store' op would run on the host}}
    memref.store %z, %x[%i] : memref<4xf32>
  }
  return
}

// -----

func.func @host_tensor(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'arith.addf' op would run on the host}}
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
