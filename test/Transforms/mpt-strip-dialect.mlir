// RUN: mpt-opt %s --mpt-strip-dialect --split-input-file | FileCheck %s --implicit-check-not=mpt.
// RUN: mpt-opt %s --mpt-strip-dialect=keep-roles --split-input-file | FileCheck %s --check-prefix=KEEP

// Roles on arguments and results, precision marks on the function and its
// ops and the report on the module all go; attributes of other dialects
// stay, on ops as on arguments.
// CHECK: module attributes {other.note = "kept"} {
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {llvm.noalias}, %{{.*}}: tensor<f32>)
// CHECK-SAME: -> (tensor<f32>, tensor<4xf32>)
// CHECK-SAME: attributes {note = "kept"}
// CHECK: arith.mulf %{{.*}}, %{{.*}} {note = "kept"} : tensor<4xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : tensor<4xf32>

// With keep-roles the four role attributes stay on the signature; every
// other mpt attribute goes.
// KEEP: module attributes {other.note = "kept"} {
// KEEP-LABEL: func.func @step
// KEEP-SAME: (%{{.*}}: tensor<4xf32> {llvm.noalias, mpt.role = "param"}, %{{.*}}: tensor<f32> {mpt.role = "loss_grad"})
// KEEP-SAME: -> (tensor<f32> {mpt.role = "loss"}, tensor<4xf32> {mpt.grad_of = 0 : i64, mpt.role = "grad"})
// KEEP-NOT: mpt.precision
// KEEP-NOT: mpt.assigned
// KEEP: return
module attributes {mpt.amp_report = {casts = 1 : i64}, other.note = "kept"} {
  func.func @step(%w: tensor<4xf32> {mpt.role = "param", llvm.noalias},
                  %seed: tensor<f32> {mpt.role = "loss_grad"})
      -> (tensor<f32> {mpt.role = "loss"},
          tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64})
      attributes {mpt.precision = "f32", note = "kept"} {
    %0 = arith.mulf %w, %w {mpt.precision = "f16", note = "kept"} : tensor<4xf32>
    %1 = arith.addf %0, %w {mpt.assigned = "f32"} : tensor<4xf32>
    %s = tensor.extract %seed[] : tensor<f32>
    %l = tensor.from_elements %s : tensor<f32>
    return %l, %1 : tensor<f32>, tensor<4xf32>
  }
}

// -----

// A callee's and a call's argument and result attributes are cleaned too;
// a signature left without attributes prints without braces.
// CHECK-LABEL: func.func private @callee
// CHECK-SAME: (tensor<4xf32>) -> tensor<4xf32>
// CHECK-LABEL: func.func @caller
// CHECK: call @callee(%{{.*}}) : (tensor<4xf32>) -> tensor<4xf32>
// KEEP-LABEL: func.func private @callee
// KEEP-SAME: (tensor<4xf32>) -> tensor<4xf32>
// KEEP-NOT: mpt.precision
func.func private @callee(tensor<4xf32>) -> tensor<4xf32>
    attributes {mpt.precision = "f32"}
func.func @caller(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = func.call @callee(%x) {mpt.assigned = "f16"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
