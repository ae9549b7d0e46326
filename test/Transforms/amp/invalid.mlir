// RUN: mpt-opt %s --split-input-file --verify-diagnostics
// RUN: mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="allow=linalg.matmull" --verify-diagnostics
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="deny=-math.tanh" 2>&1 | FileCheck %s --check-prefix=REMOVE
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="infer=matmul" 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="dtype=f8" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="policy=%S/Inputs/bad-policy.txt" 2>&1 | FileCheck %s --check-prefix=POLICY
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="policy=%S/Inputs/no-such-file.txt" 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not mpt-opt %S/Inputs/module.mlir --auto-mixed-precision="report=%S/no-such-dir/r.json" 2>&1 | FileCheck %s --check-prefix=REPORT

// Options are checked before anything changes; each error names the option.
// (Inputs/module.mlir holds the -verify-diagnostics expectation of the
// first RUN line; the others check the message text.)
// REMOVE: error: mpt-assign-precision: option 'deny': cannot remove 'math.tanh': it is not in the deny list
// NAME: error: mpt-assign-precision: option 'infer': 'matmul' is not an op name; write it as <dialect>.<op>, e.g. linalg.matmul
// DTYPE: error: mpt-assign-precision: unknown dtype 'f8'; expected f16 or bf16
// POLICY: error: mpt-assign-precision: policy file '{{.*}}bad-policy.txt', line 2: expected 'allow:', 'infer:', 'clear:' or 'deny:' followed by op names
// NOFILE: error: mpt-assign-precision: cannot read policy file '{{.*}}no-such-file.txt'
// REPORT: error: mpt-write-precision-report: cannot write '{{.*}}r.json'

func.func @precision_value(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.addf' op 'mpt.precision' must be "f32", "f16" or "bf16"}}
  %0 = arith.addf %a, %a {mpt.precision = "half"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op 'mpt.precision' on a function must be "f32" (leave the function alone); put "f16"/"bf16" on its ops instead}}
func.func @function_precision(%a: tensor<4xf32>) -> tensor<4xf32> attributes {mpt.precision = "f16"} {
  return %a : tensor<4xf32>
}

// -----

func.func @assigned_value(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.addf' op 'mpt.assigned' must be "f32", "f16" or "bf16"}}
  %0 = arith.addf %a, %a {mpt.assigned = 16 : i32} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @unknown_op_attr(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.addf' op unknown mpt attribute 'mpt.role' on an op; ops take 'mpt.precision' and 'mpt.assigned' (mpt.role and mpt.grad_of belong on function arguments and results)}}
  %0 = arith.addf %a, %a {mpt.role = "param"} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @report_not_on_module(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'arith.addf' op 'mpt.amp_report' must be a dictionary on a module}}
  %0 = arith.addf %a, %a {mpt.amp_report = {}} : tensor<4xf32>
  return %0 : tensor<4xf32>
}
