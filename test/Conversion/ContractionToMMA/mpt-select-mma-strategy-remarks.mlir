// RUN: mpt-opt %s --mpt-select-mma-strategy="wgmma=true remarks=true" --split-input-file -verify-diagnostics
// RUN: mpt-opt %s --mpt-select-mma-strategy="remarks=true allow-tf32=true" --split-input-file 2>&1 | FileCheck %s --check-prefix=MMA

// With remarks=true each contraction that gets a strategy says which kernel,
// tile, warps, stages and shared memory were chosen, and, where wgmma was
// asked for but cannot be used, why.

func.func @warpgroup(%a: memref<8192x8192xf16>, %b: memref<8192x8192xf16>, %c: memref<8192x8192xf32>) {
  // expected-remark @below {{wgmma kernel: tile 128x256x64, warps 8x1, 4 stages, 197632 bytes of shared memory}}
  linalg.matmul ins(%a, %b : memref<8192x8192xf16>, memref<8192x8192xf16>) outs(%c : memref<8192x8192xf32>)
  return
}

// -----

func.func @unaligned(%a: memref<1000x999xf16>, %b: memref<999x1000xf16>, %c: memref<1000x1000xf32>) {
  // expected-remark @below {{mma.sync kernel: tile 64x64x32, warps 2x2, 4 stages, 32768 bytes of shared memory (no wgmma: TMA needs static strides and offset of A in multiples of 16 bytes)}}
  linalg.matmul ins(%a, %b : memref<1000x999xf16>, memref<999x1000xf16>) outs(%c : memref<1000x1000xf32>)
  return
}

// -----

func.func @batched(%x: memref<4x64x32xf16>, %y: memref<4x32x16xf16>, %z: memref<4x64x16xf16>) {
  // expected-remark @below {{mma.sync kernel: tile 64x64x32, warps 2x2, 4 stages, 32768 bytes of shared memory (no wgmma: batch loop)}}
  linalg.batch_matmul ins(%x, %y : memref<4x64x32xf16>, memref<4x32x16xf16>) outs(%z : memref<4x64x16xf16>)
  return
}

// -----

// FP32 is not mapped without allow-tf32: no strategy, no remark.
func.func @negative_fp32(%p: memref<64x64xf32>, %q: memref<64x64xf32>, %r: memref<64x64xf32>) {
  linalg.matmul ins(%p, %q : memref<64x64xf32>, memref<64x64xf32>) outs(%r : memref<64x64xf32>)
  return
}

// Without wgmma nothing is said about it; TF32 says so.
// MMA: remark: mma.sync kernel: tile 128x256x32, warps 2x4, 4 stages, 98304 bytes of shared memory
// MMA-NOT: no wgmma
// MMA: remark: mma.sync (tf32) kernel: tile 64x64x32
