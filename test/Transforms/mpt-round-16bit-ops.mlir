// RUN: mpt-opt %s --mpt-round-16bit-ops --split-input-file | FileCheck %s

// Each 16-bit op of a chain computes in f32 and rounds its own result.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: f16, %[[Y:.*]]: f16)
// CHECK: %[[XW:.*]] = arith.extf %[[X]] : f16 to f32
// CHECK: %[[YW:.*]] = arith.extf %[[Y]] : f16 to f32
// CHECK: %[[S:.*]] = arith.addf %[[XW]], %[[YW]] : f32
// CHECK: %[[SH:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK: %[[SW:.*]] = arith.extf %[[SH]] : f16 to f32
// CHECK: %[[YW2:.*]] = arith.extf %[[Y]] : f16 to f32
// CHECK: %[[D:.*]] = arith.divf %[[SW]], %[[YW2]] fastmath<contract> : f32
// CHECK: %[[DH:.*]] = arith.truncf %[[D]] : f32 to f16
// CHECK: return %[[DH]]
func.func @chain(%x: f16, %y: f16) -> f16 {
  %s = arith.addf %x, %y : f16
  %d = arith.divf %s, %y fastmath<contract> : f16
  return %d : f16
}

// -----

// bf16 vectors; a comparison widens its operands and keeps its i1 result.
// CHECK-LABEL: func.func @vector_bf16
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: %[[C:.*]] = arith.cmpf olt, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK-NOT: arith.truncf
// CHECK: return %{{.*}}, %[[C]]
func.func @vector_bf16(%a: vector<4xbf16>, %b: vector<4xbf16>)
    -> (vector<4xbf16>, vector<4xi1>) {
  %m = arith.mulf %a, %b : vector<4xbf16>
  %c = arith.cmpf olt, %m, %b : vector<4xbf16>
  return %m, %c : vector<4xbf16>, vector<4xi1>
}

// -----

// Negative cases: f32 ops, exact 16-bit ops (negf, max/min, select) and ops
// on tensors (lowered to loops first) stay as they are.
// CHECK-LABEL: func.func @negative_unchanged
// CHECK-NOT: arith.extf
// CHECK: arith.addf %{{.*}} : f32
// CHECK: arith.negf %{{.*}} : f16
// CHECK: arith.maximumf %{{.*}} : f16
// CHECK: arith.addf %{{.*}} : tensor<2xf16>
// CHECK-NOT: arith.extf
func.func @negative_unchanged(%x: f32, %h: f16, %t: tensor<2xf16>)
    -> (f32, f16, f16, tensor<2xf16>) {
  %s = arith.addf %x, %x : f32
  %n = arith.negf %h : f16
  %m = arith.maximumf %h, %n : f16
  %u = arith.addf %t, %t : tensor<2xf16>
  return %s, %n, %m, %u : f32, f16, f16, tensor<2xf16>
}
