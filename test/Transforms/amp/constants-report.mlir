// RUN: mpt-opt %s --auto-mixed-precision="report=-" 2>&1 -o /dev/null | FileCheck %s

// The report lists every op kept f32 for a constant, in program order,
// and why.
// CHECK: "constants_kept_f32": [
// CHECK-NEXT: "arith.constant at {{.*}}constants-report.mlir:{{[0-9]+}}:{{[0-9]+}}: overflow in f16"
// CHECK-NEXT: "arith.constant at {{.*}}constants-report.mlir:{{[0-9]+}}:{{[0-9]+}}: underflow in f16"
// CHECK-NEXT: "arith.divf at {{.*}}constants-report.mlir:{{[0-9]+}}:{{[0-9]+}}: reads a constant with overflow in f16"
// CHECK-NEXT: "arith.mulf at {{.*}}constants-report.mlir:{{[0-9]+}}:{{[0-9]+}}: reads a constant with underflow in f16"
// CHECK-NEXT: ]
// CHECK: "constant out of range": 4
func.func @report(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %big = arith.constant dense<-7.0e4> : tensor<4x4xf32>
  %tiny = arith.constant dense<1.0e-9> : tensor<4x4xf32>
  %d = arith.divf %m, %big : tensor<4x4xf32>
  %p = arith.mulf %d, %tiny : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%p, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}
