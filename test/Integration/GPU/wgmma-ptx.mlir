// The Hopper warpgroup kernels of mpt-contraction-to-mma (strategies with
// the key wgmma), through upstream's NVVM pipeline to PTX for sm_90a (no GPU
// needed): TMA loads completing on mbarriers, wgmma.mma_async with f32
// accumulators, K-major and transposed operands, 128x256 and 128x128
// tiles, and a staged epilogue behind a named barrier. mma-ptxas.test
// assembles them.
// RUN: mpt-opt %s --mpt-contraction-to-mma --gpu-kernel-outlining \
// RUN:   --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=true" \
// RUN:   | FileCheck %s
// CHECK: gpu.binary @wg_f16_256_kernels
// CHECK-SAME: .target sm_90a
// CHECK-SAME: mbarrier.init.shared.b64
// CHECK-SAME: mbarrier.arrive.expect_tx.shared.b64
// CHECK-SAME: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-SAME: mbarrier.try_wait.parity.shared.b64
// CHECK-SAME: wgmma.fence.sync.aligned
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16
// CHECK-SAME: wgmma.commit_group.sync.aligned
// CHECK-SAME: wgmma.wait_group.sync.aligned \091
// CHECK: gpu.binary @wg_bf16_tt_kernels
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: gpu.binary @wg_epilogue_kernels
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16
// CHECK-SAME: bar.sync \091, 256

func.func @wg_f16_256(%a: memref<1024x512xf16>, %b: memref<512x2048xf16>, %c: memref<1024x2048xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.fill ins(%z : f32) outs(%c : memref<1024x2048xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<1024x512xf16>, memref<512x2048xf16>) outs(%c : memref<1024x2048xf32>)
  return
}

#km = affine_map<(m, n, k) -> (k, m)>
#nk = affine_map<(m, n, k) -> (n, k)>
#mn = affine_map<(m, n, k) -> (m, n)>
func.func @wg_bf16_tt(%a: memref<512x1024xbf16>, %b: memref<640x512xbf16>, %c: memref<1024x640xbf16>) {
  linalg.matmul indexing_maps = [#km, #nk, #mn] {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 128, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<512x1024xbf16>, memref<640x512xbf16>) outs(%c : memref<1024x640xbf16>)
  return
}

func.func @wg_epilogue(%a: memref<1024x256xf16>, %b: memref<256x2048xf16>, %bias: memref<2048xf32>, %out: memref<1024x2048xf16>) {
  %z = arith.constant 0.0 : f32
  %c = gpu.alloc () : memref<1024x2048xf32>
  linalg.fill ins(%z : f32) outs(%c : memref<1024x2048xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, epilogue_stages = 1 : i64, group_m = 8 : i64, stages = 4 : i64, tile = array<i64: 128, 256, 64>, warps = array<i64: 8, 1>, wgmma}}
    ins(%a, %b : memref<1024x256xf16>, memref<256x2048xf16>) outs(%c : memref<1024x2048xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
    ins(%c, %bias : memref<1024x2048xf32>, memref<2048xf32>) outs(%out : memref<1024x2048xf16>) {
  ^bb0(%x: f32, %y: f32, %o: f16):
    %s = arith.addf %x, %y : f32
    %r = arith.maximumf %s, %z : f32
    %t = arith.truncf %r : f32 to f16
    linalg.yield %t : f16
  }
  gpu.dealloc %c : memref<1024x2048xf32>
  return
}
