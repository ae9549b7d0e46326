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
};

/// Lowers linalg-on-tensors with f32/f16/bf16 arithmetic (and mpt ops) to the
/// LLVM dialect. 16-bit arithmetic is emulated in f32 with one rounding per
/// op, so the CPU computes what a GPU computes.
void buildLowerToCPUPipeline(mlir::OpPassManager &pm,
                             const LowerToCPUOptions &options);

/// Registers all mpt pipelines with the global pass registry.
void registerPipelines();

} // namespace mpt

#endif // MPT_PIPELINES_PIPELINES_H
