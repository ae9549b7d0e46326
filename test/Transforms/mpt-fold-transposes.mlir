// RUN: mpt-opt %s --mpt-fold-transposes --split-input-file --mlir-print-local-scope | FileCheck %s
// RUN: mpt-opt %s --mpt-fold-transposes=generalize=false --split-input-file | FileCheck %s --check-prefix=NOGEN

// The backward's dW = X^T dY: the transpose of the 16-bit activation is
// read through the map (k, m) of A; the casts of the body stay; the
// transpose is dead. dX = dY W^T likewise, through (n, k) of B.
// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%[[X:.*]]: tensor<256x64xf16>, %[[DY:.*]]: tensor<256x128xf16>, %[[W:.*]]: tensor<64x128xf16>
// CHECK-NOT: linalg.transpose
// CHECK: %[[DW:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[DY]] : tensor<256x64xf16>, tensor<256x128xf16>)
// CHECK: arith.extf
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[DX:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK-SAME: ins(%[[DY]], %[[W]] : tensor<256x128xf16>, tensor<64x128xf16>)
// CHECK: return %[[DW]], %[[DX]]
func.func @backward(%x: tensor<256x64xf16>, %dy: tensor<256x128xf16>, %w: tensor<64x128xf16>,
                    %acc1: tensor<64x128xf32>, %acc2: tensor<256x64xf32>)
    -> (tensor<64x128xf32>, tensor<256x64xf32>) {
  %e1 = tensor.empty() : tensor<64x256xf16>
  %xt = linalg.transpose ins(%x : tensor<256x64xf16>) outs(%e1 : tensor<64x256xf16>) permutation = [1, 0]
  %dw = linalg.matmul ins(%xt, %dy : tensor<64x256xf16>, tensor<256x128xf16>) outs(%acc1 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<128x64xf16>
  %wt = linalg.transpose ins(%w : tensor<64x128xf16>) outs(%e2 : tensor<128x64xf16>) permutation = [1, 0]
  %dx = linalg.matmul ins(%dy, %wt : tensor<256x128xf16>, tensor<128x64xf16>) outs(%acc2 : tensor<256x64xf32>) -> tensor<256x64xf32>
  return %dw, %dx : tensor<64x128xf32>, tensor<256x64xf32>
}

// -----

// A batched contraction (attention's Q K^T) with a transpose of the last
// two dims of K; a transpose also read elsewhere stays for that reader
// (generalized).
// CHECK-LABEL: func.func @batched
// CHECK: %[[T:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<4x32x16xbf16>, tensor<4x32x16xbf16>)
// CHECK: return %{{.*}}, %[[T]]
func.func @batched(%q: tensor<4x32x16xbf16>, %k: tensor<4x32x16xbf16>, %acc: tensor<4x32x32xf32>)
    -> (tensor<4x32x32xf32>, tensor<4x16x32xbf16>) {
  %e = tensor.empty() : tensor<4x16x32xbf16>
  %kt = linalg.transpose ins(%k : tensor<4x32x16xbf16>) outs(%e : tensor<4x16x32xbf16>) permutation = [0, 2, 1]
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x32x16xbf16>, tensor<4x16x32xbf16>) outs(%acc : tensor<4x32x32xf32>) -> tensor<4x32x32xf32>
  return %s, %kt : tensor<4x32x32xf32>, tensor<4x16x32xbf16>
}

// -----

// Generalization for fusion: a broadcast and a reduce become generics; a
// fill stays named. Without `generalize` they all stay.
// CHECK-LABEL: func.func @data_movement
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: linalg.fill
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-NOT: linalg.broadcast
// CHECK-NOT: linalg.reduce
// NOGEN-LABEL: func.func @data_movement
// NOGEN: linalg.broadcast
// NOGEN: linalg.reduce
func.func @data_movement(%b: tensor<10xf32>, %x: tensor<8x10xf32>) -> (tensor<8x10xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<8x10xf32>
  %bb = linalg.broadcast ins(%b : tensor<10xf32>) outs(%e : tensor<8x10xf32>) dimensions = [0]
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e1 : tensor<8xf32>) -> tensor<8xf32>
  %r = linalg.reduce ins(%x : tensor<8x10xf32>) outs(%f : tensor<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %bb, %r : tensor<8x10xf32>, tensor<8xf32>
}

// -----

// Negative: a transpose read by an elementwise op (no contraction) is not
// folded (it is generalized); a contraction on buffers is left alone.
// CHECK-LABEL: func.func @negative
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: linalg.matmul
// NOGEN-LABEL: func.func @negative
// NOGEN: linalg.transpose
// NOGEN: linalg.matmul
func.func @negative(%x: tensor<3x2xf32>, %a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %t = linalg.transpose ins(%x : tensor<3x2xf32>) outs(%e : tensor<2x3xf32>) permutation = [1, 0]
  linalg.matmul ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return %t : tensor<2x3xf32>
}
