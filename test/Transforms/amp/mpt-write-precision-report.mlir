// RUN: mpt-opt %s --mpt-assign-precision --mpt-apply-precision --mpt-fold-casts --mpt-write-precision-report="path=-" 2>&1 | FileCheck %s
// RUN: mpt-opt %s --mpt-assign-precision --mpt-write-precision-report | FileCheck %s --check-prefix=STRIP

// The passes record their counts in the module; the writer prints them as
// JSON with the summary line and removes the attribute.
// CHECK: "casts_inserted": 1
// CHECK: "casts_removed": 0
// CHECK: "ops_low": {
// CHECK-NEXT: "allow": 1
// CHECK: "ops_seen": 2
// CHECK: "summary": "Converted 1/2 ops to f16 using 1 casts"
// CHECK: Converted 1/2 ops to f16 using 1 casts
// CHECK-NOT: mpt.amp_report
// Without a path, the attribute is only removed.
// STRIP-NOT: mpt.amp_report
// STRIP: func.func @f
func.func @f(%a: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = linalg.matmul ins(%a, %a : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = math.exp %0 : tensor<4x4xf32>
  return %1 : tensor<4x4xf32>
}
