// RUN: mpt-opt %s --mpt-attach-optimizer --split-input-file | FileCheck %s --check-prefix=SGD
// RUN: mpt-opt %s --mpt-attach-optimizer="kind=momentum lr=0.1 momentum=0.8" --split-input-file | FileCheck %s --check-prefix=MOM
// RUN: mpt-opt %s --mpt-attach-optimizer="kind=adam lr=0.01 beta1=0.8 beta2=0.95 eps=1e-6 weight-decay=0.1" --split-input-file | FileCheck %s --check-prefix=ADAM
// RUN: mpt-opt %s --mpt-attach-optimizer="kind=adamw weight-decay=0.1" --split-input-file | FileCheck %s --check-prefix=ADAMW
// RUN: mpt-opt %s --mpt-attach-optimizer="clip-norm=1.0" --split-input-file | FileCheck %s --check-prefix=CLIP
// RUN: mpt-opt %s --mpt-attach-optimizer="keep-grads=true" --split-input-file | FileCheck %s --check-prefix=KEEP
// Every variant lowers to the CPU.
// RUN: mpt-opt %s --mpt-attach-optimizer="kind=adamw clip-norm=1.0" --split-input-file --mpt-lower-to-cpu -o /dev/null

// A grads-form step with loss scaling (found_inf) becomes an update-form
// step: params and state in, updated params and state out, grads dropped,
// the update skipped in an scf.if on found_inf.
// SGD-LABEL: func.func @scaled_step
// SGD-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<i1> {mpt.role = "found_inf"}, tensor<4x4xf32> {mpt.role = "param_out", mpt.updates = 0 : i64}, tensor<4xf32> {mpt.role = "param_out", mpt.updates = 1 : i64})
// SGD: %[[INF:.*]] = tensor.extract %{{.*}}[] : tensor<i1>
// SGD: %[[R:.*]]:2 = scf.if %[[INF]] -> (tensor<4x4xf32>, tensor<4xf32>) {
// SGD-NEXT: scf.yield %arg0, %arg1 : tensor<4x4xf32>, tensor<4xf32>
// SGD-NEXT: } else {
// SGD: linalg.generic
// SGD: arith.mulf
// SGD: arith.subf
// SGD: return %{{.*}}, %{{.*}}, %[[R]]#0, %[[R]]#1
// MOM-LABEL: func.func @scaled_step
// MOM-SAME: %{{.*}}: tensor<4x4xf32> {mpt.role = "opt_state"}, %{{.*}}: tensor<4xf32> {mpt.role = "opt_state"})
// MOM-SAME: tensor<4x4xf32> {mpt.role = "param_out", mpt.updates = 0 : i64}, tensor<4xf32> {mpt.role = "param_out", mpt.updates = 1 : i64}, tensor<4x4xf32> {mpt.role = "opt_state", mpt.updates = 3 : i64}, tensor<4xf32> {mpt.role = "opt_state", mpt.updates = 4 : i64})
// MOM: scf.if
// MOM: arith.constant 8.000000e-01 : f32
// MOM: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>)
// ADAM-LABEL: func.func @scaled_step
// ADAM-SAME: {mpt.role = "opt_state"}, %{{.*}}: tensor<f32> {mpt.role = "opt_state"})
// ADAM-SAME: tensor<f32> {mpt.role = "opt_state", mpt.updates = 7 : i64})
// ADAM: scf.if
// ADAM: math.powf
// ADAM: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>)
// ADAM: math.sqrt
// ADAMW-LABEL: func.func @scaled_step
// ADAMW: %[[LRWD:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// ADAMW: arith.subf %{{.*}}, %[[LRWD]] : f32
// The global norm for clipping is the sum of squares of mpt.unscale_check,
// fused with the unscale: no extra pass over the grads.
// CLIP-LABEL: func.func @scaled_step
// CLIP: %{{.*}}, %{{.*}}, %[[SQ:[a-z_0-9]+]] = mpt.unscale_check
// CLIP: scf.if
// CLIP: %[[X:.*]] = tensor.extract %[[SQ]][] : tensor<f32>
// CLIP: math.sqrt %[[X]] : f32
// CLIP: arith.minimumf
// KEEP-LABEL: func.func @scaled_step
// KEEP-SAME: tensor<4x4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"}
// KEEP-SAME: {mpt.role = "param_out", mpt.updates = 0 : i64}
func.func @scaled_step(%w: tensor<4x4xf32> {mpt.role = "param"}, %b: tensor<4xf32> {mpt.role = "param"},
                       %s: tensor<f32> {mpt.role = "loss_scale"})
    -> (tensor<f32> {mpt.role = "loss"}, tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64}, tensor<i1> {mpt.role = "found_inf"}) {
  %gw, %gb, %inf, %sq = mpt.unscale_check %s, %w, %b : tensor<4x4xf32>, tensor<4xf32>
  return %s, %gw, %gb, %inf : tensor<f32>, tensor<4x4xf32>, tensor<4xf32>, tensor<i1>
}

// -----

// Without found_inf the update is unconditional; the clipping norm is
// computed from the grads.
// SGD-LABEL: func.func @plain_step
// SGD-NOT: scf.if
// SGD: linalg.generic
// CLIP-LABEL: func.func @plain_step
// CLIP: linalg.generic {{.*}} iterator_types = ["reduction"]
// CLIP: math.sqrt
func.func @plain_step(%w: tensor<?xf32> {mpt.role = "param"}) -> (tensor<?xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<?xf32>
}
