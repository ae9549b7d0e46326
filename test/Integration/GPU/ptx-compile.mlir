// mpt-opt registers the GPU -> LLVM IR translations: a kernel goes through
// upstream's NVVM pipeline to PTX for sm_90a (no GPU needed); ptxas.test
// assembles it when the CUDA toolkit is present.
// RUN: mpt-opt %s --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa" | FileCheck %s
// CHECK: gpu.binary @kernels
// CHECK-SAME: .target sm_90a
// CHECK-SAME: .entry scale

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%x: memref<256xf32>, %s: f32) kernel {
      %i = gpu.thread_id x
      %v = memref.load %x[%i] : memref<256xf32>
      %r = arith.mulf %v, %s : f32
      memref.store %r, %x[%i] : memref<256xf32>
      gpu.return
    }
  }
}
