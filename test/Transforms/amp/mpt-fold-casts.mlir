// RUN: mpt-opt %s --mpt-fold-casts --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-fold-casts="allow-excess-precision=true" --split-input-file | FileCheck %s --check-prefix=EXCESS

// truncf(extf(x)) to x's type is exact: folded.
// CHECK-LABEL: func.func @exact_round_trip
// CHECK-SAME: (%[[H:.*]]: tensor<4xf16>)
// CHECK-NOT: arith.
// CHECK: return %[[H]]
func.func @exact_round_trip(%h: tensor<4xf16>) -> tensor<4xf16> {
  %e = arith.extf %h : tensor<4xf16> to tensor<4xf32>
  %t = arith.truncf %e : tensor<4xf32> to tensor<4xf16>
  return %t : tensor<4xf16>
}

// -----

// extf(truncf(x)) rounds x: kept, unless allow-excess-precision.
// CHECK-LABEL: func.func @rounding_round_trip
// CHECK: arith.truncf
// CHECK: arith.extf
// EXCESS-LABEL: func.func @rounding_round_trip
// EXCESS-SAME: (%[[X:.*]]: tensor<4xf32>)
// EXCESS-NOT: arith.truncf
// EXCESS: return %[[X]]
func.func @rounding_round_trip(%x: tensor<4xf32>) -> tensor<4xf32> {
  %t = arith.truncf %x : tensor<4xf32> to tensor<4xf16>
  %e = arith.extf %t : tensor<4xf16> to tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// Casts of constants become constants; a value out of range becomes inf,
// as the cast would compute.
// CHECK-LABEL: func.func @constants
// CHECK-DAG: arith.constant dense<[1.000000e-01, 7.000000e+04]> : tensor<2xf32>
// CHECK-DAG: arith.constant dense<[9.997550e-02, 0x7C00]> : tensor<2xf16>
// CHECK-DAG: arith.constant 5.000000e-01 : bf16
// CHECK-NOT: arith.truncf
func.func @constants() -> (tensor<2xf16>, bf16, tensor<2xf32>) {
  %c = arith.constant dense<[0.1, 7.0e4]> : tensor<2xf32>
  %t = arith.truncf %c : tensor<2xf32> to tensor<2xf16>
  %s = arith.constant 0.5 : f32
  %b = arith.truncf %s : f32 to bf16
  return %t, %b, %c : tensor<2xf16>, bf16, tensor<2xf32>
}

// -----

// Casts of one value to one type are merged and placed after its
// definition; casts of arguments move to the function entry, one per
// parameter, even from inside a loop.
// CHECK-LABEL: func.func @dedupe_and_hoist
// CHECK-SAME: (%[[W:.*]]: tensor<4xf32>, %[[N:.*]]: index)
// CHECK-NEXT: %[[WH:.*]] = arith.truncf %[[W]] : tensor<4xf32> to tensor<4xf16>
// CHECK-NOT: arith.truncf
// CHECK: scf.for
// CHECK: arith.addf %[[WH]], %[[WH]]
// CHECK: arith.mulf %[[WH]], %[[WH]]
func.func @dedupe_and_hoist(%w: tensor<4xf32>, %n: index) -> tensor<4xf16> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %init = arith.constant dense<0.0> : tensor<4xf16>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> (tensor<4xf16>) {
    %a = arith.truncf %w : tensor<4xf32> to tensor<4xf16>
    %b = arith.truncf %w : tensor<4xf32> to tensor<4xf16>
    %s = arith.addf %a, %b : tensor<4xf16>
    scf.yield %s : tensor<4xf16>
  }
  %c = arith.truncf %w : tensor<4xf32> to tensor<4xf16>
  %p = arith.mulf %c, %c : tensor<4xf16>
  %q = arith.addf %p, %r : tensor<4xf16>
  return %q : tensor<4xf16>
}

// -----

// A cast of tensor.empty is an empty tensor of the new type.
// CHECK-LABEL: func.func @empty
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x4xf16>
// CHECK-NOT: arith.truncf
// CHECK: return %[[E]]
func.func @empty(%n: index) -> tensor<?x4xf16> {
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %t = arith.truncf %e : tensor<?x4xf32> to tensor<?x4xf16>
  return %t : tensor<?x4xf16>
}

// -----

// Casts inside linalg bodies are not touched.
// CHECK-LABEL: func.func @negative_body_casts
// CHECK: linalg.generic
// CHECK: arith.extf
// CHECK: arith.truncf
func.func @negative_body_casts(%a: tensor<4xf16>) -> tensor<4xf16> {
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf16>) outs(%a : tensor<4xf16>) {
  ^bb0(%x: f16, %o: f16):
    %e = arith.extf %x : f16 to f32
    %t = arith.truncf %e : f32 to f16
    linalg.yield %t : f16
  } -> tensor<4xf16>
  return %0 : tensor<4xf16>
}
