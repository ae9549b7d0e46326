//===- LowerToNVVM.cpp - The GPU pipeline mpt-lower-to-nvvm ---*- C++ -*-===//
//
// A step on tensors becomes host code that allocates device buffers and
// launches kernels, and a gpu.binary with the kernels:
//
//   mpt ops -> linalg; scf.if on device values -> selects; scalars read from
//   tensors -> into the linalg ops that use them; bufferize; buffers ->
//   gpu.alloc/gpu.dealloc; 16-bit contractions (FP32 ones too with tf32) ->
//   tensor-core kernels; each other linalg op -> one gpu.launch; check the
//   host code; outline; kernels -> NVVM -> PTX/cubin; host -> LLVM with
//   launches on one stream.
//
//===----------------------------------------------------------------------===//

#include "mpt/Pipelines/LowerToNVVM.h"
#include "mpt/Conversion/ContractionToMMA/Passes.h"
#include "mpt/Conversion/StepToGPU/Passes.h"
#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include <cstdlib>

using namespace mlir;

namespace mpt {

static void addText(OpPassManager &pm, StringRef text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("mpt: invalid built-in pipeline: " + text);
}

/// The CUDA toolkit whose libdevice and ptxas gpu-module-to-binary uses:
/// the option, else MLIR's own search ($CUDA_ROOT, $CUDA_HOME, $CUDA_PATH),
/// else the toolkit mpt was configured with.
static std::string cudaToolkit(const LowerToNVVMOptions &options) {
  if (!options.toolkit.empty())
    return options.toolkit;
  for (const char *var : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(var); value && *value)
      return "";
#ifdef MPT_CUDA_HOME
  return MPT_CUDA_HOME;
#else
  return "";
#endif
}

/// Tensor-level preparation: after it, no scalar of the step is computed on
/// the host and no host branch depends on device data.
static void addDevicePreparation(OpPassManager &pm,
                                 const LowerToNVVMOptions &options) {
  // A data-parallel step's all-reduces: NCCL through the runtime.
  pm.addPass(createCollectivesToRuntime());
  pm.addPass(createLowerMPTOps());
  PrepareABIOptions abi;
  abi.cInterface = options.cInterface;
  abi.writableArgs = false;
  pm.addPass(createPrepareABI(abi));
  addText(pm, "convert-elementwise-to-linalg");
  pm.addPass(createSpeculateDeviceBranches());
  pm.addPass(createDeviceScalars());
}

/// Buffers on the device, one kernel per linalg op.
static void addKernels(OpPassManager &pm, const LowerToNVVMOptions &options) {
  // Transposes into the contractions' maps (no transpose kernels in the
  // backward), elementwise chains and broadcasts fused (one kernel each),
  // then buffers.
  if (options.useMMA)
    pm.addPass(createConvToGEMM());
  pm.addPass(createFoldTransposes());
  buildBufferizationPipeline(pm, /*fuseElementwise=*/true,
                             /*deallocate=*/false);
  pm.addNestedPass<func::FuncOp>(createDeviceBuffers());
  // Linked in, not looked up: a tool that had not registered the pass used
  // to get generic kernels with only a warning on stderr. The contractions
  // that get a strategy are left alone by the generic launches and become
  // tensor-core kernels after the canonicalizer: canonicalized before
  // outlining, their loops make ptxas spill.
  if (options.useMMA) {
    SelectMMAStrategyOptions select;
    select.epilogueStages = options.epilogueStages;
    select.allowTF32 = options.tf32;
    // wgmma and setmaxnreg exist only on the "a" target of Hopper.
    select.wgmma = options.wgmma && options.chip.getValue() == "sm_90a";
    select.remarks = options.mmaRemarks;
    select.persistent = options.persistent;
    pm.addPass(createSelectMMAStrategy(select));
  }
  LinalgToGPULaunchOptions launch;
  launch.blockSize = options.blockSize;
  launch.elementsPerThread = options.elementsPerThread;
  launch.vectorize = options.vectorize;
  launch.fuseRows = options.fuseRows;
  launch.fuseReductions = options.fuseReductions;
  launch.mergeElementwise = options.mergeElementwise;
  launch.reductionUnroll = options.reductionUnroll;
  pm.addNestedPass<func::FuncOp>(createLinalgToGPULaunch(launch));
  addText(pm, "canonicalize,cse");
  if (options.useMMA) {
    ContractionToMMAOptions mma;
    mma.stageEpilogue = options.stageEpilogue;
    pm.addPass(createContractionToMMA(mma));
  }
  pm.addPass(createVerifyDeviceStep());
}

/// Outlining and the NVVM lowering of the kernels, then the host.
static void addNVVMLowering(OpPassManager &pm,
                            const LowerToNVVMOptions &options) {
  // Outline first: a kernel outlined after the nvgpu conversion would take
  // the memref descriptors of the tensor-core kernels as structs by value.
  // The canonicalizer hoisted the kernels' constants to the host function
  // (a launch body is not isolated from above); sunk back before outlining,
  // they stay constants in the kernel: the index arithmetic of a launch
  // (delinearization by static sizes) folds to shifts and multiplications
  // instead of 64-bit divisions by kernel arguments.
  addText(pm, "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
              "convert-nvgpu-to-nvvm");
  // 16-bit arithmetic: each op computes in f32 and rounds its result, as on
  // the CPU path, so both paths agree bit for bit on +,-,*,/ (f32 carries
  // 2p+2 bits of a 16-bit format: double rounding is innocuous).
  addText(pm, "gpu.module(mpt-round-16bit-ops,"
              "math-extend-to-supported-types{target-type=f32},"
              "arith-emulate-unsupported-floats{source-types=f16,bf16 "
              "target-type=f32})");
  addText(pm,
          llvm::formatv("nvvm-attach-target{{chip={0} features={1} O={2}}",
                        options.chip.getValue(), options.features.getValue(),
                        options.optLevel.getValue())
              .str());
  // One stream for the step: the host waits for the device only at the end
  // (not at each TMA descriptor, as upstream's gpu-async-region would).
  addText(pm, "convert-vector-to-scf,convert-scf-to-cf,convert-nvvm-to-llvm");
  GPUAsyncRegionOptions async;
  // The runtime's calls of a data-parallel step (mpt-collectives-to-runtime).
  async.streamOrderedCallees = {kRuntimeAllReduce.str()};
  async.hostLocalCallees = {kRuntimeWorldSize.str(), kRuntimeRank.str()};
  pm.addNestedPass<func::FuncOp>(createGPUAsyncRegion(async));
  addText(pm, "convert-func-to-llvm,expand-strided-metadata,lower-affine,"
              "convert-arith-to-llvm,convert-index-to-llvm,canonicalize,cse");
  addText(pm, "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
              "reconcile-unrealized-casts)");
  addText(pm, "gpu-to-llvm");
  std::string binary =
      "gpu-module-to-binary{format=" + options.format.getValue();
  std::string toolkit = cudaToolkit(options);
  if (!toolkit.empty())
    binary += " toolkit=" + toolkit;
  addText(pm, binary + "}");
  addText(pm, "convert-math-to-llvm,canonicalize,cse,"
              "reconcile-unrealized-casts");
  pm.addPass(createStripForeignAttrs());
}

void buildLowerToNVVMPipeline(OpPassManager &pm,
                              const LowerToNVVMOptions &options) {
  addDevicePreparation(pm, options);
  addKernels(pm, options);
  addNVVMLowering(pm, options);
}

void registerLowerToNVVMPipeline() {
  PassPipelineRegistration<LowerToNVVMOptions>(
      "mpt-lower-to-nvvm",
      "Lower a (mixed-precision) step on tensors to host LLVM dialect that "
      "launches every op as a kernel, and a gpu.binary (PTX or cubin)",
      buildLowerToNVVMPipeline);
}

} // namespace mpt
