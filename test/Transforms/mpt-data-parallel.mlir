// RUN: mpt-opt %s --mpt-data-parallel --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-data-parallel="bucket-mb=0" --split-input-file | FileCheck %s --check-prefix=EACH
// RUN: mpt-opt %s --mpt-data-parallel="world-size=4 grid=ranks" --split-input-file | FileCheck %s --check-prefix=FOUR
// RUN: mpt-opt %s --mpt-data-parallel="world-size=1" --split-input-file | FileCheck %s --check-prefix=ONE
// RUN: mpt-opt %s --mpt-data-parallel="bucket-mb=0.00002" --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: mpt-opt %s --mpt-data-parallel="reduce-type=bf16" --split-input-file | FileCheck %s --check-prefix=BF16

// The grads form: four grads, computed in the order s, d, b, w (the
// backward's order is the body's). Default buckets (25 MiB): the rank-0
// grad alone (the next one has a dynamic shape), the dynamic one alone, b
// and w laid end to end. Each all-reduce right after its last grad; one
// 1/N factor from the grid's size at run time, at the entry.
// CHECK: shard.grid @dp(shape = ?)
// CHECK-LABEL: func.func @step
// CHECK: %[[N:.*]] = shard.grid_shape @dp axes = [0] : index
// CHECK: %[[NI:.*]] = arith.index_castui %[[N]] : index to i64
// CHECK: %[[NF:.*]] = arith.uitofp %[[NI]] : i64 to f32
// CHECK: %[[INV:.*]] = arith.divf %{{.*}}, %[[NF]] : f32
// CHECK: %[[GS:.*]] = arith.mulf %arg5, %arg2 : tensor<f32>
// CHECK-NEXT: %[[RS:.*]] = shard.all_reduce %[[GS]] on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// CHECK: %[[MS:.*]] = linalg.generic {{.*}} ins(%[[RS]] : tensor<f32>)
// CHECK: arith.mulf %{{.*}}, %[[INV]] : f32
// CHECK: %[[GD:.*]] = arith.mulf %arg3, %arg3 : tensor<?xf32>
// CHECK-NEXT: %[[RD:.*]] = shard.all_reduce %[[GD]] on @dp grid_axes = [0] : tensor<?xf32> -> tensor<?xf32>
// CHECK: %[[MD:.*]] = linalg.generic {{.*}} ins(%[[RD]] : tensor<?xf32>)
// CHECK: %[[GB:.*]] = arith.addf %arg1, %arg1 : tensor<8xf32>
// CHECK-NEXT: %[[GW:.*]] = arith.mulf %arg0, %arg0 : tensor<4x8xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<40xf32>
// CHECK-NEXT: %[[I0:.*]] = tensor.insert_slice %[[GB]] into %[[E]][0] [8] [1] : tensor<8xf32> into tensor<40xf32>
// CHECK-NEXT: %[[FW:.*]] = tensor.collapse_shape %[[GW]] {{\[\[}}0, 1]] : tensor<4x8xf32> into tensor<32xf32>
// CHECK-NEXT: %[[I1:.*]] = tensor.insert_slice %[[FW]] into %[[I0]][8] [32] [1] : tensor<32xf32> into tensor<40xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[I1]] on @dp grid_axes = [0] : tensor<40xf32> -> tensor<40xf32>
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[R]] : tensor<40xf32>)
// CHECK: %[[B:.*]] = tensor.extract_slice %[[M]][0] [8] [1] : tensor<40xf32> to tensor<8xf32>
// CHECK-NEXT: %[[WF:.*]] = tensor.extract_slice %[[M]][8] [32] [1] : tensor<40xf32> to tensor<32xf32>
// CHECK-NEXT: %[[W:.*]] = tensor.expand_shape %[[WF]] {{\[\[}}0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
// CHECK-NEXT: return %arg5, %[[W]], %[[B]], %[[MS]], %[[MD]]
// CHECK-NOT: shard.grid_shape

// Each grad its own all-reduce, right after it.
// EACH-LABEL: func.func @step
// EACH: %[[GS:.*]] = arith.mulf %arg5, %arg2
// EACH-NEXT: shard.all_reduce %[[GS]]
// EACH: %[[GD:.*]] = arith.mulf %arg3, %arg3
// EACH-NEXT: shard.all_reduce %[[GD]]
// EACH: %[[GB:.*]] = arith.addf %arg1, %arg1
// EACH-NEXT: shard.all_reduce %[[GB]]
// EACH: %[[GW:.*]] = arith.mulf %arg0, %arg0
// EACH-NEXT: shard.all_reduce %[[GW]]
// EACH-NOT: tensor.insert_slice

// A static world size: the grid says so, the factor is a constant.
// FOUR: shard.grid @ranks(shape = 4)
// FOUR-LABEL: func.func @step
// FOUR: %[[Q:.*]] = arith.constant 2.500000e-01 : f32
// FOUR-NOT: shard.grid_shape
// FOUR: shard.all_reduce %{{.*}} on @ranks
// FOUR: arith.mulf %{{.*}}, %[[Q]] : f32

// One rank: the sum is the mean.
// ONE: shard.grid @dp(shape = 1)
// ONE-LABEL: func.func @step
// ONE-NOT: linalg.generic
// ONE: return

// Buckets of 20 bytes (bucket-mb=0.00002): a bucket takes grads while it
// holds less; the 32-byte b fills one, so w starts another: 4 all-reduces.
// SMALL-LABEL: func.func @step
// SMALL-COUNT-4: shard.all_reduce
// SMALL-NOT: shard.all_reduce
// SMALL-LABEL: func.func @scaled
func.func @step(%w: tensor<4x8xf32> {mpt.role = "param"}, %b: tensor<8xf32> {mpt.role = "param"},
                %s: tensor<f32> {mpt.role = "param"}, %d: tensor<?xf32> {mpt.role = "param"},
                %x: tensor<2x4xf32> {mpt.role = "input"}, %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "loss"},
        tensor<4x8xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<8xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64},
        tensor<f32> {mpt.role = "grad", mpt.grad_of = 2 : i64},
        tensor<?xf32> {mpt.role = "grad", mpt.grad_of = 3 : i64}) {
  %gs = arith.mulf %seed, %s : tensor<f32>
  %gd = arith.mulf %d, %d : tensor<?xf32>
  %gb = arith.addf %b, %b : tensor<8xf32>
  %gw = arith.mulf %w, %w : tensor<4x8xf32>
  return %seed, %gw, %gb, %gs, %gd : tensor<f32>, tensor<4x8xf32>, tensor<8xf32>, tensor<f32>, tensor<?xf32>
}

// reduce-type=bf16: each f32 bucket is rounded to bf16, all-reduced in
// bf16, and comes back in f32 for the average.
// BF16-LABEL: func.func @step
// BF16: %[[GB:.*]] = arith.addf %arg1, %arg1 : tensor<8xf32>
// BF16: %[[FLAT:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[8] [32] [1] : tensor<32xf32> into tensor<40xf32>
// BF16: %[[LOW:.*]] = linalg.generic {{.*}} ins(%[[FLAT]] : tensor<40xf32>) outs(%{{.*}} : tensor<40xbf16>)
// BF16: arith.truncf %{{.*}} : f32 to bf16
// BF16: %[[R:.*]] = shard.all_reduce %[[LOW]] on @dp grid_axes = [0] : tensor<40xbf16> -> tensor<40xbf16>
// BF16: linalg.generic {{.*}} ins(%[[R]] : tensor<40xbf16>) outs(%{{.*}} : tensor<40xf32>)
// BF16: arith.extf %{{.*}} : bf16 to f32

// -----

// After loss scaling: the scaled grads are reduced before mpt.unscale_check
// (a grad that is an argument at the entry), which unscales the sums by
// 1 / (scale * N): no pass over the grads for the average. Its found_inf is
// combined across ranks (max) before the scale update and the return read
// it; the scale update keeps the scale itself.
// CHECK-LABEL: func.func @scaled
// CHECK-NOT: arith.divf
// CHECK: %[[G:.*]] = arith.mulf %arg1, %arg1 : tensor<4xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT: %[[I0:.*]] = tensor.insert_slice %arg0 into %[[E]][0] [4] [1]
// CHECK-NEXT: %[[I1:.*]] = tensor.insert_slice %[[G]] into %[[I0]][4] [4] [1]
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[I1]]
// CHECK-NEXT: %[[A:.*]] = tensor.extract_slice %[[R]][0] [4] [1]
// CHECK-NEXT: %[[B:.*]] = tensor.extract_slice %[[R]][4] [4] [1]
// CHECK-NEXT: %[[N:.*]] = shard.grid_shape @dp axes = [0] : index
// CHECK-NEXT: %[[NI:.*]] = arith.index_castui %[[N]] : index to i64
// CHECK-NEXT: %[[NF:.*]] = arith.uitofp %[[NI]] : i64 to f32
// CHECK-NEXT: %[[NT:.*]] = tensor.from_elements %[[NF]] : tensor<f32>
// CHECK-NEXT: %[[SN:.*]] = arith.mulf %arg2, %[[NT]] : tensor<f32>
// CHECK-NEXT: %[[U:.*]]:2, %[[INF:.*]], %[[SQ:.*]] = mpt.unscale_check %[[SN]], %[[A]], %[[B]] : tensor<4xf32>, tensor<4xf32>
// CHECK-NEXT: %[[ALL:.*]] = shard.all_reduce %[[INF]] on @dp grid_axes = [0] reduction = max : tensor<i1> -> tensor<i1>
// CHECK-NEXT: mpt.update_scale %arg2, %arg3, %arg4, %[[ALL]]
// CHECK: return %[[U]]#0, %[[U]]#1, %[[ALL]]
// EACH-LABEL: func.func @scaled
// EACH: %[[RP:.*]] = shard.all_reduce %arg0 on @dp
// EACH: %[[G:.*]] = arith.mulf %arg1, %arg1 : tensor<4xf32>
// EACH-NEXT: shard.all_reduce %[[G]]
// FOUR-LABEL: func.func @scaled
// FOUR: %[[FOUR:.*]] = arith.constant 4.000000e+00 : f32
// FOUR: %[[NT:.*]] = tensor.from_elements %[[FOUR]] : tensor<f32>
// FOUR: %[[SN:.*]] = arith.mulf %arg2, %[[NT]] : tensor<f32>
// FOUR: mpt.unscale_check %[[SN]]
// ONE-LABEL: func.func @scaled
// ONE: mpt.unscale_check %arg2
// ONE-NEXT: shard.all_reduce %{{.*}} reduction = max
func.func @scaled(%p: tensor<4xf32> {mpt.role = "param"}, %q: tensor<4xf32> {mpt.role = "param"},
                  %scale: tensor<f32> {mpt.role = "loss_scale"},
                  %tracker: tensor<i32> {mpt.role = "growth_tracker"},
                  %hyst: tensor<i32> {mpt.role = "hysteresis"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64},
        tensor<i1> {mpt.role = "found_inf"},
        tensor<f32> {mpt.role = "loss_scale", mpt.updates = 2 : i64},
        tensor<i32> {mpt.role = "growth_tracker", mpt.updates = 3 : i64},
        tensor<i32> {mpt.role = "hysteresis", mpt.updates = 4 : i64}) {
  %g = arith.mulf %q, %q : tensor<4xf32>
  %u:2, %inf, %sq = mpt.unscale_check %scale, %p, %g : tensor<4xf32>, tensor<4xf32>
  %ns, %nt, %nh = mpt.update_scale %scale, %tracker, %hyst, %inf {backoff_factor = 5.000000e-01 : f64, growth_factor = 2.000000e+00 : f64, growth_interval = 2000 : i64, hysteresis = 1 : i64, max_scale = 1.6777216e7 : f64, min_scale = 1.000000e+00 : f64}
  return %u#0, %u#1, %inf, %ns, %nt, %nh : tensor<4xf32>, tensor<4xf32>, tensor<i1>, tensor<f32>, tensor<i32>, tensor<i32>
}

// -----

// A 16-bit step: f16 and f32 grads in buckets of their own, each averaged
// with a factor of its type; a value returned as two grads is reduced once.
// CHECK-LABEL: func.func @mixed_types
// CHECK: shard.grid_shape
// CHECK-NOT: shard.grid_shape
// CHECK: %[[INV:.*]] = arith.divf
// CHECK-NEXT: %[[INV16:.*]] = arith.truncf %[[INV]] : f32 to f16
// CHECK: %[[H:.*]] = arith.mulf %arg0, %arg0 : tensor<4xf16>
// CHECK-NEXT: %[[RH:.*]] = shard.all_reduce %[[H]] on @dp grid_axes = [0] : tensor<4xf16> -> tensor<4xf16>
// CHECK: arith.mulf %{{.*}}, %[[INV16]] : f16
// CHECK: %[[G:.*]] = arith.mulf %arg1, %arg1 : tensor<4xf32>
// CHECK-NEXT: %[[RG:.*]] = shard.all_reduce %[[G]]
// CHECK: %[[MG:.*]] = linalg.generic {{.*}} ins(%[[RG]] : tensor<4xf32>)
// CHECK: return %{{.*}}, %[[MG]], %[[MG]]
// CHECK-NOT: shard.all_reduce
// 16-bit grads travel as they are with reduce-type=bf16.
// BF16-LABEL: func.func @mixed_types
// BF16: shard.all_reduce %{{.*}} : tensor<4xf16> -> tensor<4xf16>
// BF16: shard.all_reduce %{{.*}} : tensor<4xbf16> -> tensor<4xbf16>
func.func @mixed_types(%a: tensor<4xf16> {mpt.role = "param"}, %b: tensor<4xf32> {mpt.role = "param"})
    -> (tensor<4xf16> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64}) {
  %h = arith.mulf %a, %a : tensor<4xf16>
  %g = arith.mulf %b, %b : tensor<4xf32>
  return %h, %g, %g : tensor<4xf16>, tensor<4xf32>, tensor<4xf32>
}
