// RUN: mpt-opt %s --mpt-contraction-to-mma --split-input-file | FileCheck %s

// A warpgroup strategy (key wgmma) becomes a Hopper kernel: the TMA maps of
// A and B made on the host (boxes [128][64] for a K-major operand, [64][64]
// for an M- or N-major one, 128-byte swizzle) and passed as pointers; a
// block of two consumer warpgroups and one producer warpgroup (384
// threads); a ring of 4 stages of 32 KiB plus 1 KiB to align it; 8
// mbarriers (full and empty per stage).

// A [M][K] (K-major), B [K][N] (N-major: two boxes of 64 columns a stage).
// CHECK-LABEL: func.func @a_k_major
// CHECK-DAG: %[[CA:.*]] = memref.cast %arg0 : memref<256x192xf16> to memref<*xf16>
// CHECK-DAG: %[[TA:.*]] = nvgpu.tma.create.descriptor %[[CA]] box[%c128, %c64] : memref<*xf16> -> {{.*}}tensor = memref<128x64xf16, #gpu.address_space<workgroup>>, swizzle = swizzle_128b, l2promo = l2promo_256b, oob = zero, interleave = none>
// CHECK-DAG: %[[PA:.*]] = builtin.unrealized_conversion_cast %[[TA]] {{.*}} to !llvm.ptr
// CHECK-DAG: %[[CB:.*]] = memref.cast %arg1 : memref<192x320xf16> to memref<*xf16>
// CHECK-DAG: nvgpu.tma.create.descriptor %[[CB]] box[%c64{{.*}}, %c64{{.*}}] : memref<*xf16> -> {{.*}}tensor = memref<64x64xf16, #gpu.address_space<workgroup>>
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c132096_i32
// CHECK: nvgpu.mbarrier.create -> {{.*}}<memorySpace = #gpu.address_space<workgroup>, num_barriers = 8>
// CHECK: nvgpu.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
// CHECK: gpu.barrier
// The producer (thread 256) waits for a stage's release from round 1 on,
// expects 32 KiB, loads one A box and two B boxes.
// CHECK: scf.for
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%{{.*}}], %c32768
// CHECK-COUNT-3: nvgpu.tma.async.load
// The consumers: wait for the stage, four wgmma m64n128k16 (K-major A:
// layout row; N-major B: layout row), release the previous stage.
// CHECK: } else {
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (!llvm.struct<(f32
// CHECK: nvgpu.mbarrier.try_wait.parity
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <row>]
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvgpu.mbarrier.arrive
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: linalg.matmul
func.func @a_k_major(%a: memref<256x192xf16>, %b: memref<192x320xf16>, %c: memref<256x320xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<256x320xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<256x192xf16>, memref<192x320xf16>) outs(%c : memref<256x320xf32>)
  return
}

// -----

// The weight gradient's layout: A^T (M-major, two boxes [64 K][64 M]) and
// B^T (K-major, one box [128 N][64 K]) in bf16: layouts col and col.
// CHECK-LABEL: func.func @a_m_major
// CHECK-DAG: nvgpu.tma.create.descriptor %{{.*}} box[%c64{{.*}}, %c64{{.*}}] : memref<*xbf16> -> {{.*}}tensor = memref<64x64xbf16
// CHECK-DAG: nvgpu.tma.create.descriptor %{{.*}} box[%c128{{.*}}, %c64{{.*}}] : memref<*xbf16> -> {{.*}}tensor = memref<128x64xbf16
// CHECK: nvgpu.mbarrier.arrive.expect_tx %{{.*}}[%{{.*}}], %c32768
// CHECK-COUNT-3: nvgpu.tma.async.load
// CHECK-COUNT-4: nvvm.wgmma.mma_async {{.*}} A[<bf16>, <one>, <col>], B[<bf16>, <one>, <col>]
#km = affine_map<(m, n, k) -> (k, m)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @a_m_major(%a: memref<512x256xbf16>, %b: memref<128x512xbf16>, %c: memref<256x128xf32>) {
  linalg.matmul indexing_maps = [#km, #nk, #mn] {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 3 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<512x256xbf16>, memref<128x512xbf16>) outs(%c : memref<256x128xf32>)
  return
}

// -----

// With an epilogue whose full tiles are staged through shared memory, the
// consumers synchronise with a named barrier of their 256 threads (the
// producer warpgroup has left).
// CHECK-LABEL: func.func @staged_epilogue
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: %[[ID:.*]] = arith.constant 1 : i32
// CHECK: %[[N:.*]] = arith.constant 256 : i32
// CHECK: nvvm.barrier id = %[[ID]] number_of_threads = %[[N]]
// CHECK: vector.store
func.func @staged_epilogue(%a: memref<256x128xf16>, %b: memref<128x256xf16>, %bias: memref<256xf32>, %out: memref<256x256xf16>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x256xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x256xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 1 : i64, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<256x128xf16>, memref<128x256xf16>) outs(%c : memref<256x256xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
    ins(%c, %bias : memref<256x256xf32>, memref<256xf32>) outs(%out : memref<256x256xf16>) {
  ^bb0(%x: f32, %y: f32, %o: f16):
    %s = arith.addf %x, %y : f32
    %t = arith.truncf %s : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<256x256xf32>
  return
}

// -----

// persistent = 132: the grid is min(tiles, 132) blocks; producer and
// consumers loop over the block's tiles (step: the grid size), counting
// K tiles across tiles for the ring's stages and phases; after a tile's
// last K tile the consumers release its stage too (the producer goes on).
// CHECK-LABEL: func.func @persistent
// CHECK: %[[TILES:.*]] = arith.muli
// CHECK: %[[GRID:.*]] = arith.minui %[[TILES]], %c132
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GRID]],
// CHECK: %[[GX:.*]] = gpu.grid_dim x
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[GX]] iter_args(%{{.*}} = %c0{{.*}}) -> (index)
// CHECK: nvgpu.tma.async.load
// CHECK: } else {
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[GX]] iter_args
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.if
// CHECK: nvgpu.mbarrier.arrive
func.func @persistent(%a: memref<4096x512xf16>, %b: memref<512x4096xf16>, %c: memref<4096x4096xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<4096x4096xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, persistent = 132 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<4096x512xf16>, memref<512x4096xf16>) outs(%c : memref<4096x4096xf32>)
  return
}

// -----

// A staged epilogue needs the ring after the main loop: the kernel keeps a
// block a tile even with the key.
// CHECK-LABEL: func.func @negative_persistent_staged
// CHECK-NOT: arith.minui %{{.*}}, %c132
// CHECK-NOT: gpu.grid_dim
// CHECK: nvvm.barrier id
func.func @negative_persistent_staged(%a: memref<256x128xf16>, %b: memref<128x256xf16>, %bias: memref<256xf32>, %out: memref<256x256xf16>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x256xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x256xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 1 : i64, group_m = 8 : i64, persistent = 132 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<256x128xf16>, memref<128x256xf16>) outs(%c : memref<256x256xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
    ins(%c, %bias : memref<256x256xf32>, memref<256xf32>) outs(%out : memref<256x256xf16>) {
  ^bb0(%x: f32, %y: f32, %o: f16):
    %s = arith.addf %x, %y : f32
    %t = arith.truncf %s : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<256x256xf32>
  return
}
