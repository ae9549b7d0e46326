//===- Pipelines.cpp - Registered pass pipelines of mpt -------*- C++ -*-===//

#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace mpt {

/// Appends an upstream pipeline given as text. The text is fixed in this file,
/// so a parse failure is a bug of mpt (e.g. an upstream pass was renamed).
static void addTextPipeline(OpPassManager &pm, StringRef text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("mpt: invalid built-in pipeline: " + text);
}

void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options) {
  pm.addPass(createLowerMPTOps());
  PrepareABIOptions abi;
  abi.cInterface = options.cInterface;
  abi.writableArgs = options.writableArgs;
  pm.addPass(createPrepareABI(abi));
  addTextPipeline(pm, "convert-elementwise-to-linalg,"
                      "one-shot-bufferize{bufferize-function-boundaries "
                      "function-boundary-type-conversion=identity-layout-map "
                      "allow-return-allocs-from-loops}");
  if (options.deallocate)
    addTextPipeline(pm, "buffer-deallocation-pipeline");
  addTextPipeline(
      pm, "convert-bufferization-to-memref,convert-linalg-to-loops,"
          "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
          // 16-bit floats: every op computes in f32 and rounds its result back,
          // one rounding per op, as a GPU's 16-bit ALU does.
          "math-extend-to-supported-types{target-type=f32},"
          "arith-emulate-unsupported-floats{source-types=f16,bf16 "
          "target-type=f32},"
          "arith-expand{include-bf16},"
          "convert-math-to-llvm,convert-math-to-libm,finalize-memref-to-llvm,"
          "convert-to-llvm,reconcile-unrealized-casts");
  pm.addPass(createStripForeignAttrs());
}

void buildAutoMixedPrecisionPipeline(OpPassManager &pm,
                                     const AutoMixedPrecisionOptions &options) {
  if (options.fromTosa)
    addTextPipeline(pm, "tosa-to-linalg-pipeline");
  // Loss scaling first: the scaled seed then flows through the 16-bit
  // backward half, and the unscale/check stays f32 (an mpt op).
  std::string scaling = options.lossScaling;
  bool explicitScaling = !scaling.empty();
  if (!explicitScaling)
    scaling = options.dtype == "f16" ? "dynamic" : "none";
  if (scaling != "none") {
    InsertLossScalingOptions ls;
    ls.mode = scaling;
    ls.initScale = options.initScale;
    ls.growthFactor = options.growthFactor;
    ls.backoffFactor = options.backoffFactor;
    ls.growthInterval = options.growthInterval;
    ls.hysteresis = options.hysteresis;
    ls.minScale = options.minScale;
    ls.maxScale = options.maxScale;
    ls.strict = explicitScaling;
    pm.addPass(createInsertLossScaling(ls));
  }
  AssignPrecisionOptions assign;
  assign.dtype = options.dtype;
  assign.allow = options.allow;
  assign.infer = options.infer;
  assign.clear = options.clear;
  assign.deny = options.deny;
  assign.policyFile = options.policy;
  pm.addPass(createAssignPrecision(assign));
  ApplyPrecisionOptions apply;
  apply.keepIOTypes = options.keepIOTypes;
  apply.returnLowParams = options.returnLowParams;
  pm.addPass(createApplyPrecision(apply));
  FoldCastsOptions fold;
  fold.allowExcessPrecision = options.allowExcessPrecision;
  pm.addPass(createFoldCasts(fold));
  WritePrecisionReportOptions report;
  report.path = options.report;
  pm.addPass(createWritePrecisionReport(report));
}

void registerPipelines() {
  PassPipelineRegistration<AutoMixedPrecisionOptions>(
      "auto-mixed-precision",
      "Rewrite an FP32 training step into a mixed-precision one: 16-bit "
      "contractions with f32 accumulation, f32 reductions and sensitive ops",
      buildAutoMixedPrecisionPipeline);
  PassPipelineRegistration<LowerToCPUOptions>(
      "mpt-lower-to-cpu",
      "Lower a (mixed-precision) step on tensors to the LLVM dialect for the "
      "CPU, rounding 16-bit arithmetic per op as a GPU does",
      buildLowerToCPUPipeline);
}

} // namespace mpt
