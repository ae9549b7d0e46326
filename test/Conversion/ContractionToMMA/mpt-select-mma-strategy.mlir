// RUN: mpt-opt %s --mpt-select-mma-strategy --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-select-mma-strategy="num-sms=16" --split-input-file | FileCheck %s --check-prefix=SMS
// RUN: mpt-opt %s --mpt-select-mma-strategy="shared-memory-limit=65536" --split-input-file | FileCheck %s --check-prefix=SMEM
// RUN: mpt-opt %s --mpt-select-mma-strategy="allow-tf32=true" --split-input-file | FileCheck %s --check-prefix=TF32
// RUN: mpt-opt %s --mpt-select-mma-strategy="allow-tf32=true shared-memory-limit=65536" --split-input-file | FileCheck %s --check-prefix=TF32SMEM

// A large f16 GEMM gets the 128x256 tile, 8 warps of 64x64, four stages of
// 96 KiB and 16-byte copies.
// CHECK-LABEL: func.func @large
// CHECK: linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 2 : i64, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 32>, warps = array<i64: 2, 4>}}
// With 64 KiB of shared memory, two stages of that tile fit.
// SMEM-LABEL: func.func @large
// SMEM: stages = 2 : i64, tile = array<i64: 128, 256, 32>
func.func @large(%a: memref<8192x8192xf16>, %b: memref<8192x8192xf16>, %c: memref<8192x8192xf32>) {
  linalg.matmul ins(%a, %b : memref<8192x8192xf16>, memref<8192x8192xf16>) outs(%c : memref<8192x8192xf32>)
  return
}

// -----

// 16 blocks of 128x128 do not fill 132 multiprocessors: 64x128 gives 32, still
// too few, so the smallest tile; with num-sms=16 the 128x128 tile is enough.
// CHECK-LABEL: func.func @medium
// CHECK: tile = array<i64: 64, 64, 32>, warps = array<i64: 2, 2>
// SMS-LABEL: func.func @medium
// SMS: tile = array<i64: 128, 128, 32>, warps = array<i64: 2, 2>
func.func @medium(%a: memref<512x256xbf16>, %b: memref<256x512xbf16>, %c: memref<512x512xf32>) {
  linalg.matmul ins(%a, %b : memref<512x256xbf16>, memref<256x512xbf16>) outs(%c : memref<512x512xf32>)
  return
}

// -----

// Rows of 999 elements are 2-byte aligned only: synchronous loads for A. B's
// rows of 1002 elements allow 4-byte copies.
// CHECK-LABEL: func.func @ragged
// CHECK: copy = array<i64: 1, 2>
func.func @ragged(%a: memref<1000x999xf16>, %b: memref<999x1002xf16>, %c: memref<1000x1002xf32>) {
  linalg.matmul ins(%a, %b : memref<1000x999xf16>, memref<999x1002xf16>) outs(%c : memref<1000x1002xf32>)
  return
}

// -----

// A^T * B^T given by indexing maps, a batch, and a contraction-shaped generic:
// all get a strategy.
// CHECK-LABEL: func.func @layouts
// CHECK: linalg.matmul indexing_maps = {{.*}} {mma_strategy =
// CHECK: linalg.batch_matmul {mma_strategy =
// CHECK: linalg.generic {{.*}}mma_strategy =
#mk = affine_map<(m, n, k) -> (m, k)>
#nk = affine_map<(m, n, k) -> (n, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @layouts(%a: memref<64x128xbf16>, %b: memref<256x64xbf16>, %c: memref<128x256xf32>,
                   %x: memref<4x64x32xf16>, %y: memref<4x32x16xf16>, %z: memref<4x64x16xf16>,
                   %p: memref<128x64xf16>, %q: memref<256x64xf16>, %r: memref<128x256xf32>) {
  linalg.matmul indexing_maps = [#km, #nk, #mn]
    ins(%a, %b : memref<64x128xbf16>, memref<256x64xbf16>) outs(%c : memref<128x256xf32>)
  linalg.batch_matmul ins(%x, %y : memref<4x64x32xf16>, memref<4x32x16xf16>) outs(%z : memref<4x64x16xf16>)
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
    ins(%p, %q : memref<128x64xf16>, memref<256x64xf16>) outs(%r : memref<128x256xf32>) {
  ^bb0(%s: f16, %t: f16, %acc: f32):
    %0 = arith.extf %s : f16 to f32
    %1 = arith.extf %t : f16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// A pinned strategy is kept as written.
// CHECK-LABEL: func.func @pinned
// CHECK: mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}
func.func @pinned(%a: memref<64x64xf16>, %b: memref<64x64xf16>, %c: memref<64x64xf32>) {
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// An FP32 GEMM stays exact FP32 (the generic path) unless allow-tf32 asks
// for TF32, and then gets the 128x256x32 tile of 16-bit inputs (128-byte
// rows of f32), 16-byte copies of 4 f32 and three stages of 48 KiB.
// CHECK-LABEL: func.func @fp32
// CHECK-NOT: mma_strategy
// TF32-LABEL: func.func @fp32
// TF32: linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, epilogue_stages = 2 : i64, group_m = 8 : i64, stages = 3 : i64, tf32, tile = array<i64: 128, 256, 32>, warps = array<i64: 2, 4>}}
// With 64 KiB, shared memory counts 4 bytes an element: two stages of a K
// tile of 16 f32.
// TF32SMEM-LABEL: func.func @fp32
// TF32SMEM: stages = 2 : i64, tf32, tile = array<i64: 128, 256, 16>
func.func @fp32(%a: memref<8192x8192xf32>, %b: memref<8192x8192xf32>, %c: memref<8192x8192xf32>) {
  linalg.matmul ins(%a, %b : memref<8192x8192xf32>, memref<8192x8192xf32>) outs(%c : memref<8192x8192xf32>)
  return
}

// -----

// A pinned TF32 strategy is an explicit request: kept without allow-tf32.
// CHECK-LABEL: func.func @fp32_pinned
// CHECK: mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}
func.func @fp32_pinned(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<64x64xf32>) {
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// TF32 with the backward's layouts (A^T * B, A * B^T), ragged rows and a
// batch: rows of 999 f32 are 4-byte aligned only (copies of one f32, still
// cp.async), rows of 1002 f32 8-byte aligned.
// CHECK-LABEL: func.func @fp32_layouts
// CHECK-NOT: mma_strategy
// TF32-LABEL: func.func @fp32_layouts
// TF32: linalg.matmul indexing_maps = {{.*}} {mma_strategy = {copy = array<i64: 4, 4>, {{.*}}, tf32, tile = array<i64: 64, 64, 32>
// TF32: linalg.matmul {mma_strategy = {copy = array<i64: 1, 2>, {{.*}}, tf32, tile = array<i64: 64, 64, 32>
// TF32: linalg.matmul indexing_maps = {{.*}} {mma_strategy = {copy = array<i64: 4, 4>, {{.*}}, tf32, tile = array<i64: 64, 64, 32>
// TF32: linalg.batch_matmul {mma_strategy = {{{.*}}, tf32, tile = array<i64: 64, 64, 32>
#mk3 = affine_map<(m, n, k) -> (m, k)>
#nk3 = affine_map<(m, n, k) -> (n, k)>
#km3 = affine_map<(m, n, k) -> (k, m)>
#kn3 = affine_map<(m, n, k) -> (k, n)>
#mn3 = affine_map<(m, n, k) -> (m, n)>
func.func @fp32_layouts(%a: memref<64x128xf32>, %b: memref<64x256xf32>, %c: memref<128x256xf32>,
                        %p: memref<1000x999xf32>, %q: memref<999x1002xf32>, %r: memref<1000x1002xf32>,
                        %s: memref<128x64xf32>, %t: memref<256x64xf32>,
                        %x: memref<4x64x32xf32>, %y: memref<4x32x16xf32>, %z: memref<4x64x16xf32>) {
  linalg.matmul indexing_maps = [#km3, #kn3, #mn3]
    ins(%a, %b : memref<64x128xf32>, memref<64x256xf32>) outs(%c : memref<128x256xf32>)
  linalg.matmul ins(%p, %q : memref<1000x999xf32>, memref<999x1002xf32>) outs(%r : memref<1000x1002xf32>)
  linalg.matmul indexing_maps = [#mk3, #nk3, #mn3]
    ins(%s, %t : memref<128x64xf32>, memref<256x64xf32>) outs(%c : memref<128x256xf32>)
  linalg.batch_matmul ins(%x, %y : memref<4x64x32xf32>, memref<4x32x16xf32>) outs(%z : memref<4x64x16xf32>)
  return
}

// -----

// Not for tensor cores, TF32 or not: f32 inputs with a 16-bit output,
// mixed f32 and 16-bit inputs.
// TF32-LABEL: func.func @negative_tf32
// TF32-NOT: mma_strategy
func.func @negative_tf32(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %h: memref<64x64xf16>) {
  linalg.matmul ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%h : memref<64x64xf16>)
  linalg.matmul ins(%a, %h : memref<64x64xf32>, memref<64x64xf16>) outs(%a : memref<64x64xf32>)
  return
}

// -----

// Not for tensor cores: mixed input types, tensors, an output indexed
// [n][m].
// CHECK-LABEL: func.func @negative_cases
// CHECK-NOT: mma_strategy
#mk2 = affine_map<(m, n, k) -> (m, k)>
#kn2 = affine_map<(m, n, k) -> (k, n)>
#nm2 = affine_map<(m, n, k) -> (n, m)>
func.func @negative_cases(%c: memref<64x64xf32>,
                          %h: memref<64x64xf16>, %g: memref<64x64xbf16>,
                          %t: tensor<64x64xf16>, %u: tensor<64x64xf32>) -> tensor<64x64xf32> {
  linalg.matmul ins(%h, %g : memref<64x64xf16>, memref<64x64xbf16>) outs(%c : memref<64x64xf32>)
  linalg.matmul indexing_maps = [#mk2, #kn2, #nm2]
    ins(%h, %h : memref<64x64xf16>, memref<64x64xf16>) outs(%c : memref<64x64xf32>)
  %r = linalg.matmul ins(%t, %t : tensor<64x64xf16>, tensor<64x64xf16>) outs(%u : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
