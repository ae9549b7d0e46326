//===- Pipelines.h - Registered pass pipelines of mpt -----------*- C++ -*-===//

#ifndef MPT_PIPELINES_PIPELINES_H
#define MPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mpt {

/// Options of `mpt-lower-to-cpu`.
struct LowerToCPUOptions : public mlir::PassPipelineOptions<LowerToCPUOptions> {
  Option<bool> cInterface{
      *this, "c-interface",
      llvm::cl::desc("Give every public function a C entry point "
                     "(_mlir_ciface_<name>) for ahead-of-time callers"),
      llvm::cl::init(true)};
  Option<bool> writableArgs{
      *this, "writable-args",
      llvm::cl::desc("Let public functions update their tensor arguments in "
                     "place (default: the caller's buffers are never "
                     "written)"),
      llvm::cl::init(false)};
  Option<bool> deallocate{
      *this, "deallocate",
      llvm::cl::desc("Free intermediate buffers (ownership-based "
                     "deallocation); results are owned by the caller"),
      llvm::cl::init(true)};
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse chains of elementwise ops before bufferization "
                     "(mpt-fuse-elementwise); the values computed are the "
                     "same either way"),
      llvm::cl::init(true)};
  Option<bool> verifyEachPass{
      *this, "verify-each-pass",
      llvm::cl::desc("Verify the IR after every pass of the pipeline "
                     "(with -verify-each), not only after each of its stages "
                     "(mpt-pipeline-stage): slower, for finding the pass that "
                     "broke the IR"),
      llvm::cl::init(false)};
};

/// A pass that runs `stage` (passes anchored on the operation it runs on,
/// or op-agnostic) with the IR verified after the stage only, not between
/// its passes; `mpt-pipeline-stage{pipeline=...}` in a textual pipeline.
/// The pass instrumentations (-mlir-timing, -mlir-print-ir-after-all) see
/// the passes of the stage nested in it.
std::unique_ptr<mlir::Pass>
createPipelineStage(const mlir::OpPassManager &stage);

/// Bufferizes a module of linalg/tensor ops in time linear in its size:
/// convert-elementwise-to-linalg, mpt-fuse-elementwise (fusing only if
/// `fuseElementwise`), mpt-bufferize and, if `deallocate`, the upstream
/// buffer-deallocation-pipeline with mpt-split-deallocs before its
/// simplification. Shared by the CPU and GPU lowerings.
void buildBufferizationPipeline(mlir::OpPassManager &pm, bool fuseElementwise,
                                bool deallocate);

/// Options of `auto-mixed-precision`.
struct AutoMixedPrecisionOptions
    : public mlir::PassPipelineOptions<AutoMixedPrecisionOptions> {
  Option<std::string> dtype{*this, "dtype",
                            llvm::cl::desc("16-bit type: f16 or bf16"),
                            llvm::cl::init("f16")};
  Option<std::string> allow{
      *this, "allow",
      llvm::cl::desc("Op names added to the allow list (-name removes one)"),
      llvm::cl::init("")};
  Option<std::string> infer{
      *this, "infer",
      llvm::cl::desc("Op names added to the infer list (-name removes one)"),
      llvm::cl::init("")};
  Option<std::string> clear{
      *this, "clear",
      llvm::cl::desc("Op names added to the clear list (-name removes one)"),
      llvm::cl::init("")};
  Option<std::string> deny{
      *this, "deny",
      llvm::cl::desc("Op names added to the deny list (-name removes one)"),
      llvm::cl::init("")};
  Option<std::string> policy{
      *this, "policy",
      llvm::cl::desc("File of 'allow: a, b' / 'deny: -c' lines, applied "
                     "before the list options"),
      llvm::cl::init("")};
  Option<bool> keepIOTypes{
      *this, "keep-io-types",
      llvm::cl::desc("Keep function signatures unchanged (false: inputs and "
                     "plain results may become 16-bit)"),
      llvm::cl::init(true)};
  Option<bool> allowExcessPrecision{*this, "allow-excess-precision",
                                    llvm::cl::desc("Fold extf(truncf(x)) to x"),
                                    llvm::cl::init(false)};
  Option<std::string> report{
      *this, "report",
      llvm::cl::desc("Write the counts as JSON to this path ('-': stderr) "
                     "and print a one-line summary"),
      llvm::cl::init("")};
  Option<std::string> lossScaling{
      *this, "loss-scaling",
      llvm::cl::desc("none, static or dynamic (default: dynamic for f16, "
                     "none for bf16)"),
      llvm::cl::init("")};
  Option<double> initScale{
      *this, "init-scale",
      llvm::cl::desc("Initial (or static) loss scale, finite in f32"),
      llvm::cl::init(65536.0)};
  Option<double> growthFactor{
      *this, "growth-factor",
      llvm::cl::desc("Scale growth after growth-interval finite steps"),
      llvm::cl::init(2.0)};
  Option<double> backoffFactor{
      *this, "backoff-factor",
      llvm::cl::desc("Scale backoff on a non-finite step"),
      llvm::cl::init(0.5)};
  Option<int64_t> growthInterval{
      *this, "growth-interval",
      llvm::cl::desc("Consecutive finite steps before the scale grows (at "
                     "most 2^31 - 1)"),
      llvm::cl::init(2000)};
  Option<int64_t> hysteresis{
      *this, "hysteresis",
      llvm::cl::desc("Non-finite steps tolerated before a backoff (at most "
                     "2^31 - 1)"),
      llvm::cl::init(1)};
  Option<double> minScale{*this, "min-scale",
                          llvm::cl::desc("Lower bound of the loss scale"),
                          llvm::cl::init(1.0)};
  Option<double> maxScale{*this, "max-scale",
                          llvm::cl::desc("Upper bound of the loss scale"),
                          llvm::cl::init(16777216.0)};
  Option<bool> returnLowParams{
      *this, "return-16bit-params",
      llvm::cl::desc("Also return the 16-bit working copy of each parameter "
                     "(role param_low)"),
      llvm::cl::init(false)};
  Option<bool> fromTosa{
      *this, "from-tosa",
      llvm::cl::desc("Convert TOSA to linalg first (tosa-to-linalg-pipeline)"),
      llvm::cl::init(false)};
};

/// Rewrites FP32 steps into mixed-precision ones: assign, apply, fold casts.
void buildAutoMixedPrecisionPipeline(mlir::OpPassManager &pm,
                                     const AutoMixedPrecisionOptions &options);

/// Lowers linalg-on-tensors with f32/f16/bf16 arithmetic (and mpt ops) to the
/// LLVM dialect. 16-bit arithmetic is emulated in f32 with one rounding per
/// op, so the CPU computes what a GPU computes.
void buildLowerToCPUPipeline(mlir::OpPassManager &pm,
                             const LowerToCPUOptions &options);

/// Registers all mpt pipelines with the global pass registry.
void registerPipelines();

} // namespace mpt

#endif // MPT_PIPELINES_PIPELINES_H
