// RUN: mpt-opt %s --mpt-select-mma-strategy="wgmma=true" --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-select-mma-strategy="wgmma=true shared-memory-limit=100000" --split-input-file | FileCheck %s --check-prefix=SMEM
// RUN: mpt-opt %s --mpt-select-mma-strategy --split-input-file | FileCheck %s --check-prefix=OFF
// RUN: mpt-opt %s --mpt-select-mma-strategy="wgmma=true persistent=true num-sms=100" --split-input-file | FileCheck %s --check-prefix=PERSIST

// wgmma=true (the pipeline sets it for sm_90a): a 16-bit contraction whose
// operands TMA can load gets the warpgroup strategy: two consumer
// warpgroups (warps = [8, 1]), K tiles of 64, 4 stages, 128x256 tiles when
// there are enough of them to fill 132 multiprocessors.
// CHECK-LABEL: func.func @large
// CHECK: linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 2 : i64, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma}}
// With less shared memory, fewer stages (48 KiB each, and 1 KiB to align).
// SMEM-LABEL: func.func @large
// SMEM: stages = 2 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma
// persistent=true: a grid of num-sms blocks, recorded as `persistent`.
// PERSIST-LABEL: func.func @large
// PERSIST: group_m = 8 : i64, persistent = 100 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma
// PERSIST-LABEL: func.func @negative_mma_sync
// PERSIST-NOT: persistent =
// OFF-LABEL: func.func @large
// OFF-NOT: wgmma
func.func @large(%a: memref<8192x8192xf16>, %b: memref<8192x8192xf16>, %c: memref<8192x8192xf32>) {
  linalg.matmul ins(%a, %b : memref<8192x8192xf16>, memref<8192x8192xf16>) outs(%c : memref<8192x8192xf32>)
  return
}

// -----

// The backward's transposed operands (A^T, B^T through indexing maps) and
// bf16 take TMA too; so does an odd extent with 16-byte aligned rows. Few
// tiles: 128x128.
// CHECK-LABEL: func.func @transposed
// CHECK: linalg.matmul indexing_maps = {{.*}} {mma_strategy = {{.*}}tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}
// CHECK: linalg.matmul {mma_strategy = {{.*}}tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @transposed(%a: memref<64x1000xbf16>, %b: memref<256x64xbf16>, %c: memref<1000x256xf32>,
                      %p: memref<777x64xf16>, %q: memref<64x96xf16>, %r: memref<777x96xf16>) {
  linalg.matmul indexing_maps = [#km, #nk, #mn]
    ins(%a, %b : memref<64x1000xbf16>, memref<256x64xbf16>) outs(%c : memref<1000x256xf32>)
  linalg.matmul indexing_maps = [#mk, affine_map<(m, n, k) -> (k, n)>, #mn]
    ins(%p, %q : memref<777x64xf16>, memref<64x96xf16>) outs(%r : memref<777x96xf16>)
  return
}

// -----

// What TMA cannot load keeps mma.sync: rows of 999 elements (not a multiple
// of 16 bytes), a dynamic stride, a batch loop; FP32 stays off tensor cores.
// CHECK-LABEL: func.func @negative_mma_sync
// CHECK: linalg.matmul {mma_strategy = {copy = array<i64: 1, 8>, {{.*}}warps = array<i64: 2, 2>}}
// CHECK: linalg.matmul {mma_strategy = {copy = array<i64: 1, 8>, {{.*}}warps = array<i64: 2, 2>}}
// CHECK: linalg.batch_matmul {mma_strategy = {{.*}}warps = array<i64: 2, 2>}}
// CHECK-NOT: wgmma
// CHECK: linalg.matmul ins
func.func @negative_mma_sync(%a: memref<1000x999xf16>, %b: memref<999x1000xf16>, %c: memref<1000x1000xf32>,
                             %d: memref<?x?xf16>, %e: memref<?x64xf16>, %f: memref<?x64xf32>,
                             %x: memref<4x64x32xf16>, %y: memref<4x32x16xf16>, %z: memref<4x64x16xf16>,
                             %p: memref<64x64xf32>, %q: memref<64x64xf32>, %r: memref<64x64xf32>) {
  linalg.matmul ins(%a, %b : memref<1000x999xf16>, memref<999x1000xf16>) outs(%c : memref<1000x1000xf32>)
  linalg.matmul ins(%d, %e : memref<?x?xf16>, memref<?x64xf16>) outs(%f : memref<?x64xf32>)
  linalg.batch_matmul ins(%x, %y : memref<4x64x32xf16>, memref<4x32x16xf16>) outs(%z : memref<4x64x16xf16>)
  linalg.matmul ins(%p, %q : memref<64x64xf32>, memref<64x64xf32>) outs(%r : memref<64x64xf32>)
  return
}
