// RUN: mpt-opt %s --auto-mixed-precision="report=-" --split-input-file 2>&1 -o /dev/null | FileCheck %s

// bytes_16bit counts the 16-bit tensors of static shape; a count that does
// not fit an int64 saturates at 2^63 - 1 instead of wrapping (a batch of
// 2^62 rows of 4 values is 2^65 bytes in f16; it once reported 640).
// CHECK: "bytes_16bit": 9223372036854775807,
func.func @huge_batch(%x: tensor<4611686018427387904x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4611686018427387904x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32>
  %r = arith.addf %m, %m : tensor<4611686018427387904x4xf32>
  %m2 = linalg.matmul ins(%r, %w : tensor<4611686018427387904x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4611686018427387904x4xf32>) -> tensor<4611686018427387904x4xf32>
  return %m2 : tensor<4611686018427387904x4xf32>
}

// -----

// Without overflow: the casts of %x (8x4), %w (4x4) and the first matmul's
// result (8x4), and the f16 result of the addf (8x4): 64 + 32 + 64 + 64.
// CHECK: "bytes_16bit": 224,
func.func @small(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r = arith.addf %m, %m : tensor<8x4xf32>
  %m2 = linalg.matmul ins(%r, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2 : tensor<8x4xf32>
}
