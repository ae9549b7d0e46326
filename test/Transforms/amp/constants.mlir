// RUN: mpt-opt %s --mpt-assign-precision --split-input-file | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision --split-input-file | FileCheck %s --check-prefix=APPLY
// RUN: mpt-opt %s --mpt-assign-precision=dtype=bf16 --split-input-file | FileCheck %s --check-prefix=BF16

// A constant that does not fit f16 (1e5 > 65504 becomes inf) must not
// reach a 16-bit op that it would make wrong: x / inf = 0. The divf and the
// constant stay f32; the matmuls around them stay f16.
// CHECK-LABEL: func.func @tensor_operand
// CHECK: arith.constant {mpt.assigned = "f32"} dense<1.000000e+05>
// CHECK: arith.divf {{.*}} {mpt.assigned = "f32"}
// APPLY-LABEL: func.func @tensor_operand
// APPLY-NOT: 0x7C00
// APPLY: %[[M:.*]] = linalg.matmul ins({{.*}} : tensor<4x4xf16>, tensor<4x4xf16>) outs({{.*}} : tensor<4x4xf32>)
// APPLY: %[[C:.*]] = arith.constant dense<1.000000e+05> : tensor<4x4xf32>
// APPLY: %[[D:.*]] = arith.divf %[[M]], %[[C]] : tensor<4x4xf32>
// APPLY: %[[T:.*]] = arith.truncf %[[D]] : tensor<4x4xf32> to tensor<4x4xf16>
// APPLY: linalg.matmul ins(%[[T]], {{.*}} : tensor<4x4xf16>, tensor<4x4xf16>)
// bf16 has f32's range: the same constant fits.
// BF16-LABEL: func.func @tensor_operand
// BF16: arith.constant {mpt.assigned = "bf16"} dense<1.000000e+05>
// BF16: arith.divf {{.*}} {mpt.assigned = "bf16"}
func.func @tensor_operand(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %big = arith.constant dense<1.0e5> : tensor<4x4xf32>
  %d = arith.divf %m, %big : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%d, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// The value of a scalar constant flows through linalg.fill: the fill and
// its reader stay f32.
// CHECK-LABEL: func.func @fill
// CHECK: arith.constant {mpt.assigned = "f32"} 6.552000e+04
// CHECK: linalg.fill {mpt.assigned = "f32"}
// CHECK: arith.mulf {{.*}} {mpt.assigned = "f32"}
// APPLY-LABEL: func.func @fill
// APPLY-NOT: 0x7C00
// APPLY: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4x4xf32>)
// APPLY: arith.mulf %{{.*}}, %{{.*}} : tensor<4x4xf32>
func.func @fill(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %big = arith.constant 65520.0 : f32
  %e = tensor.empty() : tensor<4x4xf32>
  %f = linalg.fill ins(%big : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %d = arith.mulf %m, %f : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%d, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A scalar constant captured by a body, or defined in it, counts for the
// op that owns the body.
// CHECK-LABEL: func.func @captured
// CHECK: linalg.generic {{.*}} attrs = {mpt.assigned = "f32"}
// CHECK: linalg.generic {{.*}} attrs = {mpt.assigned = "f32"}
// APPLY-LABEL: func.func @captured
// APPLY-NOT: 0x7C00
// APPLY: arith.divf %{{.*}}, %{{.*}} : f32
// APPLY: arith.addf %{{.*}}, %{{.*}} : f32
func.func @captured(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %big = arith.constant 1.0e5 : f32
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.divf %a, %big : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %h = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%g : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 7.0e4 : f32
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%h, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// An epsilon that underflows f16 (1e-8 becomes 0) is harmless where it is
// added: it is below half the spacing of f16 values, so x + 0 is the f16
// rounding of x + 1e-8. Multiplied or compared, it is not (x * 0 = 0;
// 0 < 1e-8 but not 0 < 0): those ops stay f32.
// CHECK-LABEL: func.func @epsilon
// CHECK: %[[ADD:.*]] = arith.addf {{.*}} {mpt.assigned = "f16"}
// CHECK: arith.mulf %[[ADD]], {{.*}} {mpt.assigned = "f32"}
// CHECK: arith.cmpf olt, {{.*}} {mpt.assigned = "f32"}
// APPLY-LABEL: func.func @epsilon
// APPLY: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<4x4xf16>
// APPLY: arith.addf %{{.*}}, %[[Z]] : tensor<4x4xf16>
// APPLY: arith.mulf %{{.*}}, %{{.*}} : tensor<4x4xf32>
func.func @epsilon(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xi1>) {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %eps = arith.constant dense<1.0e-8> : tensor<4x4xf32>
  %a = arith.addf %m, %eps : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %eps2 = arith.constant dense<1.0e-8> : tensor<4x4xf32>
  %p = arith.mulf %a, %eps2 : tensor<4x4xf32>
  %m3 = linalg.matmul ins(%p, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %c = arith.cmpf olt, %m3, %eps2 : tensor<4x4xf32>
  %s = arith.select %c, %m2, %m3 : tensor<4x4xi1>, tensor<4x4xf32>
  %m4 = linalg.matmul ins(%s, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m4, %c : tensor<4x4xf32>, tensor<4x4xi1>
}

// -----

// Sentinels (|x| >= 1e38, FLT_MAX) and overflowing bounds become +-inf
// where that changes nothing: as clamp bounds (min(x, +big) and
// max(x, -big) are x for every finite f16 x) and in comparisons.
// CHECK-LABEL: func.func @clamps
// CHECK: arith.minimumf {{.*}} {mpt.assigned = "f16"}
// CHECK: arith.maximumf {{.*}} {mpt.assigned = "f16"}
// CHECK: arith.cmpf ogt, {{.*}} {mpt.assigned = "f16"}
// APPLY-LABEL: func.func @clamps
// APPLY-DAG: arith.constant dense<0x7C00> : tensor<4x4xf16>
// APPLY-DAG: arith.constant dense<0xFC00> : tensor<4x4xf16>
// APPLY: arith.minimumf %{{.*}}, %{{.*}} : tensor<4x4xf16>
// APPLY: arith.maximumf %{{.*}}, %{{.*}} : tensor<4x4xf16>
func.func @clamps(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %hi = arith.constant dense<3.4e38> : tensor<4x4xf32>
  %lo = arith.constant dense<-1.0e5> : tensor<4x4xf32>
  %a = arith.minimumf %m, %hi : tensor<4x4xf32>
  %b = arith.maximumf %a, %lo : tensor<4x4xf32>
  %c = arith.cmpf ogt, %b, %hi : tensor<4x4xf32>
  %s = arith.select %c, %a, %b : tensor<4x4xi1>, tensor<4x4xf32>
  %m2 = linalg.matmul ins(%s, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// The sentinel rule holds for true sentinels only: a sentinel that is
// multiplied (0 * inf = nan), or a clamp that yields the big bound itself
// (max(x, 1e5) is 1e5, inf in f16) into a matmul, stays f32 - the clamp and
// its readers.
// CHECK-LABEL: func.func @not_sentinels
// CHECK: arith.mulf {{.*}} {mpt.assigned = "f32"}
// CHECK: arith.maximumf {{.*}} {mpt.assigned = "f32"}
// CHECK: linalg.matmul {mpt.assigned = "f32"}
// CHECK: linalg.matmul {mpt.assigned = "f16"}
func.func @not_sentinels(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %max = arith.constant dense<3.4e38> : tensor<4x4xf32>
  %big = arith.constant dense<1.0e5> : tensor<4x4xf32>
  %p = arith.mulf %m, %max : tensor<4x4xf32>
  %c = arith.maximumf %p, %big : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%c, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %m3 = linalg.matmul ins(%m2, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m3 : tensor<4x4xf32>
}

// -----

// A sentinel added (an additive mask) makes the f32 result round to -inf
// anyway; the result carries the sentinel on, and a matmul of it would
// compute 0 * -inf = nan where FP32 computes 0: the matmul reads f32.
// CHECK-LABEL: func.func @additive_mask
// CHECK: arith.addf {{.*}} {mpt.assigned = "f32"}
// CHECK: linalg.matmul {mpt.assigned = "f32"}
func.func @additive_mask(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %mask = arith.constant dense<[[0.0, -3.0e38, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %a = arith.addf %m, %mask : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// Through data movement (broadcast, pad) to a reader: all stay f32. A
// subnormal that f16 holds exactly (2^-20) does not fit either: x * 2^-20 is
// an f16 subnormal of a few bits.
// CHECK-LABEL: func.func @moved
// CHECK: arith.mulf {{.*}} {mpt.assigned = "f32"}
// CHECK: linalg.broadcast {{.*}} {mpt.assigned = "f32"}
// CHECK: tensor.pad
// CHECK: } {mpt.assigned = "f32"} : tensor<3x4xf32> to tensor<4x4xf32>
// CHECK: arith.divf {{.*}} {mpt.assigned = "f32"}
func.func @moved(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %exact = arith.constant dense<9.5367431640625e-07> : tensor<4x4xf32>
  %s = arith.mulf %m, %exact : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%s, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %row = arith.constant dense<[1.0, 2.0, 1.0e-9]> : tensor<3xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %b = linalg.broadcast ins(%row : tensor<3xf32>) outs(%e : tensor<3x4xf32>) dimensions = [1]
  %pad = arith.constant 1.0 : f32
  %p = tensor.pad %b low[0, 0] high[1, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %pad : f32
  } : tensor<3x4xf32> to tensor<4x4xf32>
  %d = arith.divf %m2, %p : tensor<4x4xf32>
  %m3 = linalg.matmul ins(%d, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m3 : tensor<4x4xf32>
}
