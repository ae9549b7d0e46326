// mpt-lower-to-cpu runs in four mpt-pipeline-stage passes: the IR is
// verified (-verify-each, mlir-opt's default) after each of the four, not
// after each of the ~27 passes inside them (issue 12, defect 9: the
// verifier was 40 % of the time).
// RUN: mpt-opt %s --mpt-lower-to-cpu --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE: Pass Manager with 4 passes:
// PIPE-NEXT: builtin.module(
// PIPE-NEXT: mpt-pipeline-stage{pipeline={builtin.module(mpt-single-process-collectives,mpt-lower-ops,{{.*}},mpt-bufferize)}},
// PIPE-NEXT: mpt-pipeline-stage{pipeline={builtin.module(expand-realloc{{.*}},mpt-split-deallocs,{{.*}},convert-bufferization-to-memref)}},
// PIPE-NEXT: mpt-pipeline-stage{pipeline={builtin.module(expand-strided-metadata,mpt-linalg-to-loops,mpt-round-16bit-ops,{{.*}},lower-affine)}},
// PIPE-NEXT: mpt-pipeline-stage{pipeline={builtin.module(mpt-scf-to-cf,mpt-convert-to-llvm{{.*}})}}
// PIPE-NEXT: )
//
// verify-each-pass=true: the same passes, each verified, the same result.
// RUN: mpt-opt %s --mpt-lower-to-cpu=verify-each-pass=true --dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=FLAT
// FLAT: Pass Manager with 27 passes:
// FLAT-NOT: mpt-pipeline-stage
// RUN: mpt-opt %s --mpt-lower-to-cpu -o %t.staged.mlir
// RUN: mpt-opt %s --mpt-lower-to-cpu=verify-each-pass=true -o %t.flat.mlir
// RUN: diff %t.staged.mlir %t.flat.mlir
//
// The textual pipeline reads back (crash reproducers, --dump-pass-pipeline).
// RUN: mpt-opt %s --pass-pipeline='builtin.module(mpt-pipeline-stage{pipeline=builtin.module(mpt-lower-ops,mpt-prepare-abi,convert-elementwise-to-linalg,mpt-bufferize)})' | FileCheck %s --check-prefix=TEXT
// TEXT-LABEL: func.func @step
// TEXT: memref.alloc
// TEXT: linalg.matmul {{.*}}memref<4x2xf32>
//
// The instrumentations see the passes of a stage: -mlir-timing nests them
// under it, -mlir-print-ir-after prints after one of them.
// RUN: mpt-opt %s --mpt-lower-to-cpu -mlir-timing -o /dev/null 2>&1 | FileCheck %s --check-prefix=TIMING
// TIMING: {{%\)  PipelineStage$}}
// TIMING-NEXT: {{%\)    SingleProcessCollectives$}}
// TIMING-NEXT: {{%\)    LowerMPTOps$}}
// TIMING: {{%\)    Bufferize$}}
// TIMING-NEXT: {{%\)  PipelineStage$}}
// TIMING: {{%\)    LowerAffinePass$}}
// TIMING-NEXT: {{%\)  PipelineStage$}}
// TIMING-NEXT: {{%\)    SCFToCF$}}
// TIMING-NEXT: {{%\)    ConvertToLLVM$}}
// RUN: mpt-opt %s --mpt-lower-to-cpu -mlir-print-ir-after=mpt-bufferize -o /dev/null 2>&1 | FileCheck %s --check-prefix=PRINT
// PRINT: IR Dump After Bufferize (mpt-bufferize)
// PRINT: linalg.matmul {{.*}}memref<4x2xf32>
//
// A pass that fails inside a stage fails the pipeline there.
// RUN: not mpt-opt %S/Inputs/unbufferizable.mlir --allow-unregistered-dialect --mpt-lower-to-cpu -mlir-print-ir-after-failure -o /dev/null 2>&1 | FileCheck %s --check-prefix=FAIL
// FAIL: error: op was not bufferized
// FAIL: IR Dump After Bufferize Failed (mpt-bufferize)
// FAIL: IR Dump After PipelineStage Failed (mpt-pipeline-stage)
// FAIL-NOT: IR Dump

func.func @step(%a: tensor<4x8xf16>, %b: tensor<8x2xf16>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %ae = arith.extf %a : tensor<4x8xf16> to tensor<4x8xf32>
  %be = arith.extf %b : tensor<8x2xf16> to tensor<8x2xf32>
  %m = linalg.matmul ins(%ae, %be : tensor<4x8xf32>, tensor<8x2xf32>)
      outs(%f : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %m : tensor<4x2xf32>
}
