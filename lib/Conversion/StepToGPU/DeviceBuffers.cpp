//===- DeviceBuffers.cpp - A bufferized step's buffers on the device ------===//
//
// Every buffer of the step is device memory: allocations become gpu.alloc,
// and those that are not returned are freed at the end of the step, after
// the last kernel that may use them (the function is one block, so the end
// of the block is after every use). Results are owned by the caller.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mpt {
#define GEN_PASS_DEF_DEVICEBUFFERS
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The buffer a view is taken of (through any chain of views).
Value rootBuffer(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

struct DeviceBuffersPass
    : public mpt::impl::DeviceBuffersBase<DeviceBuffersPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    if (failed(check(fn)))
      return signalPassFailure();
    copiesToLinalg(fn);
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    copyReturnedGlobals(ret);
    SmallVector<gpu::AllocOp> allocs = allocateOnDevice(fn);
    freeAtEnd(allocs, ret);
  }

  LogicalResult check(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitOpError("has more than one block; mpt-device-buffers "
                            "needs a step without host control flow");
    WalkResult result = fn.walk([&](Operation *op) {
      if (isa<memref::DeallocOp>(op))
        return op->emitOpError("frees a buffer; mpt-device-buffers frees "
                               "the step's buffers itself (do not run an "
                               "upstream deallocation pass before it)"),
               WalkResult::interrupt();
      if (isa<memref::AllocOp, memref::AllocaOp>(op) &&
          op->getParentOp() != fn.getOperation())
        return op->emitOpError("allocates inside a region; on the GPU "
                               "every buffer of the step is allocated in "
                               "the function's body"),
               WalkResult::interrupt();
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  /// Copies run as kernels like every other linalg op.
  void copiesToLinalg(func::FuncOp fn) {
    SmallVector<memref::CopyOp> copies;
    fn.walk([&](memref::CopyOp op) { copies.push_back(op); });
    for (memref::CopyOp op : copies) {
      OpBuilder b(op);
      linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
      op.erase();
    }
  }

  /// A returned constant would hand the caller a host global: copy it.
  void copyReturnedGlobals(func::ReturnOp ret) {
    OpBuilder b(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      Value value = operand.get();
      if (!rootBuffer(value).getDefiningOp<memref::GetGlobalOp>())
        continue;
      auto type = cast<MemRefType>(value.getType());
      SmallVector<Value> dynSizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          dynSizes.push_back(memref::DimOp::create(b, ret.getLoc(), value, d));
      Value copy = memref::AllocOp::create(
          b, ret.getLoc(),
          MemRefType::get(type.getShape(), type.getElementType()), dynSizes);
      linalg::CopyOp::create(b, ret.getLoc(), value, copy);
      Value cast = copy;
      if (cast.getType() != type)
        cast = memref::CastOp::create(b, ret.getLoc(), type, copy);
      operand.set(cast);
    }
  }

  SmallVector<gpu::AllocOp> allocateOnDevice(func::FuncOp fn) {
    SmallVector<Operation *> hostAllocs;
    for (Operation &op : fn.getBody().front())
      if (isa<memref::AllocOp, memref::AllocaOp>(op))
        hostAllocs.push_back(&op);
    SmallVector<gpu::AllocOp> allocs;
    for (Operation *op : hostAllocs) {
      OpBuilder b(op);
      auto type = cast<MemRefType>(op->getResult(0).getType());
      auto alloc = gpu::AllocOp::create(
          b, op->getLoc(), type, /*asyncToken=*/Type(),
          /*asyncDependencies=*/ValueRange{},
          op->getOperands().take_front(type.getNumDynamicDims()),
          op->getOperands().drop_front(type.getNumDynamicDims()),
          /*hostShared=*/false);
      op->replaceAllUsesWith(ValueRange{alloc.getMemref()});
      op->erase();
      allocs.push_back(alloc);
      ++numAllocs;
    }
    return allocs;
  }

  void freeAtEnd(ArrayRef<gpu::AllocOp> allocs, func::ReturnOp ret) {
    llvm::SmallPtrSet<Value, 8> returned;
    for (Value v : ret.getOperands())
      returned.insert(rootBuffer(v));
    OpBuilder b(ret);
    for (gpu::AllocOp alloc : allocs) {
      if (returned.contains(alloc.getMemref()))
        continue;
      gpu::DeallocOp::create(b, ret.getLoc(), /*asyncToken=*/Type(),
                             ValueRange{}, alloc.getMemref());
      ++numFreed;
    }
  }
};
} // namespace
