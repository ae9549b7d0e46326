// RUN: mpt-opt %s --mpt-contraction-to-mma --canonicalize --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-select-mma-strategy=allow-tf32=true --mpt-linalg-to-gpu-launch --mpt-contraction-to-mma --split-input-file | FileCheck %s --check-prefix=EPI

// FP32 contractions as TF32 (the strategy's key tf32): f32 tiles in shared
// memory, each element rounded with cvt.rna.tf32.f32, mma.sync m16n8k8.

// A [M][K], B [K][N]: A's fragments by ldmatrix (b16, not transposed: an
// 8 x 8 b16 matrix is 8 x 4 f32), B's by 32-bit shared loads (ldmatrix
// cannot transpose 32-bit elements). Two stages of (32 + 32) x 16 x 4
// bytes; cp.async of 4 f32 (16 bytes, L1 bypassed); two k8 steps a K tile.
// CHECK-LABEL: func.func @tf32_nn
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c32, %{{.*}} = %c1, %{{.*}} = %c1) dynamic_shared_memory_size %c8192_i32
// CHECK: %[[SA:.*]] = memref.view %{{.*}}[%c0][] : {{.*}} to memref<2x32x16xf32, #gpu.address_space<workgroup>>
// CHECK: %[[SB:.*]] = memref.view %{{.*}}[%c4096][] : {{.*}} to memref<2x16x32xf32, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[SA]][%c0, {{.*}}], 4, %{{.*}} {bypassL1} : memref<40x24xf32> to
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[SB]][%c0, {{.*}}], 4, %{{.*}} {bypassL1} : memref<24x48xf32> to
// CHECK: scf.for
// CHECK:   %[[FA:.*]] = nvgpu.ldmatrix %[[SA]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<2x32x16xf32, #gpu.address_space<workgroup>> -> vector<4x1xf32>
// CHECK:   %[[A0F:.*]] = vector.extract %[[FA]][0, 0] : f32 from vector<4x1xf32>
// CHECK:   %[[A0:.*]] = nvvm.convert.float.to.tf32 %[[A0F]] {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK-NOT: nvgpu.ldmatrix %[[SB]]
// CHECK:   %[[B0F:.*]] = memref.load %[[SB]][{{.*}}] : memref<2x16x32xf32, #gpu.address_space<workgroup>>
// CHECK:   %[[B0:.*]] = nvvm.convert.float.to.tf32 %[[B0F]] {rnd = #nvvm.fp_rnd_mode<rna>}
// CHECK:   nvvm.mma.sync A[%[[A0]], %{{.*}}, %{{.*}}, %{{.*}}]  B[%[[B0]], %{{.*}}]  C[{{.*}}]  {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-15: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK:   scf.yield
// Epilogue as for 16-bit inputs: f32 pairs in full tiles, masked edges.
// CHECK: vector.store %{{.*}}, %arg2[{{.*}}] {alignment = 8 : i64} : memref<40x48xf32>, vector<2xf32>
// CHECK: } else {
// CHECK:   memref.store %{{.*}}, %arg2
// CHECK-NOT: linalg.matmul
func.func @tf32_nn(%a: memref<40x24xf32>, %b: memref<24x48xf32>, %c: memref<40x48xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<40x48xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<40x24xf32>, memref<24x48xf32>) outs(%c : memref<40x48xf32>)
  return
}

// -----

// A^T * B^T (A stored [K][M], B [N][K]): A by 32-bit loads, B by ldmatrix,
// never transposed. Three stages: (32 + 32) x 16 x 4 x 3 bytes.
// CHECK-LABEL: func.func @tf32_tn
// CHECK: dynamic_shared_memory_size %c12288_i32
// CHECK: %[[SA:.*]] = memref.view {{.*}} to memref<3x16x32xf32, #gpu.address_space<workgroup>>
// CHECK: %[[SB:.*]] = memref.view {{.*}} to memref<3x32x16xf32, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK:   nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK:   memref.load %[[SA]]
// CHECK:   nvvm.convert.float.to.tf32
// CHECK:   nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x1xf32>
// CHECK:   nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// CHECK-NOT: transpose = true
func.func @tf32_tn(%a: memref<24x40xf32>, %b: memref<48x24xf32>, %c: memref<40x48xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<40x48xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 3 : i64, tf32, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<24x40xf32>, memref<48x24xf32>) outs(%c : memref<40x48xf32>)
  return
}

// -----

// A batch with A [M][K], B [N][K]: both by ldmatrix, no 32-bit loads.
// CHECK-LABEL: func.func @tf32_batch_nt
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c3)
// CHECK: scf.for
// CHECK-NOT: memref.load
// CHECK:   nvgpu.ldmatrix {{.*}} -> vector<4x1xf32>
// CHECK:   nvgpu.ldmatrix {{.*}} -> vector<4x1xf32>
// CHECK:   nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>
func.func @tf32_batch_nt(%a: memref<3x32x64xf32>, %b: memref<3x32x64xf32>, %c: memref<3x32x32xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<3x32x32xf32>)
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    {mma_strategy = {copy = array<i64: 4, 4>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 32>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<3x32x64xf32>, memref<3x32x64xf32>) outs(%c : memref<3x32x32xf32>)
  return
}

// -----

// Odd shapes: rows of 33 f32 allow 4-byte copies only, still cp.async
// (one f32, zero-filled past the edges; no synchronous loads as for 16-bit
// elements), rows of 18 8-byte copies; K = 18 is two K tiles of 8 with a
// zero-filled tail. No zero fill: C += A * B, every store masked or not
// paired (odd rows).
// CHECK-LABEL: func.func @tf32_ragged
// CHECK-NOT: scf.if %{{.*}} -> (f32)
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %{{.*}}[{{.*}}], 2, %{{.*}} : memref<33x18xf32> to
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 1, %{{.*}} : memref<18x33xf32> to
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK:   nvvm.mma.sync
// CHECK: memref.load %arg2
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: vector.store
func.func @tf32_ragged(%a: memref<33x18xf32>, %b: memref<18x33xf32>, %c: memref<33x33xf32>) {
  linalg.matmul {mma_strategy = {copy = array<i64: 2, 1>, group_m = 1 : i64, stages = 2 : i64, tf32, tile = array<i64: 32, 32, 8>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<33x18xf32>, memref<18x33xf32>) outs(%c : memref<33x33xf32>)
  return
}

// -----

// A forward layer in FP32 with allow-tf32: the bias add and ReLU run in the
// tensor-core kernel's epilogue, staged through shared memory in full tiles
// (the staging tile is f32 for any input type); the f32 result of the
// contraction is never allocated.
// EPI-LABEL: func.func @tf32_bias_relu
// EPI-SAME: %[[BIAS:[a-z0-9]+]]: memref<128xf32>
// EPI: %[[Y:.*]] = gpu.alloc () : memref<256x128xf32>
// EPI: %[[R:.*]] = gpu.alloc () : memref<256x128xf32>
// EPI-NOT: gpu.alloc
// EPI: gpu.launch {{.*}} function(@tf32_bias_relu_mma0_matmul)
// EPI: nvvm.convert.float.to.tf32
// EPI: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 8>
// EPI: vector.store {{.*}} : memref<32x72xf32, #gpu.address_space<workgroup>>, vector<2xf32>
// EPI: gpu.barrier
// EPI: vector.load %[[BIAS]]{{.*}} : memref<128xf32>, vector<4xf32>
// EPI: arith.addf
// EPI: arith.maximumf
// EPI: vector.store %{{.*}}, %[[Y]]{{.*}} vector<4xf32>
// EPI: vector.store %{{.*}}, %[[R]]{{.*}} vector<4xf32>
// EPI: } else {
// EPI: memref.load %[[BIAS]]
// EPI-NOT: linalg.
// EPI: return %[[Y]], %[[R]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @tf32_bias_relu(%a: memref<256x64xf32>, %b: memref<64x128xf32>, %bias: memref<128xf32>)
    -> (memref<256x128xf32>, memref<256x128xf32>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<256x128xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<256x128xf32>)
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x128xf32>) outs(%c : memref<256x128xf32>)
  %y = gpu.alloc () : memref<256x128xf32>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<256x128xf32>, memref<128xf32>) outs(%y : memref<256x128xf32>) {
  ^bb0(%x: f32, %v: f32, %o: f32):
    %s = arith.addf %x, %v : f32
    linalg.yield %s : f32
  }
  %r = gpu.alloc () : memref<256x128xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y : memref<256x128xf32>) outs(%r : memref<256x128xf32>) {
  ^bb0(%v: f32, %o: f32):
    %m = arith.maximumf %v, %z : f32
    linalg.yield %m : f32
  }
  gpu.dealloc %c : memref<256x128xf32>
  return %y, %r : memref<256x128xf32>, memref<256x128xf32>
}
