//===- LowerMPTOps.cpp - mpt ops to linalg/tensor/arith -------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mpt {
#define GEN_PASS_DEF_LOWERMPTOPS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {
/// A value of `type` (float scalar or ranked float tensor) filled with one.
Value createOnes(OpBuilder &b, Location loc, Type type) {
  auto elemType = cast<FloatType>(getElementTypeOrSelf(type));
  TypedAttr one = b.getFloatAttr(elemType, 1.0);
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return arith::ConstantOp::create(b, loc, one);
  if (tensorType.hasStaticShape())
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(tensorType, one));
  return nullptr;
}

struct LowerLossGrad : OpRewritePattern<LossGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LossGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    if (Value ones = createOnes(rewriter, loc, op.getType())) {
      rewriter.replaceOp(op, ones);
      return success();
    }
    // Dynamic shape: take the sizes from the loss itself.
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, op.getLoss());
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    Value one = arith::ConstantOp::create(
        rewriter, loc, rewriter.getFloatAttr(type.getElementType(), 1.0));
    rewriter.replaceOp(op, linalg::FillOp::create(rewriter, loc, one, empty));
    return success();
  }
};

struct LowerMPTOpsPass : public mpt::impl::LowerMPTOpsBase<LowerMPTOpsPass> {
  void runOnOperation() override {
    int64_t before = countMPTOps();
    RewritePatternSet patterns(&getContext());
    populateLowerMPTOpsPatterns(patterns);
    // The walk driver rewrites the mpt ops only; it folds nothing else.
    walkAndApplyPatterns(getOperation(), std::move(patterns));
    numLowered += before - countMPTOps();
  }

  int64_t countMPTOps() {
    int64_t count = 0;
    getOperation()->walk([&](Operation *op) {
      if (isa_and_nonnull<MPTDialect>(op->getDialect()))
        ++count;
    });
    return count;
  }
};
} // namespace

void mpt::populateLowerMPTOpsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLossGrad>(patterns.getContext());
}
