//===- SCFToCF.cpp - SCF to ControlFlow, last op first --------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mpt {
#define GEN_PASS_DEF_SCFTOCF
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
struct SCFToCFPass : public mpt::impl::SCFToCFBase<SCFToCFPass> {
  /// Upstream's conversion, for functions with an `scf.while`: applied
  /// greedily, the while and if lowerings of a region nested in a while
  /// were seen to produce branches with missing block arguments.
  LogicalResult convertUpstream(Operation *fn) {
    RewritePatternSet patterns(&getContext());
    populateSCFToControlFlowConversionPatterns(patterns);
    ConversionTarget target(getContext());
    target
        .addIllegalOp<scf::ForallOp, scf::ForOp, scf::IfOp, scf::IndexSwitchOp,
                      scf::ParallelOp, scf::WhileOp, scf::ExecuteRegionOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    return applyPartialConversion(fn, target, std::move(patterns));
  }

  void runOnOperation() override {
    SmallVector<Operation *> withWhile;
    getOperation()->walk([&](FunctionOpInterface fn) {
      if (!fn.getFunctionBody().empty() && fn->walk([](scf::WhileOp) {
                                               return WalkResult::interrupt();
                                             }).wasInterrupted())
        withWhile.push_back(fn);
    });
    for (Operation *fn : withWhile)
      if (failed(convertUpstream(fn)))
        return signalPassFailure();

    RewritePatternSet patterns(&getContext());
    populateSCFToControlFlowConversionPatterns(patterns);
    // Bottom-up: the worklist pops the last op of a block first, so each
    // block split moves only the ops up to the next, already lowered, loop.
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(false)
        .enableFolding(false)
        .enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
    WalkResult left = getOperation()->walk([](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "scf" &&
          !isa<scf::YieldOp, scf::ConditionOp, scf::InParallelOp, scf::ReduceOp,
               scf::ReduceReturnOp>(op)) {
        op->emitError("could not be lowered to cf");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
