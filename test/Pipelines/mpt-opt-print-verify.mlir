// mpt-opt prints its result without verifying it a second time when the
// passes verified it (-verify-each, on by default, not given): on a 100k-op
// step that second verification cost 2.3 s. Given -verify-each (either
// value) or -mlir-print-assume-verified, the flags decide as in mlir-opt.
// The output is the same either way.

// RUN: mpt-opt --help | FileCheck %s --check-prefix=HELP
// HELP: without a second verification when the passes
// HELP: -verify-each=true or
// HELP-NEXT: -mlir-print-assume-verified=false

// RUN: mpt-opt %s --mpt-lower-to-cpu > %t.default.mlir
// RUN: mpt-opt %s --mpt-lower-to-cpu -verify-each=true > %t.verified.mlir
// RUN: diff %t.default.mlir %t.verified.mlir
// RUN: FileCheck %s < %t.default.mlir
// CHECK: llvm.func @step

func.func @step(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %s = arith.addf %x, %y : tensor<4xf32>
  return %s : tensor<4xf32>
}
