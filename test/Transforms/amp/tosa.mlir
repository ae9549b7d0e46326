// RUN: mpt-opt %s --auto-mixed-precision="from-tosa=true" | FileCheck %s
// The same by hand: upstream's TOSA lowering first, then mpt.
// RUN: mpt-opt %s --tosa-to-linalg-pipeline --auto-mixed-precision | FileCheck %s

// A TOSA graph (matmul, add, clamp as ReLU, matmul) converted to linalg by
// upstream's tosa-to-linalg-pipeline, then made mixed precision: the
// contractions read f16 and accumulate in f32, the elementwise ops between
// them run in f16.
// CHECK-LABEL: func.func @tosa_mlp
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x4x8xf16>, tensor<1x8x8xf16>) outs(%{{.*}} : tensor<1x4x8xf32>)
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x4x8xf16>)
// CHECK: arith.addf %{{.*}}, %{{.*}} : f16
// The clamp bound FLT_MAX stands for infinity: it becomes +inf in f16.
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x4x8xf16>)
// CHECK: arith.constant 0x7C00 : f16
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<1x4x8xf16>, tensor<1x8x8xf16>) outs(%{{.*}} : tensor<1x4x8xf32>)
func.func @tosa_mlp(%x: tensor<1x4x8xf32>, %w: tensor<1x8x8xf32>, %b: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %m = tosa.matmul %x, %w, %zp, %zp : (tensor<1x4x8xf32>, tensor<1x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x8xf32>
  %s = tosa.add %m, %b : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r = tosa.clamp %s {min_val = 0.0 : f32, max_val = 3.4e38 : f32} : (tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %m2 = tosa.matmul %r, %w, %zp, %zp : (tensor<1x4x8xf32>, tensor<1x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x8xf32>
  return %m2 : tensor<1x4x8xf32>
}
