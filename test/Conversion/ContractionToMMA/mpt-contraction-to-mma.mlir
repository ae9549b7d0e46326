// RUN: mpt-opt %s --mpt-contraction-to-mma --canonicalize --split-input-file | FileCheck %s

// f16, A [M][K], B [K][N]: B's ldmatrix is transposed. The zero fill goes into
// the kernel (stores without loads). 40x48 with 32x32 tiles: 2 x 2 blocks of
// one warp, two stages of (32 + 32) x 16 x 2 bytes.
// CHECK-LABEL: func.func @f16_nn
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c32, %{{.*}} = %c1, %{{.*}} = %c1) dynamic_shared_memory_size %c4096_i32
// CHECK: %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[SA:.*]] = memref.view %[[SMEM]][%c0][] : {{.*}} to memref<2x32x16xf16, #gpu.address_space<workgroup>>
// CHECK: %[[SB:.*]] = memref.view %[[SMEM]][%c2048][] : {{.*}} to memref<2x16x32xf16, #gpu.address_space<workgroup>>
// Prologue: one stage, then one commit group.
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[SA]][%c0, {{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[SB]][%c0, {{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: %[[G:.*]] = nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (f32, f32,
// CHECK:   nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK:   gpu.barrier
// CHECK:   nvgpu.device_async_copy
// CHECK:   nvgpu.device_async_create_group
// CHECK:   nvgpu.ldmatrix %[[SA]][{{.*}}] {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x2xf16>
// CHECK:   nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = true} : {{.*}} -> vector<4x2xf16>
// CHECK:   nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:   scf.yield
// Epilogue: full tiles store column pairs (8-byte aligned), edge tiles go
// element by element; C is not read.
// CHECK: scf.if
// CHECK-NOT: memref.load %arg2
// CHECK:   %[[PAIR:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf32>
// CHECK:   vector.store %[[PAIR]], %arg2[{{.*}}] {alignment = 8 : i64} : memref<40x48xf32>, vector<2xf32>
// CHECK: } else {
// CHECK:   scf.if
// CHECK:     memref.store %{{.*}}, %arg2
// CHECK: gpu.terminator
// CHECK-NOT: linalg.matmul
func.func @f16_nn(%a: memref<40x24xf16>, %b: memref<24x48xf16>, %c: memref<40x48xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<40x48xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<40x24xf16>, memref<24x48xf16>) outs(%c : memref<40x48xf32>)
  return
}

// -----

// bf16, B [N][K] (A * B^T): neither ldmatrix is transposed; the bf16 pairs go
// to nvvm.mma.sync as i32.
// CHECK-LABEL: func.func @bf16_nt
// CHECK: memref.view {{.*}} to memref<2x32x16xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<2x32x16xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x2xbf16>
// CHECK: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false} : {{.*}} -> vector<4x2xbf16>
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, {{.*}} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
func.func @bf16_nt(%a: memref<40x24xbf16>, %b: memref<48x24xbf16>, %c: memref<40x48xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<40x48xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<40x24xbf16>, memref<48x24xbf16>) outs(%c : memref<40x48xf32>)
  return
}

// -----

// A^T * B (A stored [K][M], as in a weight gradient): A's ldmatrix is
// transposed, and so is B's. Three stages: two prologue groups, wait for one.
// CHECK-LABEL: func.func @f16_tn
// CHECK: memref.view {{.*}} to memref<3x16x32xf16, #gpu.address_space<workgroup>>
// CHECK: memref.view {{.*}} to memref<3x16x32xf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : {{.*}} -> vector<4x2xf16>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : {{.*}} -> vector<4x2xf16>
func.func @f16_tn(%a: memref<24x40xf16>, %b: memref<24x48xf16>, %c: memref<40x48xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<40x48xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 3 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<24x40xf16>, memref<24x48xf16>) outs(%c : memref<40x48xf32>)
  return
}

// -----

// A batch: grid z, one 2-D view of each operand per block.
// CHECK-LABEL: func.func @batch
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %[[BZ:.*]]) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c6)
// CHECK: memref.subview %arg0[%[[BZ]], 0, 0] [1, 32, 16] [1, 1, 1] : memref<6x32x16xf16> to memref<32x16xf16, strided<[16, 1], offset: ?>>
// CHECK: memref.subview %arg1[%[[BZ]], 0, 0] [1, 16, 32] [1, 1, 1]
// CHECK: memref.subview %arg2[%[[BZ]], 0, 0] [1, 32, 32] [1, 1, 1]
func.func @batch(%a: memref<6x32x16xf16>, %b: memref<6x16x32xf16>, %c: memref<6x32x32xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<6x32x32xf32>)
  linalg.batch_matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<6x32x16xf16>, memref<6x16x32xf16>) outs(%c : memref<6x32x32xf32>)
  return
}

// -----

// A 16-bit output without a zero fill: C += A * B with the sum in f32, then
// rounded to bf16.
// CHECK-LABEL: func.func @accumulate_bf16_out
// CHECK: nvvm.mma.sync
// CHECK: %[[OLD:.*]] = memref.load %arg2[{{.*}}] : memref<40x32xbf16>
// CHECK: %[[WIDE:.*]] = arith.extf %[[OLD]] : bf16 to f32
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %[[WIDE]] : f32
// CHECK: %[[R:.*]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: vector.from_elements %[[R]], %{{.*}} : vector<2xbf16>
// CHECK: vector.store {{.*}} {alignment = 4 : i64} : memref<40x32xbf16>, vector<2xbf16>
// CHECK: } else {
// CHECK: memref.load %arg2
// CHECK: arith.truncf
// CHECK: memref.store %{{.*}}, %arg2
func.func @accumulate_bf16_out(%a: memref<40x16xbf16>, %b: memref<16x32xbf16>, %c: memref<40x32xbf16>) {
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<40x16xbf16>, memref<16x32xbf16>) outs(%c : memref<40x32xbf16>)
  return
}

// -----

// A non-zero fill stays, and the kernel adds to it.
// CHECK-LABEL: func.func @negative_nonzero_fill
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: memref.load %arg2
func.func @negative_nonzero_fill(%a: memref<32x16xf16>, %b: memref<16x32xf16>, %c: memref<32x32xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<32x32xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<32x16xf16>, memref<16x32xf16>) outs(%c : memref<32x32xf32>)
  return
}

// -----

// Rows of odd length: A (stored [K][M]) is loaded element by element (copy
// width 1), B (stored [N][K]) with 4-byte cp.async (no L1 bypass below 16
// bytes). A contraction-shaped generic.
// CHECK-LABEL: func.func @narrow_copies_generic
// CHECK: gpu.launch
// CHECK: scf.if %{{.*}} -> (f16)
// CHECK:   memref.load %arg0
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<2x16x32xf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %{{.*}}[{{.*}}], 2, %{{.*}} :
// Rows of 33 f32 are not 8-byte aligned: no paired stores.
// CHECK-NOT: vector.store
// CHECK-NOT: linalg.generic
func.func @narrow_copies_generic(%a: memref<18x33xf16>, %b: memref<33x18xf16>, %c: memref<33x33xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<33x33xf32>)
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
    ins(%a, %b : memref<18x33xf16>, memref<33x18xf16>) outs(%c : memref<33x33xf32>)
    attrs = {mma_strategy = {copy = array<i64: 1, 2>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}} {
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

// A dynamic M (a dynamic batch of rows): the grid is computed on the host from
// the output's extent, and the kernel masks with the extents it reads.
// CHECK-LABEL: func.func @dynamic_m
// CHECK: %[[M:.*]] = memref.dim %arg2, %c0 : memref<?x64xf32>
// CHECK: %[[ROWS:.*]] = arith.addi %[[M]], %c31
// CHECK: %[[TILES:.*]] = arith.divui %[[ROWS]], %c32
// CHECK: %[[GRID:.*]] = arith.muli %[[TILES]], %c2
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[GRID]], %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK: memref.dim %arg0, %c0 : memref<?x32xf16>
// CHECK: memref.dim %arg2, %c0 : memref<?x64xf32>
func.func @dynamic_m(%a: memref<?x32xf16>, %b: memref<32x64xf16>, %c: memref<?x64xf32>) {
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 1 : i64, stages = 2 : i64, tile = array<i64: 32, 32, 16>, warps = array<i64: 1, 1>}}
    ins(%a, %b : memref<?x32xf16>, memref<32x64xf16>) outs(%c : memref<?x64xf32>)
  return
}
