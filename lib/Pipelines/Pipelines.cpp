//===- Pipelines.cpp - Registered pass pipelines of mpt -------*- C++ -*-===//

#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Pipelines/Export.h"
#include "mpt/Pipelines/LowerToNVVM.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

namespace mpt {

namespace {

/// Hands the callbacks of a stage's own pass manager on to the
/// instrumentations of the pass manager that runs the stage, so that
/// -mlir-timing, -mlir-print-ir-after-all and the like see the passes of a
/// stage as if they were nested in it.
struct ForwardInstrumentation : public PassInstrumentation {
  explicit ForwardInstrumentation(PassInstrumentor &outer) : outer(outer) {}
  void runBeforePipeline(std::optional<OperationName> name,
                         const PipelineParentInfo &info) override {
    outer.runBeforePipeline(name, info);
  }
  void runAfterPipeline(std::optional<OperationName> name,
                        const PipelineParentInfo &info) override {
    outer.runAfterPipeline(name, info);
  }
  void runBeforePass(Pass *pass, Operation *op) override {
    outer.runBeforePass(pass, op);
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    outer.runAfterPass(pass, op);
  }
  void runAfterPassFailed(Pass *pass, Operation *op) override {
    outer.runAfterPassFailed(pass, op);
  }
  void runBeforeAnalysis(StringRef name, TypeID id, Operation *op) override {
    outer.runBeforeAnalysis(name, id, op);
  }
  void runAfterAnalysis(StringRef name, TypeID id, Operation *op) override {
    outer.runAfterAnalysis(name, id, op);
  }
  PassInstrumentor &outer;
};

/// `mpt-pipeline-stage{pipeline=...}`: runs pipelines on the operation with
/// no verification between their passes. A dynamic pipeline (runPipeline)
/// inherits the verifier setting of the pass manager that runs it
/// (-verify-each), so the stage runs a pass manager of its own, with the
/// verifier off and the instrumentations of the outer one. The outer pass
/// manager verifies the IR after the stage, as after any pass that changed
/// it.
struct PipelineStagePass
    : public PassWrapper<PipelineStagePass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PipelineStagePass)

  PipelineStagePass() = default;
  PipelineStagePass(const PipelineStagePass &other) : PassWrapper(other) {}
  explicit PipelineStagePass(const OpPassManager &stage) {
    pipeline = ArrayRef<OpPassManager>(stage);
  }

  StringRef getArgument() const override { return "mpt-pipeline-stage"; }
  StringRef getName() const override { return "PipelineStage"; }
  StringRef getDescription() const override {
    return "Run pipelines with the IR verified once, after the stage, instead "
           "of after each pass (-verify-each)";
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    for (const OpPassManager &stage : pipeline)
      stage.getDependentDialects(registry);
  }

  void runOnOperation() override {
    Operation *op = getOperation();
    PassInstrumentor *outer = getAnalysisManager().getPassInstrumentor();
    for (OpPassManager &stage : pipeline) {
      PassManager pm(&getContext(), stage.getOpAnchorName(),
                     stage.getNesting());
      static_cast<OpPassManager &>(pm) = stage;
      pm.enableVerifier(false);
      if (outer)
        pm.addInstrumentation(std::make_unique<ForwardInstrumentation>(*outer));
      if (failed(pm.run(op)))
        return signalPassFailure();
    }
  }

  ListOption<OpPassManager> pipeline{
      *this, "pipeline",
      llvm::cl::desc("The passes of the stage: pipelines anchored on the "
                     "operation it runs on (or on any), run one after the "
                     "other")};
};

} // namespace

std::unique_ptr<Pass> createPipelineStage(const OpPassManager &stage) {
  return std::make_unique<PipelineStagePass>(stage);
}

/// Appends an upstream pipeline given as text. The text is fixed in this file,
/// so a parse failure is a bug of mpt (e.g. an upstream pass was renamed).
static void addTextPipeline(OpPassManager &pm, StringRef text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("mpt: invalid built-in pipeline: " + text);
}

/// buffer-deallocation-pipeline, with mpt-split-deallocs before the
/// simplification. `simplifyRegions` = false: its canonicalizations leave
/// the regions alone (no unreachable-block removal, no region DCE beyond the
/// trivially dead ops every canonicalization erases). On structured control
/// flow, the CPU pipeline's input, that removes nothing, and halves their
/// time.
static void addDeallocationPipeline(OpPassManager &pm,
                                    bool simplifyRegions = true) {
  std::string canonicalize = simplifyRegions
                                 ? "canonicalize"
                                 : "canonicalize{region-simplify=disabled}";
  addTextPipeline(pm, "expand-realloc{emit-deallocs=false}," + canonicalize +
                          ",ownership-based-buffer-deallocation," +
                          canonicalize);
  pm.addPass(createSplitDeallocs());
  addTextPipeline(pm, "buffer-deallocation-simplification,"
                      "bufferization-lower-deallocations,cse," +
                          canonicalize);
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
  if (deallocate)
    addDeallocationPipeline(pm);
}

/// Adds the passes that `build` adds as one mpt-pipeline-stage (the IR
/// verified after the stage), or one by one (each verified) if
/// `verifyEachPass`.
static void addStage(OpPassManager &pm, bool verifyEachPass,
                     function_ref<void(OpPassManager &)> build) {
  if (verifyEachPass)
    return build(pm);
  OpPassManager stage(pm.getOpAnchorName(), pm.getNesting());
  build(stage);
  pm.addPass(createPipelineStage(stage));
}

void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options) {
  // Four stages, each verified at its end (with -verify-each, mlir-opt's
  // default): the step on buffers, deallocated, on loops and scalars, in the
  // LLVM dialect. See docs/Design.md.
  bool verifyEach = options.verifyEachPass;
  addStage(pm, verifyEach, [&](OpPassManager &pm) {
    // One process: collectives of a data-parallel step are local.
    pm.addPass(createSingleProcessCollectives());
    pm.addPass(createLowerMPTOps());
    PrepareABIOptions abi;
    abi.cInterface = options.cInterface;
    abi.writableArgs = options.writableArgs;
    pm.addPass(createPrepareABI(abi));
    buildBufferizationPipeline(pm, options.fuseElementwise,
                               /*deallocate=*/false);
  });
  addStage(pm, verifyEach, [&](OpPassManager &pm) {
    if (options.deallocate)
      addDeallocationPipeline(pm, /*simplifyRegions=*/false);
    addTextPipeline(pm, "convert-bufferization-to-memref");
  });
  addStage(pm, verifyEach, [&](OpPassManager &pm) {
    // Views and reshapes to reinterpret_casts while the module is still
    // small: its greedy driver visits every op of the module, a third as
    // many here as on the loops (the same LLVM ops come out).
    addTextPipeline(pm, "expand-strided-metadata");
    pm.addPass(createLinalgToLoops());
    // 16-bit floats: every op computes in f32 and rounds its result back, one
    // rounding per op, as a GPU's 16-bit ALU does (also inside fused bodies).
    // These passes rewrite scalar ops one by one, so they run on the loops
    // (no named op left whose implicit body they would change unseen), before
    // the control flow and the index arithmetic double the module.
    pm.addPass(createRound16BitOps());
    addTextPipeline(pm,
                    "math-extend-to-supported-types{target-type=f32},"
                    "arith-emulate-unsupported-floats{source-types=f16,bf16 "
                    "target-type=f32},"
                    "arith-expand{include-bf16},"
                    "convert-math-to-llvm,convert-math-to-libm,"
                    "lower-affine");
  });
  // The loops become branches in the stage that converts to LLVM: a
  // function of many blocks costs the verifier a dominator tree (about four
  // times the time of the same function on loops).
  addStage(pm, verifyEach, [&](OpPassManager &pm) {
    pm.addPass(createSCFToCF());
    // convert-to-llvm (memref included), reconcile-unrealized-casts and
    // mpt-strip-foreign-attrs.
    pm.addPass(createConvertToLLVM());
  });
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
  PassRegistration<PipelineStagePass>();
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
