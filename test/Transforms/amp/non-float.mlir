// RUN: mpt-opt %s --auto-mixed-precision --split-input-file --verify-diagnostics | FileCheck %s

// Integer, f64 and already-16-bit graphs are left as they are, with a
// remark saying so.
// CHECK-LABEL: func.func @integer
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x4xi32>, tensor<4x4xi32>)
// expected-remark @+1 {{nothing to convert: no op reads or writes f32 values (f64, integer and 16-bit ops are left as they are)}}
func.func @integer(%a: tensor<4x4xi32>, %acc: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %0 = linalg.matmul ins(%a, %a : tensor<4x4xi32>, tensor<4x4xi32>) outs(%acc : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %0 : tensor<4x4xi32>
}

// -----

// CHECK-LABEL: func.func @double
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x4xf64>, tensor<4x4xf64>)
// CHECK: math.exp %{{.*}} : tensor<4x4xf64>
// expected-remark @+1 {{nothing to convert}}
func.func @double(%a: tensor<4x4xf64>, %acc: tensor<4x4xf64>) -> tensor<4x4xf64> {
  %0 = linalg.matmul ins(%a, %a : tensor<4x4xf64>, tensor<4x4xf64>) outs(%acc : tensor<4x4xf64>) -> tensor<4x4xf64>
  %1 = math.exp %0 : tensor<4x4xf64>
  return %1 : tensor<4x4xf64>
}

// -----

// CHECK-LABEL: func.func @already_half
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x4xf16>, tensor<4x4xf16>) outs(%{{.*}} : tensor<4x4xf16>)
// expected-remark @+1 {{nothing to convert}}
func.func @already_half(%a: tensor<4x4xf16>, %acc: tensor<4x4xf16>) -> tensor<4x4xf16> {
  %0 = linalg.matmul ins(%a, %a : tensor<4x4xf16>, tensor<4x4xf16>) outs(%acc : tensor<4x4xf16>) -> tensor<4x4xf16>
  return %0 : tensor<4x4xf16>
}

// -----

// A mixed function: the f64 part stays f64 while the f32 part is converted.
// CHECK-LABEL: func.func @mixed_widths
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x4xf16>, tensor<4x4xf16>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK: arith.addf %{{.*}}, %{{.*}} : tensor<4x4xf64>
func.func @mixed_widths(%a: tensor<4x4xf32>, %acc: tensor<4x4xf32>, %d: tensor<4x4xf64>) -> (tensor<4x4xf32>, tensor<4x4xf64>) {
  %0 = linalg.matmul ins(%a, %a : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = arith.addf %d, %d : tensor<4x4xf64>
  return %0, %1 : tensor<4x4xf32>, tensor<4x4xf64>
}
