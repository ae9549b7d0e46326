//===- Bufferize.cpp - One-Shot Bufferize, loop nests outermost first -----===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/Bufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mpt {
#define GEN_PASS_DEF_BUFFERIZE
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
namespace bz = mlir::bufferization;

namespace {
bool carriesTensors(scf::ForOp loop) {
  return llvm::any_of(loop.getInitArgs().getTypes(), llvm::IsaPred<TensorType>);
}

/// The tensor-carrying loops that enclose or contain another one, outermost
/// first.
SmallVector<scf::ForOp> collectNestedLoops(ModuleOp module) {
  SmallVector<scf::ForOp> loops;
  module.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
    if (!carriesTensors(loop))
      return;
    bool outer = loop->getParentOfType<scf::ForOp>() &&
                 carriesTensors(loop->getParentOfType<scf::ForOp>());
    bool inner = false;
    loop.getBody()->walk([&](scf::ForOp nested) {
      inner |= carriesTensors(nested);
      return inner ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (outer || inner)
      loops.push_back(loop);
  });
  return loops;
}

/// Bufferizes one op through its interface, as `bufferizeOp` does.
LogicalResult bufferizeOne(Operation *op, RewriterBase &rewriter,
                           const bz::OneShotBufferizationOptions &options,
                           bz::BufferizationState &state) {
  auto bufferizable = options.dynCastBufferizableOp(op);
  if (!bufferizable)
    return op->emitError("not bufferizable");
  rewriter.setInsertionPoint(op);
  if (failed(bufferizable.bufferize(rewriter, options, state)))
    return op->emitError("failed to bufferize op");
  return success();
}

struct BufferizePass : public mpt::impl::BufferizeBase<BufferizePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bz::OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(
        bz::LayoutMapOption::IdentityLayoutMap);
    options.allowReturnAllocsFromLoops = true;
    bz::BufferizationState state;
    // Analysis: every conflict becomes an explicit copy, after which ops
    // can be bufferized in any order.
    if (failed(bz::insertTensorCopies(module, options, state)))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : collectNestedLoops(module)) {
      Operation *yield = loop.getBody()->getTerminator();
      if (failed(bufferizeOne(yield, rewriter, options, state)) ||
          failed(bufferizeOne(loop, rewriter, options, state)))
        return signalPassFailure();
      ++numNestedLoops;
    }
    if (failed(bz::bufferizeModuleOp(module, options, state)))
      return signalPassFailure();
    bz::removeBufferizationAttributesInModule(module);
  }
};
} // namespace
