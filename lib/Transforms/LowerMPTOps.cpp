//===- LowerMPTOps.cpp - mpt ops to linalg/tensor/arith -------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include <limits>

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

Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  return tensor::ExtractOp::create(b, loc, tensor, ValueRange{});
}

Value fromScalar(OpBuilder &b, Location loc, Value scalar) {
  auto type = RankedTensorType::get({}, scalar.getType());
  return tensor::FromElementsOp::create(b, loc, type, ValueRange{scalar});
}

Value f32Constant(OpBuilder &b, Location loc, double value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value i32Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(value));
}

/// The unscaled gradients come from one elementwise generic each; the
/// Inf/NaN flag and the sum of squares from one reduction each, chained
/// through their inits so that no extra combine is needed.
struct LowerUnscaleCheck : OpRewritePattern<UnscaleCheckOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UnscaleCheckOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value inv =
        arith::DivFOp::create(rewriter, loc, f32Constant(rewriter, loc, 1.0),
                              extractScalar(rewriter, loc, op.getScale()));
    Value flag = fromScalar(
        rewriter, loc,
        arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(false)));
    Value sumSq = fromScalar(rewriter, loc, f32Constant(rewriter, loc, 0.0));
    SmallVector<Value> results;
    for (Value grad : op.getGrads()) {
      results.push_back(scale(rewriter, loc, grad, inv));
      std::tie(flag, sumSq) = check(rewriter, loc, grad, inv, flag, sumSq);
    }
    results.push_back(flag);
    results.push_back(sumSq);
    rewriter.replaceOp(op, results);
    return success();
  }

  static Value scale(OpBuilder &b, Location loc, Value grad, Value inv) {
    auto type = cast<RankedTensorType>(grad.getType());
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, grad);
    Value init = tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
    AffineMap id = b.getMultiDimIdentityMap(type.getRank());
    SmallVector<utils::IteratorType> iters(type.getRank(),
                                           utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        b, loc, type, grad, init, ArrayRef<AffineMap>{id, id}, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(
              nb, nl, Value(arith::MulFOp::create(nb, nl, args[0], inv)));
        });
    return generic.getResult(0);
  }

  static std::pair<Value, Value> check(OpBuilder &b, Location loc, Value grad,
                                       Value inv, Value flag, Value sumSq) {
    auto type = cast<RankedTensorType>(grad.getType());
    AffineMap id = b.getMultiDimIdentityMap(type.getRank());
    AffineMap scalar = AffineMap::get(type.getRank(), 0, b.getContext());
    SmallVector<utils::IteratorType> iters(type.getRank(),
                                           utils::IteratorType::reduction);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{flag.getType(), sumSq.getType()}, grad,
        ValueRange{flag, sumSq}, ArrayRef<AffineMap>{id, scalar, scalar}, iters,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value x = arith::MulFOp::create(nb, nl, args[0], inv);
          Value inf = arith::ConstantOp::create(
              nb, nl,
              nb.getF32FloatAttr(std::numeric_limits<float>::infinity()));
          // |x| < inf is false for Inf and for NaN.
          Value finite =
              arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLT,
                                    math::AbsFOp::create(nb, nl, x), inf);
          Value bad = arith::XOrIOp::create(
              nb, nl, finite,
              arith::ConstantOp::create(nb, nl, nb.getBoolAttr(true)));
          Value anyBad = arith::OrIOp::create(nb, nl, args[1], bad);
          Value sq = arith::AddFOp::create(nb, nl, args[2],
                                           arith::MulFOp::create(nb, nl, x, x));
          linalg::YieldOp::create(nb, nl, ValueRange{anyBad, sq});
        });
    return {generic.getResult(0), generic.getResult(1)};
  }
};

/// The state machine on scalars, with selects (no control flow).
struct LowerUpdateScale : OpRewritePattern<UpdateScaleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(UpdateScaleOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value scale = extractScalar(b, loc, op.getScale());
    Value tracker = extractScalar(b, loc, op.getGrowthTracker());
    Value left = extractScalar(b, loc, op.getHysteresisLeft());
    Value foundInf = extractScalar(b, loc, op.getFoundInf());
    auto f32 = [&](APFloat v) {
      return f32Constant(b, loc, v.convertToDouble());
    };
    Value one = i32Constant(b, loc, 1), zero = i32Constant(b, loc, 0);

    // Non-finite step: back off once hysteresis is used up.
    Value exhausted =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, left, one);
    Value backedOff = arith::MaximumFOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, scale, f32(op.getBackoffFactor())),
        f32(op.getMinScale()));
    Value infScale =
        arith::SelectOp::create(b, loc, exhausted, backedOff, scale);
    Value infLeft = arith::SelectOp::create(
        b, loc, exhausted, left, arith::SubIOp::create(b, loc, left, one));

    // Finite step: grow after growth_interval of them, if still finite.
    Value counted = arith::AddIOp::create(b, loc, tracker, one);
    Value grow =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, counted,
                              i32Constant(b, loc, op.getGrowthInterval()));
    Value grown =
        arith::MulFOp::create(b, loc, scale, f32(op.getGrowthFactor()));
    Value grownFinite = arith::CmpFOp::create(
        b, loc, arith::CmpFPredicate::OLT, math::AbsFOp::create(b, loc, grown),
        f32Constant(b, loc, std::numeric_limits<float>::infinity()));
    Value capped =
        arith::MinimumFOp::create(b, loc, grown, f32(op.getMaxScale()));
    Value grownScale =
        arith::SelectOp::create(b, loc, grownFinite, capped, scale);
    Value okScale = arith::SelectOp::create(b, loc, grow, grownScale, scale);
    Value okTracker = arith::SelectOp::create(b, loc, grow, zero, counted);
    Value okLeft = arith::SelectOp::create(
        b, loc, grow, i32Constant(b, loc, op.getHysteresis()), left);

    Value newScale =
        arith::SelectOp::create(b, loc, foundInf, infScale, okScale);
    Value newTracker =
        arith::SelectOp::create(b, loc, foundInf, zero, okTracker);
    Value newLeft = arith::SelectOp::create(b, loc, foundInf, infLeft, okLeft);
    rewriter.replaceOp(op, {fromScalar(b, loc, newScale),
                            fromScalar(b, loc, newTracker),
                            fromScalar(b, loc, newLeft)});
    return success();
  }
};

/// The lowering makes the counts i32 constants and the factors f32 ones:
/// an attribute that does not fit would wrap or become Inf.
LogicalResult checkLowerable(UpdateScaleOp op) {
  constexpr int64_t maxCount = std::numeric_limits<int32_t>::max();
  for (auto [name, value] :
       {std::make_pair("growth_interval", op.getGrowthInterval()),
        std::make_pair("hysteresis", op.getHysteresis())})
    if (value > maxCount)
      return op.emitOpError()
             << name << " = " << value
             << " does not fit the i32 state it is compared with (at most "
             << maxCount << ")";
  for (auto [name, value] :
       {std::make_pair("growth_factor", op.getGrowthFactor()),
        std::make_pair("backoff_factor", op.getBackoffFactor()),
        std::make_pair("min_scale", op.getMinScale()),
        std::make_pair("max_scale", op.getMaxScale())}) {
    bool losesInfo = false;
    APFloat f32 = value;
    (void)f32.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                      &losesInfo);
    if (!f32.isFinite())
      return op.emitOpError() << name << " = " << value.convertToDouble()
                              << " is not finite in f32";
  }
  return success();
}

struct LowerMPTOpsPass : public mpt::impl::LowerMPTOpsBase<LowerMPTOpsPass> {
  void runOnOperation() override {
    WalkResult checked = getOperation()->walk([](UpdateScaleOp op) {
      return failed(checkLowerable(op)) ? WalkResult::interrupt()
                                        : WalkResult::advance();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();
    int64_t before = countMPTOps();
    if (!before)
      return markAllAnalysesPreserved();
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
  patterns.add<LowerLossGrad, LowerUnscaleCheck, LowerUpdateScale>(
      patterns.getContext());
}
