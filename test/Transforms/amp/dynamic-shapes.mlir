// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s

// Dynamic shapes: casts, fills and empties keep their dynamic sizes.
// CHECK-LABEL: func.func @dynamic_mlp
// CHECK: %[[XH:.*]] = arith.truncf %{{.*}} : tensor<?x?xf32> to tensor<?x?xf16>
// CHECK: linalg.matmul ins(%[[XH]], %{{.*}} : tensor<?x?xf16>, tensor<?x?xf16>) outs(%{{.*}} : tensor<?x?xf32>)
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?xf16>
// CHECK: linalg.broadcast ins(%{{.*}} : tensor<?xf16>) outs(%[[E]] : tensor<?x?xf16>)
// CHECK: arith.addf %{{.*}}, %{{.*}} : tensor<?x?xf16>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x?xf16>, tensor<?x?xf16>) outs(%{{.*}} : tensor<?x?xf32>)
func.func @dynamic_mlp(%x: tensor<?x?xf32>, %w: tensor<?x?xf32>, %b: tensor<?xf32>, %acc: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = linalg.matmul ins(%x, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%acc : tensor<?x?xf32>) -> tensor<?x?xf32>
  %d0 = tensor.dim %m, %c0 : tensor<?x?xf32>
  %d1 = tensor.dim %m, %c1 : tensor<?x?xf32>
  %init = tensor.empty(%d0, %d1) : tensor<?x?xf32>
  %bb = linalg.broadcast ins(%b : tensor<?xf32>) outs(%init : tensor<?x?xf32>) dimensions = [0]
  %s = arith.addf %m, %bb : tensor<?x?xf32>
  %m2 = linalg.matmul ins(%s, %w : tensor<?x?xf32>, tensor<?x?xf32>) outs(%acc : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %m2 : tensor<?x?xf32>
}
