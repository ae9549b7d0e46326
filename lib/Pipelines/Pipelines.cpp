//===- Pipelines.cpp - Registered pass pipelines of mpt -------*- C++ -*-===//

#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Pipelines/Export.h"
#include "mpt/Pipelines/LowerToNVVM.h"
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

void buildBufferizationPipeline(OpPassManager &pm, bool fuseElementwise,
                                bool deallocate) {
  addTextPipeline(pm, "convert-elementwise-to-linalg");
  // Each step below replaces an upstream one whose time grows with the
  // square of the step (or 2^depth of a loop nest); see docs/Design.md.
  FuseElementwiseOptions fuse;
  if (!fuseElementwise)
    fuse.maxBodyOps = 0; // Fresh destinations only.
  pm.addPass(createFuseElementwise(fuse));
  pm.addPass(createBufferize());
  if (!deallocate)
    return;
  // buffer-deallocation-pipeline, with mpt-split-deallocs before the
  // simplification.
  addTextPipeline(pm, "expand-realloc{emit-deallocs=false},canonicalize,"
                      "ownership-based-buffer-deallocation,canonicalize");
  pm.addPass(createSplitDeallocs());
  addTextPipeline(pm, "buffer-deallocation-simplification,"
                      "bufferization-lower-deallocations,cse,canonicalize");
}

void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options) {
  pm.addPass(createLowerMPTOps());
  PrepareABIOptions abi;
  abi.cInterface = options.cInterface;
  abi.writableArgs = options.writableArgs;
  pm.addPass(createPrepareABI(abi));
  buildBufferizationPipeline(pm, options.fuseElementwise, options.deallocate);
  addTextPipeline(pm, "convert-bufferization-to-memref");
  pm.addPass(createLinalgToLoops());
  // 16-bit floats: every op computes in f32 and rounds its result back, one
  // rounding per op, as a GPU's 16-bit ALU does (also inside fused bodies).
  // These passes rewrite scalar ops one by one, so they run on the loops
  // (no named op left whose implicit body they would change unseen), before
  // the control flow and the index arithmetic double the module.
  pm.addPass(createRound16BitOps());
  addTextPipeline(pm, "math-extend-to-supported-types{target-type=f32},"
                      "arith-emulate-unsupported-floats{source-types=f16,bf16 "
                      "target-type=f32},"
                      "arith-expand{include-bf16},"
                      "convert-math-to-llvm,convert-math-to-libm,"
                      "expand-strided-metadata,lower-affine");
  pm.addPass(createSCFToCF());
  // convert-to-llvm (memref included), reconcile-unrealized-casts and
  // mpt-strip-foreign-attrs: one verification of the largest module of the
  // pipeline instead of three.
  pm.addPass(createConvertToLLVM());
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
  registerLowerToNVVMPipeline();
  registerExportPipeline();
}

} // namespace mpt
