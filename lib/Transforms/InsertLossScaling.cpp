//===- InsertLossScaling.cpp - Scale the seed, unscale the grads ----------===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mpt {
#define GEN_PASS_DEF_INSERTLOSSSCALING
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

struct InsertLossScalingPass
    : public mpt::impl::InsertLossScalingBase<InsertLossScalingPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mode != "static" && mode != "dynamic") {
      getOperation().emitError() << "mpt-insert-loss-scaling: unknown mode '"
                                 << mode << "'; expected static or dynamic";
      return signalPassFailure();
    }
    if (failed(checkOptions()))
      return signalPassFailure();
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (!fn.isExternal() && failed(process(fn)))
        return signalPassFailure();
  }

  LogicalResult checkOptions() {
    auto error = [&](StringRef what) {
      return getOperation().emitError() << "mpt-insert-loss-scaling: " << what;
    };
    if (!(initScale > 0))
      return error("init-scale must be > 0");
    if (!(growthFactor > 1))
      return error("growth-factor must be > 1");
    if (!(backoffFactor > 0 && backoffFactor < 1))
      return error("backoff-factor must be in (0, 1)");
    if (growthInterval < 1)
      return error("growth-interval must be >= 1");
    if (hysteresis < 1)
      return error("hysteresis must be >= 1");
    if (!(minScale > 0 && minScale <= maxScale))
      return error("needs 0 < min-scale <= max-scale");
    return success();
  }

  LogicalResult process(func::FuncOp fn) {
    SmallVector<Value> seeds;
    for (unsigned i : getArgumentsWithRole(fn, Role::LossGrad))
      seeds.push_back(fn.getArgument(i));
    fn.walk([&](LossGradOp op) { seeds.push_back(op.getResult()); });
    SmallVector<unsigned> grads = getResultsWithRole(fn, Role::Grad);
    if (seeds.empty() && grads.empty()) {
      if (strict && hasTrainingRoles(fn))
        return fn.emitOpError()
               << "has no backward seed and no grads: loss scaling needs an "
                  "argument with mpt.role = \"loss_grad\" (or the op "
                  "mpt.loss_grad) and results with mpt.role = \"grad\"";
      return success();
    }
    if (seeds.empty())
      return fn.emitOpError()
             << "has grads but no backward seed: loss scaling needs an "
                "argument with mpt.role = \"loss_grad\" or the op "
                "mpt.loss_grad to multiply by the scale";
    if (grads.empty())
      return fn.emitOpError()
             << "has a backward seed but no result with mpt.role = \"grad\": "
                "loss scaling has no gradient to unscale and check";
    if (!getArgumentsWithRole(fn, Role::LossScale).empty())
      return fn.emitOpError() << "already has a \"loss_scale\" argument: "
                                 "loss scaling was inserted before";
    for (Value seed : seeds)
      if (!getElementTypeOrSelf(seed.getType()).isF32())
        return fn.emitOpError()
               << "has a backward seed of type " << seed.getType()
               << "; loss scaling expects an f32 seed";
    Value scale = createScale(fn);
    for (Value seed : seeds)
      scaleSeed(seed, scale);
    rewriteReturns(fn, scale, grads);
    return success();
  }

  /// The scale: a constant, or a new `loss_scale` argument (with the
  /// growth tracker and hysteresis) for dynamic scaling.
  Value createScale(func::FuncOp fn) {
    MLIRContext *ctx = fn.getContext();
    auto f32 = RankedTensorType::get({}, Float32Type::get(ctx));
    Block &entry = fn.getBody().front();
    if (mode == "static") {
      OpBuilder b = OpBuilder::atBlockBegin(&entry);
      return arith::ConstantOp::create(
          b, fn.getLoc(),
          DenseElementsAttr::get(f32, static_cast<float>(initScale)));
    }
    auto i32 = RankedTensorType::get({}, IntegerType::get(ctx, 32));
    Builder b(ctx);
    unsigned n = fn.getNumArguments();
    (void)fn.insertArgument(n, f32, getRoleAttrs(b, Role::LossScale),
                            fn.getLoc());
    (void)fn.insertArgument(n + 1, i32, getRoleAttrs(b, Role::GrowthTracker),
                            fn.getLoc());
    (void)fn.insertArgument(n + 2, i32, getRoleAttrs(b, Role::Hysteresis),
                            fn.getLoc());
    return fn.getArgument(n);
  }

  /// seed * scale, replacing every other use of the seed.
  void scaleSeed(Value seed, Value scale) {
    // The uses to redirect: those before this function adds its own.
    SmallVector<OpOperand *> uses =
        llvm::map_to_vector(seed.getUses(), [](OpOperand &u) { return &u; });
    OpBuilder b(seed.getContext());
    if (auto arg = dyn_cast<BlockArgument>(seed)) {
      Operation *def = scale.getDefiningOp(); // the static constant
      if (def && def->getBlock() == arg.getOwner())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(arg.getOwner());
    } else {
      b.setInsertionPointAfter(seed.getDefiningOp());
    }
    Location loc = seed.getLoc();
    Value factor = scale;
    Type type = seed.getType();
    if (!isa<ShapedType>(type)) {
      factor = tensor::ExtractOp::create(b, loc, scale, ValueRange{});
    } else if (cast<ShapedType>(type).getRank() > 0) {
      auto tensorType = cast<RankedTensorType>(type);
      Value init =
          tensor::EmptyOp::create(b, loc, tensor::getMixedSizes(b, loc, seed),
                                  tensorType.getElementType());
      SmallVector<int64_t> dims =
          llvm::to_vector(llvm::seq<int64_t>(0, tensorType.getRank()));
      factor =
          linalg::BroadcastOp::create(b, loc, scale, init, dims)->getResult(0);
    }
    Value scaled = arith::MulFOp::create(b, loc, seed, factor);
    for (OpOperand *use : uses)
      use->set(scaled);
  }

  void rewriteReturns(func::FuncOp fn, Value scale, ArrayRef<unsigned> grads) {
    MLIRContext *ctx = fn.getContext();
    bool dynamic = mode == "dynamic";
    unsigned numResults = fn.getNumResults();
    unsigned scaleArg = dynamic ? fn.getNumArguments() - 3 : 0;
    auto i1 = RankedTensorType::get({}, IntegerType::get(ctx, 1));
    Builder b(ctx);
    (void)fn.insertResult(numResults, i1, getRoleAttrs(b, Role::FoundInf));
    if (dynamic) {
      auto f32 = RankedTensorType::get({}, Float32Type::get(ctx));
      auto i32 = RankedTensorType::get({}, IntegerType::get(ctx, 32));
      (void)fn.insertResult(numResults + 1, f32,
                            getRoleAttrs(b, Role::LossScale, scaleArg));
      (void)fn.insertResult(numResults + 2, i32,
                            getRoleAttrs(b, Role::GrowthTracker, scaleArg + 1));
      (void)fn.insertResult(numResults + 3, i32,
                            getRoleAttrs(b, Role::Hysteresis, scaleArg + 2));
    }
    fn.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      SmallVector<Value> gradValues;
      for (unsigned i : grads)
        gradValues.push_back(ret.getOperand(i));
      auto check = UnscaleCheckOp::create(b, ret.getLoc(), scale, gradValues);
      SmallVector<Value> operands(ret.getOperands());
      for (auto [i, unscaled] : llvm::zip(grads, check.getUnscaled()))
        operands[i] = unscaled;
      operands.push_back(check.getFoundInf());
      if (dynamic) {
        auto update = UpdateScaleOp::create(
            b, ret.getLoc(), scale, fn.getArgument(scaleArg + 1),
            fn.getArgument(scaleArg + 2), check.getFoundInf(),
            b.getF64FloatAttr(growthFactor), b.getF64FloatAttr(backoffFactor),
            b.getI64IntegerAttr(growthInterval),
            b.getI64IntegerAttr(hysteresis), b.getF64FloatAttr(minScale),
            b.getF64FloatAttr(maxScale));
        operands.append({update.getNewScale(), update.getNewGrowthTracker(),
                         update.getNewHysteresisLeft()});
      }
      ret->setOperands(operands);
    });
  }
};
} // namespace
