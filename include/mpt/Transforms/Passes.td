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

def PrepareABI : Pass<"mpt-prepare-abi", "::mlir::ModuleOp"> {
  let summary = "Fix the calling convention of public functions for AOT callers";
  let description = [{
    Runs before bufferization on the public `func.func`s with a body:

    * `c-interface` sets `llvm.emit_c_interface`, so that
      `convert-func-to-llvm` emits `_mlir_ciface_<name>`, which takes memref
      descriptors by pointer (several results come back through a pointer
      to a struct). mpt's Python loader calls these.
    * unless `writable-args` is set, every tensor argument gets
      `bufferization.writable = false`: the step then never writes into the
      caller's buffers (a seed or a parameter stays as it was passed), and
      bufferization copies where an op would have updated one in place.

    ```mlir
    // before
    func.func @step(%x: tensor<4xf32>) -> tensor<4xf32>
    // after
    func.func @step(%x: tensor<4xf32> {bufferization.writable = false})
        -> tensor<4xf32> attributes {llvm.emit_c_interface}
    ```
  }];
  let options = [
    Option<"cInterface", "c-interface", "bool", /*default=*/"true",
           "Give public functions a C entry point (_mlir_ciface_<name>)">,
    Option<"writableArgs", "writable-args", "bool", /*default=*/"false",
           "Let the step update its tensor arguments in place">
  ];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
  let statistics = [
    Statistic<"numFunctions", "num-functions", "Public functions prepared">,
    Statistic<"numProtected", "num-protected-args",
              "Tensor arguments marked not writable">
  ];
}

def StripForeignAttrs : Pass<"mpt-strip-foreign-attrs", "::mlir::ModuleOp"> {
  let summary = "Drop discardable attributes whose values need other dialects";
  let description = [{
    After conversion to the LLVM dialect some ops still carry discardable
    attributes of the dialect they came from, e.g. upstream's
    `arith-emulate-unsupported-floats` marks its casts with
    `fastmath = #arith.fastmath<contract>`, which `convert-arith-to-llvm`
    copies onto `llvm.fpext`. Tools that register only the LLVM dialect
    (`mlir-runner`) cannot parse such IR. This pass removes every
    discardable attribute whose value belongs to a dialect other than
    `builtin` and `llvm`; inherent attributes are kept.

    ```mlir
    // before
    %1 = llvm.fpext %0 {fastmath = #arith.fastmath<contract>} : f16 to f32
    // after
    %1 = llvm.fpext %0 : f16 to f32
    ```
  }];
  let statistics = [
    Statistic<"numStripped", "num-stripped", "Attributes removed">
  ];
}

#endif // MPT_TRANSFORMS_PASSES_TD
