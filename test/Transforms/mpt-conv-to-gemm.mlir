// RUN: mpt-opt %s --mpt-conv-to-gemm --split-input-file --mlir-print-local-scope | FileCheck %s
// RUN: mpt-opt %s --mpt-conv-to-gemm=all-types=true --split-input-file --mlir-print-local-scope | FileCheck %s --check-prefix=ALL

// A forward convolution (named op, f16 in, f32 accumulator): the input is
// gathered into (n, oh, ow, kh, kw, c) = x[n, oh + kh, ow + kw, c], the
// HWCF weights are already (k, n) and are only collapsed; the contraction
// keeps the op's body (the casts) and the result is expanded back.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.*]]: tensor<2x10x12x8xf16>, %[[W:.*]]: tensor<3x3x8x16xf16>, %[[ACC:.*]]: tensor<2x8x10x16xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8x10x3x3x8xf16>
// CHECK: %[[COLS:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 + d3, d2 + d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>]
// CHECK-SAME: ins(%[[X]] : tensor<2x10x12x8xf16>) outs(%[[E]] : tensor<2x8x10x3x3x8xf16>)
// CHECK: %[[A:.*]] = tensor.collapse_shape %[[COLS]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x8x10x3x3x8xf16> into tensor<160x72xf16>
// CHECK: %[[B:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0, 1, 2], [3]] : tensor<3x3x8x16xf16> into tensor<72x16xf16>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[ACC]] {{\[}}[0, 1, 2], [3]] : tensor<2x8x10x16xf32> into tensor<160x16xf32>
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<160x72xf16>, tensor<72x16xf16>) outs(%[[C]] : tensor<160x16xf32>)
// CHECK-NOT: memoized
// CHECK: arith.extf
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[R:.*]] = tensor.expand_shape %[[G]] {{\[}}[0, 1, 2], [3]] output_shape [2, 8, 10, 16] : tensor<160x16xf32> into tensor<2x8x10x16xf32>
// CHECK: return %[[R]]
func.func @forward(%x: tensor<2x10x12x8xf16>, %w: tensor<3x3x8x16xf16>, %acc: tensor<2x8x10x16xf32>) -> tensor<2x8x10x16xf32> {
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<2x10x12x8xf16>, tensor<3x3x8x16xf16>) outs(%acc : tensor<2x8x10x16xf32>) -> tensor<2x8x10x16xf32>
  return %r : tensor<2x8x10x16xf32>
}

// -----

// The weight gradient dW[kh, kw, c, f] = sum_{n, oh, ow} x[n, oh + kh,
// ow + kw, c] g[n, oh, ow, f]: the reduction follows g (used in place, as
// (k, n)); x is gathered as (kh, kw, c, n, oh, ow) (m, k).
#xw = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5 + d0, d6 + d1, d2)>
#g = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
#o = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @weight_grad
// CHECK-SAME: (%[[X:.*]]: tensor<4x9x9x3xbf16>, %[[G:.*]]: tensor<4x7x7x5xbf16>
// CHECK: %[[COLS:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0 + d4, d1 + d5, d2)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>]
// CHECK-SAME: outs(%{{.*}} : tensor<3x3x3x4x7x7xbf16>)
// CHECK: %[[A:.*]] = tensor.collapse_shape %[[COLS]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<3x3x3x4x7x7xbf16> into tensor<27x196xbf16>
// CHECK: %[[B:.*]] = tensor.collapse_shape %[[G]] {{\[}}[0, 1, 2], [3]] : tensor<4x7x7x5xbf16> into tensor<196x5xbf16>
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<27x196xbf16>, tensor<196x5xbf16>)
// CHECK: tensor.expand_shape {{.*}} into tensor<3x3x3x5xf32>
func.func @weight_grad(%x: tensor<4x9x9x3xbf16>, %g: tensor<4x7x7x5xbf16>, %acc: tensor<3x3x3x5xf32>) -> tensor<3x3x3x5xf32> {
  %r = linalg.generic {indexing_maps = [#xw, #g, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %g : tensor<4x9x9x3xbf16>, tensor<4x7x7x5xbf16>) outs(%acc : tensor<3x3x3x5xf32>) {
  ^bb0(%a: bf16, %b: bf16, %s: f32):
    %ae = arith.extf %a : bf16 to f32
    %be = arith.extf %b : bf16 to f32
    %p = arith.mulf %ae, %be : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  } -> tensor<3x3x3x5xf32>
  return %r : tensor<3x3x3x5xf32>
}

// -----

// The input gradient: the padded output gradient through a flipped
// window, and the HWCF weights read as (kh, kw, f) x c, which a matrix
// cannot take in place: they are copied as (kh, kw, f, c). A dynamic
// batch: the gathered tensor and the expanded result take it from the
// operands.
#gp = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 - d4 + 2, d2 - d5 + 2, d6)>
#wt = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d3, d6)>
#o = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @input_grad
// CHECK-SAME: (%[[GP:.*]]: tensor<?x8x8x6xf16>, %[[W:.*]]: tensor<3x3x4x6xf16>, %[[ACC:.*]]: tensor<?x6x6x4xf32>)
// CHECK: %[[N:.*]] = tensor.dim %[[GP]], %{{.*}} : tensor<?x8x8x6xf16>
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x6x6x3x3x6xf16>
// CHECK: %[[COLS:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 - d3 + 2, d2 - d4 + 2, d5)>
// CHECK-SAME: outs(%[[E]] : tensor<?x6x6x3x3x6xf16>)
// CHECK: %[[A:.*]] = tensor.collapse_shape %[[COLS]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<?x6x6x3x3x6xf16> into tensor<?x54xf16>
// CHECK: %[[WC:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>]
// CHECK-SAME: ins(%[[W]] : tensor<3x3x4x6xf16>) outs(%{{.*}} : tensor<3x3x6x4xf16>)
// CHECK: %[[B:.*]] = tensor.collapse_shape %[[WC]] {{\[}}[0, 1, 2], [3]] : tensor<3x3x6x4xf16> into tensor<54x4xf16>
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<?x54xf16>, tensor<54x4xf16>) outs(%{{.*}} : tensor<?x4xf32>)
// CHECK: %[[M:.*]] = tensor.dim %[[ACC]], %{{.*}} : tensor<?x6x6x4xf32>
// CHECK: tensor.expand_shape %[[G]] {{\[}}[0, 1, 2], [3]] output_shape [%[[M]], 6, 6, 4] : tensor<?x4xf32> into tensor<?x6x6x4xf32>
func.func @input_grad(%gp: tensor<?x8x8x6xf16>, %w: tensor<3x3x4x6xf16>, %acc: tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32> {
  %r = linalg.generic {indexing_maps = [#gp, #wt, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%gp, %w : tensor<?x8x8x6xf16>, tensor<3x3x4x6xf16>) outs(%acc : tensor<?x6x6x4xf32>) {
  ^bb0(%a: f16, %b: f16, %s: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %p = arith.mulf %ae, %be : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  } -> tensor<?x6x6x4xf32>
  return %r : tensor<?x6x6x4xf32>
}

// -----

// Left alone: an f32 convolution (unless all-types), a depthwise one (c is
// read by both inputs and the output: a batch dimension), a sum pooling
// (no product), and a plain matmul (no window).
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
// CHECK: linalg.pooling_nhwc_sum
// CHECK: linalg.matmul
// CHECK-NOT: tensor.collapse_shape
// ALL-LABEL: func.func @left_alone
// ALL: tensor.collapse_shape {{.*}} into tensor<128x27xf32>
// ALL-NOT: linalg.conv_2d_nhwc_hwcf
// ALL: linalg.depthwise_conv_2d_nhwc_hwc
// ALL: linalg.pooling_nhwc_sum
// ALL: linalg.matmul
func.func @left_alone(%x: tensor<2x10x10x3xf32>, %w: tensor<3x3x3x4xf32>, %acc: tensor<2x8x8x4xf32>,
                      %xh: tensor<2x10x10x3xf16>, %dw: tensor<3x3x3xf16>, %dacc: tensor<2x8x8x3xf32>,
                      %win: tensor<2x2xf32>, %pacc: tensor<2x5x5x3xf32>,
                      %a: tensor<8x16xf16>, %b: tensor<16x4xf16>, %macc: tensor<8x4xf32>)
    -> (tensor<2x8x8x4xf32>, tensor<2x8x8x3xf32>, tensor<2x5x5x3xf32>, tensor<8x4xf32>) {
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<2x10x10x3xf32>, tensor<3x3x3x4xf32>) outs(%acc : tensor<2x8x8x4xf32>) -> tensor<2x8x8x4xf32>
  %d = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%xh, %dw : tensor<2x10x10x3xf16>, tensor<3x3x3xf16>) outs(%dacc : tensor<2x8x8x3xf32>) -> tensor<2x8x8x3xf32>
  %p = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %win : tensor<2x10x10x3xf32>, tensor<2x2xf32>) outs(%pacc : tensor<2x5x5x3xf32>) -> tensor<2x5x5x3xf32>
  %m = linalg.matmul ins(%a, %b : tensor<8x16xf16>, tensor<16x4xf16>) outs(%macc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %c, %d, %p, %m : tensor<2x8x8x4xf32>, tensor<2x8x8x3xf32>, tensor<2x5x5x3xf32>, tensor<8x4xf32>
}
