// RUN: mpt-opt %s --mpt-gpu-async-region --split-input-file -verify-diagnostics

func.func @not_outlined(%n: index) {
  // expected-error @below {{'gpu.launch' op is not outlined: run gpu-kernel-outlining before mpt-gpu-async-region}}
  gpu.launch blocks(%b0, %b1, %b2) in (%g0 = %n, %g1 = %n, %g2 = %n)
             threads(%t0, %t1, %t2) in (%h0 = %n, %h1 = %n, %h2 = %n) {
    gpu.terminator
  }
  return
}

// -----

func.func @already_async() {
  %t = gpu.wait async
  // expected-error @below {{'gpu.alloc' op is asynchronous already: mpt-gpu-async-region expects synchronous GPU ops}}
  %a, %u = gpu.alloc async [%t] () : memref<16xf32>
  gpu.wait [%u]
  return
}
