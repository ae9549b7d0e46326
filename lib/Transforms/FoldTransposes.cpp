//===- FoldTransposes.cpp - Transposes into contraction indexing maps -----===//
//
// A backward reads weights and activations transposed (dX = dY W^T,
// dW = X^T dY). Written with linalg.transpose, each costs a kernel that
// writes a transposed copy; folded into the contraction's indexing map, the
// contraction reads the original (tensor-core kernels load either layout).
// The other data-movement named ops (broadcast, transpose, reduce) become
// linalg.generic so that mpt-fuse-elementwise can fuse them with their
// elementwise neighbours.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mpt {
#define GEN_PASS_DEF_FOLDTRANSPOSES
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The map that reads the input of `transpose` where `map` read its result:
/// result dim j of a transpose is input dim permutation[j].
AffineMap readThroughTranspose(AffineMap map, linalg::TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPermutation();
  SmallVector<AffineExpr> results(perm.size());
  for (auto [j, p] : llvm::enumerate(perm))
    results[p] = map.getResult(j);
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

/// contraction(transpose(x), ...) -> linalg.generic reading x through the
/// composed map, with the contraction's own body (casts included).
struct FoldIntoContraction
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  FoldIntoContraction(MLIRContext *ctx, llvm::Statistic &count)
      : OpInterfaceRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumRegions() != 1 ||
        !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a contraction on tensors");
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<Value> inputs;
    unsigned folded = 0;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose || !transpose.hasPureTensorSemantics()) {
        inputs.push_back(input->get());
        continue;
      }
      unsigned index = input->getOperandNumber();
      maps[index] = readThroughTranspose(maps[index], transpose);
      inputs.push_back(transpose.getInput());
      ++folded;
    }
    if (!folded)
      return rewriter.notifyMatchFailure(op, "reads no transpose");
    auto generic = linalg::GenericOp::create(
        rewriter, op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits(),
        maps, op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op->getRegion(0), generic.getRegion(),
                                generic.getRegion().end());
    // Discardable attributes (a recorded strategy, say) stay with the op.
    for (NamedAttribute attr : op->getDiscardableAttrs())
      generic->setAttr(attr.getName(), attr.getValue());
    rewriter.replaceOp(op, generic->getResults());
    count += folded;
    return success();
  }

  llvm::Statistic &count;
};

/// broadcast, transpose and reduce on tensors -> linalg.generic.
struct GeneralizeDataMovement
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  GeneralizeDataMovement(MLIRContext *ctx, llvm::Statistic &count)
      : OpInterfaceRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<linalg::BroadcastOp, linalg::TransposeOp, linalg::ReduceOp>(
            op.getOperation()) ||
        !op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not data movement on tensors");
    // A transpose that a contraction still reads is folded first.
    if (isa<linalg::TransposeOp>(op.getOperation()) &&
        llvm::any_of(op->getUsers(), [](Operation *user) {
          auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
          return linalgOp && linalg::isaContractionOpInterface(linalgOp);
        }))
      return rewriter.notifyMatchFailure(op, "read by a contraction");
    if (failed(linalg::generalizeNamedOp(rewriter, op)))
      return failure();
    ++count;
    return success();
  }

  llvm::Statistic &count;
};

struct FoldTransposesPass
    : public mpt::impl::FoldTransposesBase<FoldTransposesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoContraction>(&getContext(), numFolded);
    if (generalize)
      patterns.add<GeneralizeDataMovement>(&getContext(), numGeneralized);
    // Nothing is folded or simplified otherwise: bodies stay as they are.
    if (failed(mpt::applyPatternsOnly(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
