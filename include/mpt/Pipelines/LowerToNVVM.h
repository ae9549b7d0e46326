//===- LowerToNVVM.h - The GPU pipeline mpt-lower-to-nvvm -------*- C++ -*-===//

#ifndef MPT_PIPELINES_LOWERTONVVM_H
#define MPT_PIPELINES_LOWERTONVVM_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mpt {

/// Options of `mpt-lower-to-nvvm`.
struct LowerToNVVMOptions
    : public mlir::PassPipelineOptions<LowerToNVVMOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture of the kernels"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features (e.g. +ptx80)"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu.binary holds: isa (PTX, JIT-compiled when "
                     "loaded), bin (cubin) or fatbin"),
      llvm::cl::init("bin")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Kernel optimization level (0-3)"),
                            llvm::cl::init(3)};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit (ptxas, libdevice); default: $CUDA_ROOT, "
                     "$CUDA_HOME, $CUDA_PATH, else the one mpt was "
                     "configured with"),
      llvm::cl::init("")};
  Option<bool> useMMA{
      *this, "use-mma",
      llvm::cl::desc("Run f16/bf16 contractions (and FP32 ones with tf32) "
                     "on tensor cores (mma.sync, mpt-contraction-to-mma); "
                     "the others, and all of them when false, lower like "
                     "any linalg op"),
      llvm::cl::init(true)};
  Option<bool> wgmma{
      *this, "wgmma",
      llvm::cl::desc("On sm_90a, run 16-bit contractions whose operands TMA "
                     "can load as Hopper warpgroup kernels (TMA, mbarriers, "
                     "wgmma; mpt-select-mma-strategy wgmma); the others, and "
                     "all of them when false or on other chips, on mma.sync"),
      llvm::cl::init(true)};
  Option<bool> persistent{
      *this, "persistent",
      llvm::cl::desc("Warpgroup kernels whose epilogue is not staged through "
                     "shared memory run on a persistent grid (one block a "
                     "multiprocessor looping over tiles; mpt-select-mma-"
                     "strategy persistent)"),
      llvm::cl::init(true)};
  Option<bool> mmaRemarks{
      *this, "mma-remarks",
      llvm::cl::desc("Emit a remark on each contraction with the tensor-core "
                     "kernel chosen (mpt-select-mma-strategy remarks)"),
      llvm::cl::init(false)};
  Option<bool> tf32{
      *this, "tf32",
      llvm::cl::desc("Also run FP32 contractions on tensor cores, as TF32 "
                     "(inputs rounded to 10-bit mantissas, f32 accumulation; "
                     "mpt-select-mma-strategy allow-tf32); off: FP32 "
                     "contractions stay exact FP32"),
      llvm::cl::init(false)};
  Option<int64_t> epilogueStages{
      *this, "epilogue-stages",
      llvm::cl::desc("Elementwise ops after a contraction that run in its "
                     "tensor-core kernel's epilogue (0-4; "
                     "mpt-select-mma-strategy)"),
      llvm::cl::init(2)};
  Option<bool> stageEpilogue{
      *this, "stage-epilogue",
      llvm::cl::desc("Store tensor-core kernels' epilogue results through "
                     "shared memory, as whole row segments "
                     "(mpt-contraction-to-mma)"),
      llvm::cl::init(true)};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of the generic kernels"),
      llvm::cl::init(256)};
  Option<int64_t> elementsPerThread{
      *this, "elements-per-thread",
      llvm::cl::desc("Points each thread of an elementwise kernel computes "
                     "(mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(8)};
  Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Elementwise kernels load and store 16-byte vectors "
                     "along the innermost dimension where the shapes and "
                     "layouts allow (mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(true)};
  Option<bool> fuseRows{
      *this, "fuse-rows",
      llvm::cl::desc("A chain of row reductions and elementwise ops over the "
                     "rows of one static iteration space (softmax, its "
                     "backward, layer norm) runs as one kernel, a block per "
                     "row (mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(true)};
  Option<bool> fuseReductions{
      *this, "fuse-reductions",
      llvm::cl::desc("Consecutive full reductions of different tensors into "
                     "the same scalars (the loss-scaling check of every "
                     "gradient) run as two kernels in all "
                     "(mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(true)};
  Option<bool> mergeElementwise{
      *this, "merge-elementwise",
      llvm::cl::desc("Consecutive elementwise ops over the same static "
                     "iteration space that fusion left apart (the "
                     "optimizer's update and the selects of a skipped step) "
                     "run as one kernel (mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(true)};
  Option<int64_t> reductionUnroll{
      *this, "reduction-unroll",
      llvm::cl::desc("Accumulators each lane of a block reduction keeps "
                     "(loads in flight; mpt-linalg-to-gpu-launch)"),
      llvm::cl::init(8)};
  Option<bool> cInterface{
      *this, "c-interface",
      llvm::cl::desc("Give every public function a C entry point "
                     "(_mlir_ciface_<name>) for ahead-of-time callers"),
      llvm::cl::init(true)};
};

/// Lowers a (mixed-precision) step on tensors to host LLVM dialect that
/// allocates device buffers and launches kernels, plus a gpu.binary holding
/// the kernels. Every op of the step runs in a kernel.
void buildLowerToNVVMPipeline(mlir::OpPassManager &pm,
                              const LowerToNVVMOptions &options);

/// Registers `mpt-lower-to-nvvm` with the global pass registry.
void registerLowerToNVVMPipeline();

} // namespace mpt

#endif // MPT_PIPELINES_LOWERTONVVM_H
