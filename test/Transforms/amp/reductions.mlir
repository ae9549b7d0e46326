// RUN: mpt-opt %s --auto-mixed-precision --split-input-file | FileCheck %s

// A reduction reading a 16-bit value widens it in its body and accumulates
// in f32; its init and result stay f32.
// CHECK-LABEL: func.func @sum_of_16bit_values
// CHECK: %[[R:.*]] = arith.maximumf %{{.*}}, %{{.*}} : tensor<8x4xf16>
// CHECK: linalg.reduce ins(%[[R]] : tensor<8x4xf16>) outs(%{{.*}} : tensor<8xf32>) dimensions = [1]
// CHECK-NEXT: (%[[IN:.*]]: f16, %[[ACC:.*]]: f32) {
// CHECK-NEXT: %[[E:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK-NEXT: arith.addf %[[E]], %[[ACC]] : f32
func.func @sum_of_16bit_values(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>, %init: tensor<8xf32>)
    -> (tensor<8x4xf32>, tensor<8xf32>) {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %zero = arith.constant dense<0.0> : tensor<8x4xf32>
  %r = arith.maximumf %m, %zero : tensor<8x4xf32>
  %m2 = linalg.matmul ins(%r, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %s = linalg.reduce ins(%r : tensor<8x4xf32>) outs(%init : tensor<8xf32>) dimensions = [1]
    (%in: f32, %a: f32) {
      %0 = arith.addf %in, %a : f32
      linalg.yield %0 : f32
    }
  return %m2, %s : tensor<8x4xf32>, tensor<8xf32>
}

// -----

// A generic with a reduction iterator (sum of squares, a norm) is a
// reduction too.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x4xf16>) outs(%{{.*}} : tensor<8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f16, %[[ACC:.*]]: f32):
// CHECK: %[[E:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK: arith.mulf %[[E]], %[[E]] : f32
func.func @sum_of_squares(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>, %init: tensor<8xf32>)
    -> (tensor<8x4xf32>, tensor<8xf32>) {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %zero = arith.constant dense<0.0> : tensor<8x4xf32>
  %r = arith.maximumf %m, %zero : tensor<8x4xf32>
  %m2 = linalg.matmul ins(%r, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%r : tensor<8x4xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%in: f32, %a: f32):
    %sq = arith.mulf %in, %in : f32
    %0 = arith.addf %sq, %a : f32
    linalg.yield %0 : f32
  } -> tensor<8xf32>
  return %m2, %s : tensor<8x4xf32>, tensor<8xf32>
}

// -----

// A reduction of f32 values stays entirely f32: no cast.
// CHECK-LABEL: func.func @negative_f32_input
// CHECK-NOT: f16
// CHECK: return
func.func @negative_f32_input(%x: tensor<8x4xf32>, %init: tensor<8xf32>) -> tensor<8xf32> {
  %s = linalg.reduce ins(%x : tensor<8x4xf32>) outs(%init : tensor<8xf32>) dimensions = [1]
    (%in: f32, %a: f32) {
      %0 = arith.addf %in, %a : f32
      linalg.yield %0 : f32
    }
  return %s : tensor<8xf32>
}

// -----

// Sum pooling is a reduction; its window (only its shape matters) is made
// 16-bit by folding the cast of tensor.empty.
// CHECK-LABEL: func.func @pooling
// CHECK: %[[WIN:.*]] = tensor.empty() : tensor<2x2xf16>
// CHECK: linalg.pooling_nhwc_sum {{.*}} ins(%{{.*}}, %[[WIN]] : tensor<1x4x4x2xf16>, tensor<2x2xf16>) outs(%{{.*}} : tensor<1x2x2x2xf32>)
func.func @pooling(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3x2xf32>, %o: tensor<1x4x4x2xf32>, %p: tensor<1x2x2x2xf32>,
                   %w2: tensor<3x3x2x2xf32>, %o2: tensor<1x2x2x2xf32>)
    -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) {
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x6x6x3xf32>, tensor<3x3x3x2xf32>) outs(%o : tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  %zero = arith.constant dense<0.0> : tensor<1x4x4x2xf32>
  %r = arith.maximumf %c, %zero : tensor<1x4x4x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %s = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%r, %win : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%p : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%r, %w2 : tensor<1x4x4x2xf32>, tensor<3x3x2x2xf32>) outs(%o2 : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %s, %c2 : tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>
}
