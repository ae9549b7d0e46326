// RUN: mpt-opt %s --auto-mixed-precision -verify-diagnostics --split-input-file | FileCheck %s

// An elementwise body between two matmuls is retyped as a whole: every f32
// type in it becomes 16-bit. A body holding an op that has no 16-bit form
// (a bitcast of the f32 bits, a cast between f16 and bf16) keeps its op
// f32 with a remark; nothing ever yields invalid IR.

// The f32 bits of a value (|x| by masking the sign bit) have no f16 form.
// CHECK-NOT: tensor<4x4xf16>) outs
// CHECK-LABEL: func.func @bitcast
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<4x4xf32>) outs(%{{.*}} : tensor<4x4xf32>)
// CHECK: arith.bitcast %{{.*}} : f32 to i32
func.func @bitcast(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.bitcast' in its body has no}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = arith.bitcast %a : f32 to i32
    %c = arith.constant 2147483647 : i32
    %n = arith.andi %i, %c : i32
    %f = arith.bitcast %n : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// An explicit rounding to bf16 in an f16 step: f16 -> bf16 is no cast
// (same width), and rounding to f16 first would lose bf16's range.
// (generic-bodies-bf16.mlir: with dtype=bf16 the casts are no-ops.)
// CHECK-LABEL: func.func @truncf_other_type
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.extf %{{.*}} : bf16 to f32
func.func @truncf_other_type(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.truncf' in its body has no f16 form}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.truncf %a : f32 to bf16
    %e = arith.extf %t : bf16 to f32
    %s = arith.mulf %e, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A constant of another 16-bit type widened in the body: bf16 -> f16 is no
// cast either.
// CHECK-LABEL: func.func @other_constant
// CHECK: arith.extf %{{.*}} : bf16 to f32
func.func @other_constant(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  // expected-remark @below {{kept f32: 'arith.extf' in its body has no f16 form}}
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.constant 1.5 : bf16
    %e = arith.extf %c : bf16 to f32
    %s = arith.addf %a, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// Nested regions are retyped with the body: scf.if results and yields; a
// captured constant is cast once, outside.
// CHECK-LABEL: func.func @nested_if
// CHECK: %[[C:.*]] = arith.constant 5.000000e-01 : f16
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<4x4xf16>) outs(%{{.*}} : tensor<4x4xf16>)
// CHECK: scf.if %{{.*}} -> (f16)
// CHECK: scf.yield %{{.*}} : f16
// CHECK: arith.mulf %{{.*}}, %[[C]] : f16
// CHECK: scf.yield %{{.*}} : f16
func.func @nested_if(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %h = arith.constant 0.5 : f32
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %z = arith.constant 0.0 : f32
    %p = arith.cmpf ogt, %a, %z : f32
    %r = scf.if %p -> f32 {
      scf.yield %a : f32
    } else {
      %s = arith.mulf %a, %h : f32
      scf.yield %s : f32
    }
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A loop carrying an f32 value inside a body: init, iter_arg, yield and
// result are retyped together.
// CHECK-LABEL: func.func @nested_for
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f16)
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f16
// CHECK: scf.yield %{{.*}} : f16
func.func @nested_for(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %lb = arith.constant 0 : index
    %ub = arith.constant 3 : index
    %st = arith.constant 1 : index
    %r = scf.for %i = %lb to %ub step %st iter_args(%v = %a) -> f32 {
      %s = arith.mulf %v, %a : f32
      scf.yield %s : f32
    }
    linalg.yield %r : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// Math ops, compare and select, fma.
// CHECK-LABEL: func.func @math_select
// CHECK: ^bb0(%[[A:.*]]: f16, %{{.*}}: f16, %{{.*}}: f16):
// CHECK: math.tanh %[[A]] : f16
// CHECK: math.absf %{{.*}} : f16
// CHECK: math.floor %{{.*}} : f16
// CHECK: math.fma %{{.*}}, %{{.*}}, %{{.*}} : f16
// CHECK: arith.cmpf olt, %{{.*}}, %{{.*}} : f16
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f16
// CHECK: linalg.yield %{{.*}} : f16
func.func @math_select(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m, %x : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %t = math.tanh %a : f32
    %u = math.absf %t : f32
    %v = math.floor %b : f32
    %f = math.fma %u, %v, %a : f32
    %p = arith.cmpf olt, %f, %b : f32
    %s = arith.select %p, %f, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// Integer index arithmetic is left as it is; sitofp makes the 16-bit type.
// CHECK-LABEL: func.func @index
// CHECK: linalg.index 0 : index
// CHECK: arith.index_cast %{{.*}} : index to i32
// CHECK: arith.sitofp %{{.*}} : i32 to f16
// CHECK: arith.addf %{{.*}}, %{{.*}} : f16
func.func @index(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 0 : index
    %n = arith.index_cast %i : index to i32
    %f = arith.sitofp %n : i32 to f32
    %s = arith.addf %a, %f : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A detour through f64 stays valid: extf f16 -> f64, truncf f64 -> f16; the
// f64 constant is left alone.
// CHECK-LABEL: func.func @f64
// CHECK: arith.extf %{{.*}} : f16 to f64
// CHECK: arith.constant 3.000000e+00 : f64
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f16
func.func @f64(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %d = arith.extf %a : f32 to f64
    %c = arith.constant 3.0 : f64
    %p = arith.mulf %d, %c : f64
    %t = arith.truncf %p : f64 to f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A rounding to the step's own 16-bit type is a no-op once the body is
// 16-bit: it is folded.
// CHECK-LABEL: func.func @own_type
// CHECK: ^bb0(%[[A:.*]]: f16, %{{.*}}: f16):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[A]], %[[A]] : f16
// CHECK-NEXT: linalg.yield %[[S]] : f16
func.func @own_type(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.truncf %a : f32 to f16
    %e = arith.extf %t : f16 to f32
    %s = arith.addf %e, %e : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %m2 : tensor<4x4xf32>
}

// -----

// A 16-bit reduction keeps its body f32: a scalar it captures that became
// 16-bit outside (%s, extracted from an f16 tensor) is widened, outside.
// CHECK-LABEL: func.func @captured_by_reduction
// CHECK: %[[S:.*]] = tensor.extract %{{.*}} : tensor<4x4xf16>
// CHECK: %[[W:.*]] = arith.extf %[[S]] : f16 to f32
// CHECK: linalg.reduce ins(%{{.*}} : tensor<4x4xf16>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: arith.mulf %{{.*}}, %[[W]] : f32
func.func @captured_by_reduction(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<4x4xf32>, %acc1: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4xf32>) {
  %m = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %c0 = arith.constant 0 : index
  %s = tensor.extract %m[%c0, %c0] : tensor<4x4xf32>
  %t = tensor.splat %s : tensor<4x4xf32>
  %a = arith.addf %m, %t : tensor<4x4xf32>
  %m2 = linalg.matmul ins(%a, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = linalg.reduce ins(%a : tensor<4x4xf32>) outs(%acc1 : tensor<4xf32>) dimensions = [1]
    (%in: f32, %o: f32) {
      %p = arith.mulf %in, %s : f32
      %q = arith.addf %p, %o : f32
      linalg.yield %q : f32
    }
  return %m2, %r : tensor<4x4xf32>, tensor<4xf32>
}
