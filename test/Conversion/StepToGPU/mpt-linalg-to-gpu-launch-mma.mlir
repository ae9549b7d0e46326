// RUN: mpt-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(mpt-linalg-to-gpu-launch))" | FileCheck %s

// A contraction carrying `mma_strategy` and the zero fill of its output
// right before it are left to mpt-contraction-to-mma; everything else
// becomes a launch.

// CHECK-LABEL: func.func @left_to_tensor_cores
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: linalg.fill
// CHECK-NEXT: linalg.matmul {mma_strategy
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @left_to_tensor_cores(%a: memref<64x32xf16>, %b: memref<32x64xf16>, %c: memref<64x64xf32>, %d: memref<64x64xf32>) {
  %z = arith.constant 0.0 : f32
  linalg.copy ins(%c : memref<64x64xf32>) outs(%d : memref<64x64xf32>)
  linalg.fill ins(%z : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64, stages = 2 : i64, tile = array<i64: 64, 64, 32>, warps = array<i64: 2, 2>}} ins(%a, %b : memref<64x32xf16>, memref<32x64xf16>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// A non-zero fill (the kernel could not drop it) and a contraction without
// a strategy are ordinary kernels.
// CHECK-LABEL: func.func @negative_generic
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT: linalg.
func.func @negative_generic(%a: memref<64x32xf16>, %b: memref<32x64xf16>, %c: memref<64x64xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<64x64xf32>)
  linalg.matmul ins(%a, %b : memref<64x32xf16>, memref<32x64xf16>) outs(%c : memref<64x64xf32>)
  return
}
