// The TF32 kernels of mpt-contraction-to-mma (FP32 contractions with
// allow-tf32), through upstream's NVVM pipeline to PTX (no GPU needed): A
// [M][K] by ldmatrix and B [K][N] by 32-bit shared loads, A^T * B (both by
// 32-bit loads), A * B^T (both by ldmatrix), and odd shapes (4-byte
// cp.async); every element rounded with cvt.rna.tf32.f32 before mma.sync
// m16n8k8. mma-ptxas.test assembles them for sm_90a and sm_80.
// RUN: mpt-opt %s --mpt-select-mma-strategy=allow-tf32=true --mpt-contraction-to-mma --gpu-kernel-outlining \
// RUN:   --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=true" > %t.mlir
// RUN: %PYTHON %S/Inputs/mma_ptx_of.py gemm_tf32_kernels < %t.mlir | FileCheck %s --check-prefix=NN
// RUN: %PYTHON %S/Inputs/mma_ptx_of.py gemm_tf32_tn_kernels < %t.mlir | FileCheck %s --check-prefix=TN --implicit-check-not=ldmatrix
// RUN: %PYTHON %S/Inputs/mma_ptx_of.py gemm_tf32_nt_kernels < %t.mlir | FileCheck %s --check-prefix=NT --implicit-check-not=ld.shared.b32 --implicit-check-not=.trans
// RUN: %PYTHON %S/Inputs/mma_ptx_of.py gemm_tf32_odd_kernels < %t.mlir | FileCheck %s --check-prefix=ODD --implicit-check-not=cp.async.cg
// Without the option the same functions get no tensor-core kernel.
// RUN: mpt-opt %s --mpt-select-mma-strategy --mpt-contraction-to-mma | FileCheck %s --check-prefix=OFF
// OFF-NOT: gpu.launch
// OFF-NOT: mma_strategy

// NN: .target sm_90a
// NN: .entry gemm_tf32_mma0_matmul(
// NN: cp.async.cg.shared.global [%{{[a-z0-9]+}}], [%{{[a-z0-9]+}}], 16,
// NN: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// NN: cvt.rna.tf32.f32
// NN: ld.shared.b32
// NN: cvt.rna.tf32.f32
// NN: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// NN-NOT: ldmatrix.sync.aligned.m8n8.x4.trans

// TN: .entry gemm_tf32_tn_mma{{[0-9]+}}_matmul(
// TN: ld.shared.b32
// TN: cvt.rna.tf32.f32
// TN: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32

// NT: .entry gemm_tf32_nt_mma{{[0-9]+}}_matmul(
// NT: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// NT: cvt.rna.tf32.f32
// NT: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32

// ODD: .entry gemm_tf32_odd_mma{{[0-9]+}}_matmul(
// ODD: cp.async.ca.shared.global [%{{[a-z0-9]+}}], [%{{[a-z0-9]+}}], 4,
// ODD: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32

func.func @gemm_tf32(%a: memref<2048x1024xf32>, %b: memref<1024x2048xf32>, %c: memref<2048x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<2048x2048xf32>)
  linalg.matmul ins(%a, %b : memref<2048x1024xf32>, memref<1024x2048xf32>) outs(%c : memref<2048x2048xf32>)
  return
}

func.func @gemm_tf32_tn(%a: memref<1024x2048xf32>, %b: memref<1024x2048xf32>, %c: memref<2048x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<2048x2048xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<1024x2048xf32>, memref<1024x2048xf32>) outs(%c : memref<2048x2048xf32>)
  return
}

func.func @gemm_tf32_nt(%a: memref<2048x1024xf32>, %b: memref<2048x1024xf32>, %c: memref<2048x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<2048x2048xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<2048x1024xf32>, memref<2048x1024xf32>) outs(%c : memref<2048x2048xf32>)
  return
}

func.func @gemm_tf32_odd(%a: memref<1000x999xf32>, %b: memref<999x1001xf32>, %c: memref<1000x1001xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<1000x1001xf32>)
  linalg.matmul ins(%a, %b : memref<1000x999xf32>, memref<999x1001xf32>) outs(%c : memref<1000x1001xf32>)
  return
}
