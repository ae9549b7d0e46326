// RUN: mpt-opt %s --convert-elementwise-to-linalg --mpt-fuse-elementwise="fresh-destinations=false" --split-input-file | FileCheck %s
// RUN: mpt-opt %s --convert-elementwise-to-linalg --mpt-fuse-elementwise="max-body-ops=3 fresh-destinations=false" --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: mpt-opt %s --convert-elementwise-to-linalg --mpt-fuse-elementwise --split-input-file | FileCheck %s --check-prefix=FRESH

// A chain becomes one generic that writes where the first op wrote (its
// first operand); the scalar ops stay as they were, in order. Each op read
// %a: the generic reads it once.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[A:.*]]: tensor<16xf32>)
// CHECK: %[[R:.*]] = linalg.generic
// CHECK-SAME: ins(%[[A]] : tensor<16xf32>) outs(%[[A]] : tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[X:.*]] = arith.addf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[X]], %[[IN]] : f32
// CHECK-NEXT: arith.subf %[[Y]], %[[IN]] : f32
// CHECK-NEXT: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
// With at most 3 ops per payload (two ops and the yield), the chain is cut.
// SMALL-LABEL: func.func @chain
// SMALL-COUNT-2: linalg.generic
// SMALL-NOT: linalg.generic
// SMALL: return
func.func @chain(%a: tensor<16xf32>) -> tensor<16xf32> {
  %0 = arith.addf %a, %a : tensor<16xf32>
  %1 = arith.mulf %0, %a : tensor<16xf32>
  %2 = arith.subf %1, %a : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// 16-bit payloads fuse too: the lowering rounds each op of a fused body
// (mpt-round-16bit-ops), so fused and unfused steps agree bit for bit.
// CHECK-LABEL: func.func @chain_f16
// CHECK: linalg.generic
// CHECK: arith.addf %{{.*}} : f16
// CHECK: arith.mulf %{{.*}} : f16
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain_f16(%a: tensor<16xf16>) -> tensor<16xf16> {
  %0 = arith.addf %a, %a : tensor<16xf16>
  %1 = arith.mulf %0, %a : tensor<16xf16>
  return %1 : tensor<16xf16>
}

// -----

// Dynamic sizes.
// CHECK-LABEL: func.func @dynamic_chain
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @dynamic_chain(%a: tensor<?xf32>) -> tensor<?xf32> {
  %0 = math.exp %a : tensor<?xf32>
  %1 = arith.mulf %0, %a : tensor<?xf32>
  return %1 : tensor<?xf32>
}

// -----

// @negative_shared: %0 has two users, fusing would compute it twice.
// With fresh destinations (default) its users do not write into it; the
// sizes come from the argument, not from %0.
// FRESH-LABEL: func.func @negative_shared
// FRESH-SAME: (%[[A:.*]]: tensor<?xf32>)
// FRESH: %[[X:.*]] = linalg.generic {{.*}} outs(%[[A]] : tensor<?xf32>)
// FRESH: %[[D:.*]] = tensor.dim %[[A]]
// FRESH: %[[E:.*]] = tensor.empty(%[[D]])
// FRESH: linalg.generic {{.*}} ins(%[[X]], %[[A]] : {{.*}}) outs(%[[E]] : tensor<?xf32>)
// FRESH: %[[D2:.*]] = tensor.dim %[[A]]
// FRESH: %[[E2:.*]] = tensor.empty(%[[D2]])
// FRESH: linalg.generic {{.*}} ins(%[[X]], %[[A]] : {{.*}}) outs(%[[E2]] : tensor<?xf32>)
// CHECK-LABEL: func.func @negative_shared
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @negative_shared(%a: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %0 = math.exp %a : tensor<?xf32>
  %1 = arith.mulf %0, %a : tensor<?xf32>
  %2 = arith.addf %0, %a : tensor<?xf32>
  return %1, %2 : tensor<?xf32>, tensor<?xf32>
}

// -----

// @negative_reads_outs: the payload reads its destination (an
// accumulation), which therefore stays; the reduction is not elementwise.
// CHECK-LABEL: func.func @negative_reads_outs
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>, %[[ACC:.*]]: tensor<f32>)
// CHECK: linalg.generic {{.*}} ins(%[[A]] : tensor<4xf32>) outs(%[[B]] : tensor<4xf32>)
// CHECK: linalg.generic {{.*}} outs(%[[ACC]] : tensor<f32>)
func.func @negative_reads_outs(%a: tensor<4xf32>, %b: tensor<4xf32>, %acc: tensor<f32>) -> (tensor<4xf32>, tensor<f32>) {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%b : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%0 : tensor<4xf32>) outs(%acc : tensor<f32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %0, %1 : tensor<4xf32>, tensor<f32>
}

// -----

// A splat constant tensor (the relu backward's zeros) becomes the scalar
// in the payload: no tensor of zeros remains. The comparison is unchanged.
// CHECK-LABEL: func.func @splat_input
// CHECK-NOT: dense<0.0
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x8xf16>, tensor<4x8xf16>)
// CHECK: ^bb0(%[[X:.*]]: f16, %[[G:.*]]: f16, %{{.*}}: f16):
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f16
// CHECK: arith.cmpf ogt, %[[X]], %[[Z]] : f16
// CHECK: arith.select
func.func @splat_input(%x: tensor<4x8xf16>, %g: tensor<4x8xf16>) -> tensor<4x8xf16> {
  %zeros = arith.constant dense<0.0> : tensor<4x8xf16>
  %e = tensor.empty() : tensor<4x8xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %zeros, %g : tensor<4x8xf16>, tensor<4x8xf16>, tensor<4x8xf16>) outs(%e : tensor<4x8xf16>) {
  ^bb0(%a: f16, %z: f16, %b: f16, %o: f16):
    %c = arith.cmpf ogt, %a, %z : f16
    %s = arith.select %c, %b, %z : f16
    linalg.yield %s : f16
  } -> tensor<4x8xf16>
  return %r : tensor<4x8xf16>
}

// -----

// Negative: an elementwise producer whose only use is a contraction is not
// fused into it (it would be recomputed for every column).
// CHECK-LABEL: func.func @no_fusion_into_contraction
// CHECK: %[[EXP:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%[[EXP]], %arg1
func.func @no_fusion_into_contraction(%a: tensor<16x32xf32>, %b: tensor<32x8xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %e = tensor.empty() : tensor<16x32xf32>
  %ea = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<16x32xf32>) outs(%e : tensor<16x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<16x32xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ea, %b : tensor<16x32xf32>, tensor<32x8xf32>) outs(%c : tensor<16x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x8xf32>
  return %m : tensor<16x8xf32>
}

// -----

// @negative_distinct_maps: the same value read through two different
// indexing maps is two inputs.
// CHECK-LABEL: func.func @negative_distinct_maps
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
func.func @negative_distinct_maps(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %a : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
