//===- GPUAsyncRegion.cpp - One stream per block, host waits where needed -===//
//
// The host code of a step is a straight line of allocations, launches, frees
// and, on Hopper, TMA descriptors encoded between the launches. Upstream's
// gpu-async-region waits for the device before every op with side effects,
// and the descriptor encoding (a stack buffer and a runtime call) has them:
// the step became one stream per tensor-core contraction, each drained by
// the host before the next was started. Here the host only waits where the
// device could see what it does: host-local work continues the stream.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"

namespace mpt {
#define GEN_PASS_DEF_GPUASYNCREGION
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The runtime function that encodes a TMA map: it reads the memref
/// descriptor and the box the host stored on its stack, and the buffer's
/// address only.
constexpr llvm::StringLiteral kTensorMapEncoder =
    "mgpuTensorMapEncodeTiledMemref";

/// Whether `address` is (an offset into) a stack slot of this function.
bool isStackAddress(Value address) {
  while (auto gep = address.getDefiningOp<LLVM::GEPOp>())
    address = gep.getBase();
  return address.getDefiningOp<LLVM::AllocaOp>() != nullptr;
}

class AsyncRegionRewriter {
public:
  AsyncRegionRewriter(MLIRContext *context, const llvm::StringSet<> &hostLocal,
                      const llvm::StringSet<> &streamOrdered)
      : builder(context), hostLocalCallees(hostLocal),
        streamOrderedCallees(streamOrdered) {}

  LogicalResult runOnBlock(Block &block) {
    Value token;
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (isa<gpu::LaunchOp>(op))
        return op.emitOpError("is not outlined: run gpu-kernel-outlining "
                              "before mpt-gpu-async-region");
      if (auto wait = dyn_cast<gpu::WaitOp>(op)) {
        // An existing wait joins the chain (and ends it if synchronous).
        if (token)
          wait.addAsyncDependency(token);
        token = wait.getAsyncToken();
        continue;
      }
      builder.setInsertionPoint(&op);
      if (isStreamOrderedCall(&op)) {
        // The callee enqueues its work on the current stream: there must
        // be one, and the host goes on.
        if (!token)
          token = gpu::WaitOp::create(builder, op.getLoc(),
                                      builder.getType<gpu::AsyncTokenType>(),
                                      ValueRange())
                      .getAsyncToken();
        continue;
      }
      if (auto async = dyn_cast<gpu::AsyncOpInterface>(op)) {
        if (async.getAsyncToken())
          return op.emitOpError("is asynchronous already: "
                                "mpt-gpu-async-region expects synchronous "
                                "GPU ops");
        if (!token)
          token = gpu::WaitOp::create(builder, op.getLoc(),
                                      builder.getType<gpu::AsyncTokenType>(),
                                      ValueRange())
                      .getAsyncToken();
        async.addAsyncDependency(token);
        token = makeAsync(&op);
        ++numAsyncOps;
        continue;
      }
      if (token && (op.hasTrait<OpTrait::IsTerminator>() || needsWait(&op))) {
        gpu::WaitOp::create(builder, op.getLoc(), Type(), ValueRange{token});
        token = nullptr;
        ++numWaits;
      }
    }
    return success();
  }

  unsigned numWaits = 0;
  unsigned numAsyncOps = 0;

private:
  static std::optional<StringRef> calleeName(Operation *op) {
    auto call = dyn_cast<CallOpInterface>(op);
    if (!call)
      return std::nullopt;
    auto callee =
        llvm::dyn_cast_if_present<SymbolRefAttr>(call.getCallableForCallee());
    if (!callee)
      return std::nullopt;
    return callee.getLeafReference().getValue();
  }

  bool isStreamOrderedCall(Operation *op) const {
    std::optional<StringRef> name = calleeName(op);
    return name && streamOrderedCallees.contains(*name);
  }

  /// Whether the host must wait for the device before `op`.
  bool needsWait(Operation *op) const {
    if (isMemoryEffectFree(op) || isa<LLVM::AllocaOp>(op))
      return false;
    if (auto load = dyn_cast<LLVM::LoadOp>(op))
      return load.getVolatile_() || !isStackAddress(load.getAddr());
    if (auto store = dyn_cast<LLVM::StoreOp>(op))
      return store.getVolatile_() || !isStackAddress(store.getAddr());
    if (isa<CallOpInterface>(op)) {
      std::optional<StringRef> name = calleeName(op);
      return !name ||
             (*name != kTensorMapEncoder && !hostLocalCallees.contains(*name));
    }
    return true;
  }

  /// Replaces `op` by a clone that also returns an async token (the last
  /// result of every gpu::AsyncOpInterface op), and returns that token.
  Value makeAsync(Operation *op) {
    SmallVector<Type> resultTypes(op->getResultTypes());
    resultTypes.push_back(builder.getType<gpu::AsyncTokenType>());
    OperationState state(op->getLoc(), op->getName(), op->getOperands(),
                         resultTypes, op->getAttrs(), op->getSuccessors());
    for (Region &region : op->getRegions()) {
      Region *copy = state.addRegion();
      IRMapping mapping;
      region.cloneInto(copy, mapping);
    }
    Operation *async = builder.create(state);
    op->replaceAllUsesWith(async->getResults().drop_back());
    op->erase();
    return async->getResults().back();
  }

  OpBuilder builder;
  const llvm::StringSet<> &hostLocalCallees;
  const llvm::StringSet<> &streamOrderedCallees;
};

struct GPUAsyncRegionPass
    : public mpt::impl::GPUAsyncRegionBase<GPUAsyncRegionPass> {
  using Base::Base;

  void runOnOperation() override {
    llvm::StringSet<> hostLocal, streamOrdered;
    for (const std::string &name : hostLocalCallees)
      hostLocal.insert(name);
    for (const std::string &name : streamOrderedCallees)
      streamOrdered.insert(name);
    AsyncRegionRewriter rewriter(&getContext(), hostLocal, streamOrdered);
    // Blocks of nested regions too (a loop's body is a chain of its own);
    // an op holding GPU ops has their effects, so the host waits before it.
    WalkResult result = getOperation()->walk([&](Block *block) {
      return failed(rewriter.runOnBlock(*block)) ? WalkResult::interrupt()
                                                 : WalkResult::advance();
    });
    numWaits += rewriter.numWaits;
    numAsyncOps += rewriter.numAsyncOps;
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
