// The tensor-core GEMM kernels of mpt-contraction-to-mma, through upstream's
// NVVM pipeline to PTX (no GPU needed): f16 with B [K][N] and bf16 with
// B [N][K] (A * B^T), each with cp.async, ldmatrix and mma.sync m16n8k16 with
// f32 accumulators. mma-ptxas.test assembles them for sm_90a and sm_80.
// RUN: mpt-opt %s --mpt-select-mma-strategy --mpt-contraction-to-mma --gpu-kernel-outlining \
// RUN:   --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=true" \
// RUN:   | FileCheck %s
// CHECK: gpu.binary @gemm_f16_kernels
// CHECK-SAME: .target sm_90a
// CHECK-SAME: .entry gemm_f16_mma0_matmul(
// CHECK-SAME: cp.async.cg.shared.global
// CHECK-SAME: cp.async.commit_group
// CHECK-SAME: cp.async.wait_group \092
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK: gpu.binary @gemm_bf16_nt_kernels
// CHECK-SAME: cp.async.cg.shared.global
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-NOT: ldmatrix.sync.aligned.m8n8.x4.trans
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

func.func @gemm_f16(%a: memref<2048x1024xf16>, %b: memref<1024x2048xf16>, %c: memref<2048x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<2048x2048xf32>)
  linalg.matmul ins(%a, %b : memref<2048x1024xf16>, memref<1024x2048xf16>) outs(%c : memref<2048x2048xf32>)
  return
}

func.func @gemm_bf16_nt(%a: memref<2048x1024xbf16>, %b: memref<2048x1024xbf16>, %c: memref<2048x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<2048x2048xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<2048x1024xbf16>, memref<2048x1024xbf16>) outs(%c : memref<2048x2048xf32>)
  return
}
