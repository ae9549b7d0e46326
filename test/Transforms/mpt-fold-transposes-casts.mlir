// RUN: mpt-opt %s --mpt-fold-transposes=generalize=false --cse --split-input-file --mlir-print-local-scope | FileCheck %s
// RUN: mpt-opt %s --convert-elementwise-to-linalg --mpt-fold-transposes --split-input-file | FileCheck %s --check-prefix=GEN

// A cast of a transpose that only contractions read is moved before the
// transpose, which they then fold. Attention's backward casts the saved
// probabilities transposed (dV = P^T dO) that the forward already casts as
// they are (O = P V): after the swap and CSE, one cast, no transpose.
// CHECK-LABEL: func.func @attention_dv
// CHECK-SAME: (%[[P:.*]]: tensor<4x8x8xf32>, %[[V:.*]]: tensor<4x8x2xbf16>, %[[DO:.*]]: tensor<4x8x2xbf16>
// CHECK-NOT: linalg.transpose
// CHECK: %[[PB:.*]] = arith.truncf %[[P]] : tensor<4x8x8xf32> to tensor<4x8x8xbf16>
// CHECK-NOT: arith.truncf
// CHECK: %[[O:.*]] = linalg.batch_matmul ins(%[[PB]], %[[V]]
// CHECK: %[[DV:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
// CHECK-SAME: ins(%[[PB]], %[[DO]] : tensor<4x8x8xbf16>, tensor<4x8x2xbf16>)
// CHECK-NOT: linalg.transpose
// CHECK: return %[[O]], %[[DV]]

// With the pass's default generalization, on casts that
// convert-elementwise-to-linalg made linalg.generic: the transpose is not
// generalized before its cast moves, and the forward's cast is reused
// (no CSE here).
// GEN-LABEL: func.func @attention_dv
// GEN-COUNT-1: arith.truncf
// GEN-NOT: arith.truncf
// GEN-NOT: linalg.transpose
// GEN: return
func.func @attention_dv(%p: tensor<4x8x8xf32>, %v: tensor<4x8x2xbf16>, %do: tensor<4x8x2xbf16>,
                        %acc: tensor<4x8x2xf32>) -> (tensor<4x8x2xf32>, tensor<4x8x2xf32>) {
  %pb = arith.truncf %p : tensor<4x8x8xf32> to tensor<4x8x8xbf16>
  %o = linalg.batch_matmul ins(%pb, %v : tensor<4x8x8xbf16>, tensor<4x8x2xbf16>) outs(%acc : tensor<4x8x2xf32>) -> tensor<4x8x2xf32>
  %e = tensor.empty() : tensor<4x8x8xf32>
  %pt = linalg.transpose ins(%p : tensor<4x8x8xf32>) outs(%e : tensor<4x8x8xf32>) permutation = [0, 2, 1]
  %ptb = arith.truncf %pt : tensor<4x8x8xf32> to tensor<4x8x8xbf16>
  %dv = linalg.batch_matmul ins(%ptb, %do : tensor<4x8x8xbf16>, tensor<4x8x2xbf16>) outs(%acc : tensor<4x8x2xf32>) -> tensor<4x8x2xf32>
  return %o, %dv : tensor<4x8x2xf32>, tensor<4x8x2xf32>
}

// -----

// The same in linalg form (after convert-elementwise-to-linalg), with a
// dynamic dimension: the moved cast gets an empty tensor of the
// transpose's input shape.
// CHECK-LABEL: func.func @generic_cast
// CHECK-SAME: (%[[X:.*]]: tensor<?x16xf16>, %[[W:.*]]: tensor<?x8xf32>
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x16xf32>
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x16xf16>) outs(%[[E]] : tensor<?x16xf32>)
// CHECK: arith.extf
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK-SAME: ins(%[[C]], %[[W]] : tensor<?x16xf32>, tensor<?x8xf32>)
func.func @generic_cast(%x: tensor<?x16xf16>, %w: tensor<?x8xf32>, %acc: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x16xf16>
  %e = tensor.empty(%n) : tensor<16x?xf16>
  %xt = linalg.transpose ins(%x : tensor<?x16xf16>) outs(%e : tensor<16x?xf16>) permutation = [1, 0]
  %e2 = tensor.empty(%n) : tensor<16x?xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%xt : tensor<16x?xf16>) outs(%e2 : tensor<16x?xf32>) {
  ^bb0(%a: f16, %o: f32):
    %f = arith.extf %a : f16 to f32
    linalg.yield %f : f32
  } -> tensor<16x?xf32>
  %m = linalg.matmul ins(%c, %w : tensor<16x?xf32>, tensor<?x8xf32>) outs(%acc : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %m : tensor<16x8xf32>
}

// -----

// Not moved: the cast is also returned (it would then be a transposed
// copy after all), or its body does more than cast.
// CHECK-LABEL: func.func @kept
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: %[[C:.*]] = arith.truncf %[[T]]
// CHECK: linalg.matmul ins(%[[C]],
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[T]] :
// CHECK: arith.truncf
// CHECK: arith.mulf
// CHECK: linalg.matmul ins(%[[G]],
// CHECK: return %{{.*}}, %[[C]], %{{.*}}
func.func @kept(%x: tensor<8x4xf32>, %w: tensor<8x2xbf16>, %acc: tensor<4x2xf32>)
    -> (tensor<4x2xf32>, tensor<4x8xbf16>, tensor<4x2xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %xt = linalg.transpose ins(%x : tensor<8x4xf32>) outs(%e : tensor<4x8xf32>) permutation = [1, 0]
  %c = arith.truncf %xt : tensor<4x8xf32> to tensor<4x8xbf16>
  %m = linalg.matmul ins(%c, %w : tensor<4x8xbf16>, tensor<8x2xbf16>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %xt2 = linalg.transpose ins(%x : tensor<8x4xf32>) outs(%e2 : tensor<4x8xf32>) permutation = [1, 0]
  %e3 = tensor.empty() : tensor<4x8xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%xt2 : tensor<4x8xf32>) outs(%e3 : tensor<4x8xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %t = arith.truncf %a : f32 to bf16
    %two = arith.constant 2.0 : bf16
    %d = arith.mulf %t, %two : bf16
    linalg.yield %d : bf16
  } -> tensor<4x8xbf16>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x8xbf16>, tensor<8x2xbf16>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %m, %c, %m2 : tensor<4x2xf32>, tensor<4x8xbf16>, tensor<4x2xf32>
}
