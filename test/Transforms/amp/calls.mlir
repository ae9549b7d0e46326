// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s

// Call boundaries stay f32: arguments and results of calls are f32 and every
// callee is rewritten on its own (private callees included), so caller and
// callee always agree on types.
// CHECK-LABEL: func.func private @layer
// CHECK-SAME: (%{{.*}}: tensor<8x4xf32>, %{{.*}}: tensor<4x4xf32>) -> tensor<8x4xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>) outs(%{{.*}} : tensor<8x4xf32>)
func.func private @layer(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>) -> tensor<8x4xf32> {
  %acc = arith.constant dense<0.0> : tensor<8x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m : tensor<8x4xf32>
}

// The value between two calls is not cast: the call results are f32.
// CHECK-LABEL: func.func @two_layers
// CHECK: %[[H:.*]] = call @layer(%{{.*}}, %{{.*}}) : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
// CHECK-NOT: arith.truncf
// CHECK: call @layer(%[[H]], %{{.*}}) : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
func.func @two_layers(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>) -> tensor<8x4xf32> {
  %h = call @layer(%x, %w) : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
  %y = call @layer(%h, %w) : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// A call result that is computed on in 16 bits is cast after the call.
// CHECK-LABEL: func.func @call_feeds_matmul
// CHECK: %[[C:.*]] = call @layer
// CHECK: arith.truncf %[[C]] : tensor<8x4xf32> to tensor<8x4xf16>
func.func @call_feeds_matmul(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %h = call @layer(%x, %w) : (tensor<8x4xf32>, tensor<4x4xf32>) -> tensor<8x4xf32>
  %m = linalg.matmul ins(%h, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m : tensor<8x4xf32>
}
