// RUN: mpt-opt %s --auto-mixed-precision --split-input-file | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision=dtype=bf16 --split-input-file | FileCheck %s --check-prefix=BF16

// Every contraction reads 16-bit inputs and keeps an f32 accumulator and
// result; the inputs are cast once, at the function entry.

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<8x4xf32>, %[[B:.*]]: tensor<4x2xf32>, %[[C:.*]]: tensor<8x2xf32>) -> tensor<8x2xf32>
// CHECK-DAG: %[[BH:.*]] = arith.truncf %[[B]] : tensor<4x2xf32> to tensor<4x2xf16>
// CHECK-DAG: %[[AH:.*]] = arith.truncf %[[A]] : tensor<8x4xf32> to tensor<8x4xf16>
// CHECK: %[[R:.*]] = linalg.matmul ins(%[[AH]], %[[BH]] : tensor<8x4xf16>, tensor<4x2xf16>) outs(%[[C]] : tensor<8x2xf32>) -> tensor<8x2xf32>
// CHECK: return %[[R]]
// BF16-LABEL: func.func @matmul
// BF16: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xbf16>, tensor<4x2xbf16>) outs(%{{.*}} : tensor<8x2xf32>)
func.func @matmul(%a: tensor<8x4xf32>, %b: tensor<4x2xf32>, %c: tensor<8x2xf32>) -> tensor<8x2xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x2xf32>) outs(%c : tensor<8x2xf32>) -> tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul_dynamic
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<?x8x4xf16>, tensor<?x4x2xf16>) outs(%{{.*}} : tensor<?x8x2xf32>) -> tensor<?x8x2xf32>
func.func @batch_matmul_dynamic(%a: tensor<?x8x4xf32>, %b: tensor<?x4x2xf32>, %c: tensor<?x8x2xf32>) -> tensor<?x8x2xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<?x8x4xf32>, tensor<?x4x2xf32>) outs(%c : tensor<?x8x2xf32>) -> tensor<?x8x2xf32>
  return %0 : tensor<?x8x2xf32>
}

// -----

// A transposed matmul given by indexing maps, and linalg.contract.
// CHECK-LABEL: func.func @transposed_and_contract
// CHECK: linalg.matmul indexing_maps = {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x8xf16>, tensor<4x2xf16>) outs(%{{.*}} : tensor<8x2xf32>)
// CHECK: linalg.contract indexing_maps = {{.*}} ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<2x4xf16>) outs(%{{.*}} : tensor<8x2xf32>)
func.func @transposed_and_contract(%at: tensor<4x8xf32>, %b: tensor<4x2xf32>, %a: tensor<8x4xf32>, %bt: tensor<2x4xf32>, %c: tensor<8x2xf32>) -> (tensor<8x2xf32>, tensor<8x2xf32>) {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%at, %b : tensor<4x8xf32>, tensor<4x2xf32>) outs(%c : tensor<8x2xf32>) -> tensor<8x2xf32>
  %1 = linalg.contract indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %bt : tensor<8x4xf32>, tensor<2x4xf32>) outs(%c : tensor<8x2xf32>) -> tensor<8x2xf32>
  return %0, %1 : tensor<8x2xf32>, tensor<8x2xf32>
}

// -----

// Convolutions in the layouts upstream has, 1-D to 3-D and depthwise.
// CHECK-LABEL: func.func @convolutions
// CHECK: linalg.conv_1d_nwc_wcf {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x8x3xf16>, tensor<3x3x4xf16>) outs(%{{.*}} : tensor<1x6x4xf32>)
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x8x8x3xf16>, tensor<3x3x3x4xf16>) outs(%{{.*}} : tensor<1x6x6x4xf32>)
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x3x8x8xf16>, tensor<4x3x3x3xf16>) outs(%{{.*}} : tensor<1x4x6x6xf32>)
// CHECK: linalg.conv_3d_ndhwc_dhwcf {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x4x4x4x2xf16>, tensor<3x3x3x2x2xf16>) outs(%{{.*}} : tensor<1x2x2x2x2xf32>)
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x8x8x3xf16>, tensor<3x3x3xf16>) outs(%{{.*}} : tensor<1x6x6x3xf32>)
func.func @convolutions(%x1: tensor<1x8x3xf32>, %w1: tensor<3x3x4xf32>, %o1: tensor<1x6x4xf32>,
                        %x2: tensor<1x8x8x3xf32>, %w2: tensor<3x3x3x4xf32>, %o2: tensor<1x6x6x4xf32>,
                        %x3: tensor<1x3x8x8xf32>, %w3: tensor<4x3x3x3xf32>, %o3: tensor<1x4x6x6xf32>,
                        %x4: tensor<1x4x4x4x2xf32>, %w4: tensor<3x3x3x2x2xf32>, %o4: tensor<1x2x2x2x2xf32>,
                        %w5: tensor<3x3x3xf32>, %o5: tensor<1x6x6x3xf32>)
    -> (tensor<1x6x4xf32>, tensor<1x6x6x4xf32>, tensor<1x4x6x6xf32>, tensor<1x2x2x2x2xf32>, tensor<1x6x6x3xf32>) {
  %0 = linalg.conv_1d_nwc_wcf {dilations = dense<1> : tensor<1xi64>, strides = dense<1> : tensor<1xi64>}
         ins(%x1, %w1 : tensor<1x8x3xf32>, tensor<3x3x4xf32>) outs(%o1 : tensor<1x6x4xf32>) -> tensor<1x6x4xf32>
  %1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x2, %w2 : tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) outs(%o2 : tensor<1x6x6x4xf32>) -> tensor<1x6x6x4xf32>
  %2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x3, %w3 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%o3 : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %3 = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
         ins(%x4, %w4 : tensor<1x4x4x4x2xf32>, tensor<3x3x3x2x2xf32>) outs(%o4 : tensor<1x2x2x2x2xf32>) -> tensor<1x2x2x2x2xf32>
  %4 = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x2, %w5 : tensor<1x8x8x3xf32>, tensor<3x3x3xf32>) outs(%o5 : tensor<1x6x6x3xf32>) -> tensor<1x6x6x3xf32>
  return %0, %1, %2, %3, %4 : tensor<1x6x4xf32>, tensor<1x6x6x4xf32>, tensor<1x4x6x6xf32>, tensor<1x2x2x2x2xf32>, tensor<1x6x6x3xf32>
}

// -----

// A dot-like linalg.generic (the weight gradient of a convolution) is a
// contraction whatever its maps: 16-bit inputs widened in the body, f32
// accumulation.
// CHECK-LABEL: func.func @dot_like_generic
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x6x6x3xf16>, tensor<2x4x4x5xf16>) outs(%{{.*}} : tensor<3x3x3x5xf32>)
// CHECK: ^bb0(%[[X:.*]]: f16, %[[G:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK-DAG: %[[XE:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK-DAG: %[[GE:.*]] = arith.extf %[[G]] : f16 to f32
// CHECK: %[[M:.*]] = arith.mulf %[[XE]], %[[GE]] : f32
// CHECK: arith.addf %[[ACC]], %[[M]] : f32
#x = affine_map<(kh, kw, c, f, n, oh, ow) -> (n, oh + kh, ow + kw, c)>
#g = affine_map<(kh, kw, c, f, n, oh, ow) -> (n, oh, ow, f)>
#w = affine_map<(kh, kw, c, f, n, oh, ow) -> (kh, kw, c, f)>
func.func @dot_like_generic(%x: tensor<2x6x6x3xf32>, %g: tensor<2x4x4x5xf32>, %init: tensor<3x3x3x5xf32>) -> tensor<3x3x3x5xf32> {
  %0 = linalg.generic {indexing_maps = [#x, #g, #w],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %g : tensor<2x6x6x3xf32>, tensor<2x4x4x5xf32>) outs(%init : tensor<3x3x3x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<3x3x3x5xf32>
  return %0 : tensor<3x3x3x5xf32>
}

// -----

// An all-parallel generic that multiplies is elementwise, not a contraction:
// with no 16-bit neighbour it stays f32.
// CHECK-LABEL: func.func @negative_elementwise_product
// CHECK-NOT: f16
// CHECK: return
func.func @negative_elementwise_product(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%a, %b : tensor<4xf32>, tensor<4xf32>) outs(%a : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %m = arith.mulf %x, %y : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
