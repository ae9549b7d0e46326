//===- Passes.td - Passes of mpt ---------------------------*- tablegen -*-===//

#ifndef MPT_TRANSFORMS_PASSES_TD
#define MPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerMPTOps : Pass<"mpt-lower-ops"> {
  let summary = "Lower mpt ops to linalg, tensor and arith";
  let description = [{
    Replaces every op of the `mpt` dialect by upstream ops so that the step
    can go through `mpt-lower-to-cpu` or a GPU pipeline. Runs on any op; the
    lowering patterns are exported as `mpt::populateLowerMPTOpsPatterns`.

    `mpt.loss_grad` becomes a constant of ones when the loss has a static
    shape, and `tensor.empty` + `linalg.fill` otherwise:

    ```mlir
    // before
    %seed = mpt.loss_grad %loss : tensor<f32>
    // after
    %seed = arith.constant dense<1.000000e+00> : tensor<f32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numLowered", "num-lowered", "Number of mpt ops lowered">
  ];
}

def EmitCInterface : Pass<"mpt-emit-c-interface", "::mlir::ModuleOp"> {
  let summary = "Give public functions a C entry point for ahead-of-time callers";
  let description = [{
    Sets `llvm.emit_c_interface` on every public `func.func` with a body, so
    that `convert-func-to-llvm` emits `_mlir_ciface_<name>`, which takes
    memref descriptors by pointer (and returns several results through a
    pointer to a struct). mpt's Python loader calls these.

    ```mlir
    // before
    func.func @step(%x: tensor<4xf32>) -> tensor<4xf32>
    // after
    func.func @step(%x: tensor<4xf32>) -> tensor<4xf32>
        attributes {llvm.emit_c_interface}
    ```
  }];
  let statistics = [
    Statistic<"numMarked", "num-marked", "Number of functions given a C entry point">
  ];
}

#endif // MPT_TRANSFORMS_PASSES_TD
