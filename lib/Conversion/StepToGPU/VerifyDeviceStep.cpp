//===- VerifyDeviceStep.cpp - Host code only allocates and launches -------===//
//
// The contract of mpt-lower-to-nvvm: every op of the step runs in a kernel.
// What is left on the host may manage buffers (allocate, free, take views,
// read shapes), compute with host scalars and launch; anything that touches
// buffer contents or is still a tensor/linalg/vector op is reported by name
// rather than silently run on the host or lowered into a crash.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mpt {
#define GEN_PASS_DEF_VERIFYDEVICESTEP
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

bool touchesBuffers(Operation *op) {
  auto isShaped = [](Type t) { return isa<ShapedType>(t); };
  return llvm::any_of(op->getOperandTypes(), isShaped) ||
         llvm::any_of(op->getResultTypes(), isShaped);
}

/// Ops that may stay on the host of a GPU step.
bool isHostOp(Operation *op) {
  // Device buffer management and launches.
  if (isa<gpu::AllocOp, gpu::DeallocOp, gpu::MemcpyOp, gpu::MemsetOp,
          gpu::WaitOp, gpu::LaunchOp, gpu::LaunchFuncOp>(op))
    return true;
  // Buffer metadata: views and shapes, no element is read.
  if (isa<ViewLikeOpInterface, memref::DimOp, memref::RankOp,
          memref::ExtractStridedMetadataOp,
          memref::ExtractAlignedPointerAsIndexOp>(op))
    return true;
  if (isa<func::ReturnOp, func::CallOp, memref::GetGlobalOp>(op))
    return true;
  // TMA maps of the warpgroup kernels (mpt-contraction-to-mma): encoded by
  // the runtime from a buffer's shape, passed to the kernel as a pointer.
  if (isa<nvgpu::TmaCreateDescriptorOp>(op))
    return true;
  if (auto cast = dyn_cast<UnrealizedConversionCastOp>(op))
    return cast->getNumOperands() == 1 &&
           isa<nvgpu::TensorMapDescriptorType>(cast->getOperandTypes()[0]);
  // Constants of kernels (a vector's zeros) that the canonicalizer hoisted
  // out of their launches: sunk back before outlining.
  if (matchPattern(op, m_Constant()) &&
      llvm::all_of(op->getUsers(), [](Operation *user) {
        return user->getParentOfType<gpu::LaunchOp>();
      }))
    return true;
  // Scalar code on host values (shapes, launch sizes, scalar arguments).
  if (isa<arith::ArithDialect, index::IndexDialect, affine::AffineDialect>(
          op->getDialect()) &&
      !touchesBuffers(op) && op->getNumRegions() == 0)
    return true;
  return false;
}

struct VerifyDeviceStepPass
    : public mpt::impl::VerifyDeviceStepBase<VerifyDeviceStepPass> {
  void runOnOperation() override {
    bool failedAny = false;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp, gpu::LaunchOp, gpu::BinaryOp>(op))
        return WalkResult::skip();
      Operation *parent = op->getParentOp();
      if (!parent || isa<ModuleOp>(parent))
        return WalkResult::advance(); // Functions, globals.
      // Host control flow holding only host ops is fine; look inside.
      if (isa<scf::IfOp, scf::ForOp, scf::YieldOp>(op) &&
          !llvm::any_of(op->getOperandTypes(),
                        [](Type t) { return isa<ShapedType>(t); }))
        return WalkResult::advance();
      if (isHostOp(op))
        return WalkResult::advance();
      op->emitOpError("would run on the host: mpt-lower-to-nvvm runs every "
                      "op of a step in a kernel and cannot put this one in "
                      "one");
      failedAny = true;
      return WalkResult::skip();
    });
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
