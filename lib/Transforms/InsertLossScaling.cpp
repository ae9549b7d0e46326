//===- InsertLossScaling.cpp - Scale the seed, unscale the grads ----------===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"
#include "mpt/Transforms/SeedLinearity.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Format.h"
#include <limits>

namespace mpt {
#define GEN_PASS_DEF_INSERTLOSSSCALING
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

/// How the error for the seed names it.
std::string describeSeed(Value seed) {
  if (auto arg = dyn_cast<BlockArgument>(seed))
    return "argument #" + std::to_string(arg.getArgNumber());
  return "the op mpt.loss_grad";
}

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

  /// The scale and the factors become f32 constants and the step counts i32
  /// state: each must survive the conversion with its meaning.
  LogicalResult checkOptions() {
    auto error = [&](StringRef what, double value) {
      std::string text;
      llvm::raw_string_ostream(text) << llvm::format("%.15g", value);
      return getOperation().emitError()
             << "mpt-insert-loss-scaling: " << what << ", got " << text;
    };
    std::optional<double> init = toF32(initScale), growth = toF32(growthFactor),
                          backoff = toF32(backoffFactor), lo = toF32(minScale),
                          hi = toF32(maxScale);
    if (!(init && *init > 0))
      return error("init-scale must be > 0 and finite in f32", initScale);
    if (!(growth && *growth > 1))
      return error("growth-factor must be > 1 and finite in f32", growthFactor);
    if (!(backoff && *backoff > 0 && *backoff < 1))
      return error("backoff-factor must be in (0, 1) in f32", backoffFactor);
    if (!(lo && *lo > 0))
      return error("min-scale must be > 0 and finite in f32", minScale);
    if (!(hi && *lo <= *hi))
      return error("max-scale must be >= min-scale and finite in f32",
                   maxScale);
    // The step counts are i32 state: a larger option would wrap.
    constexpr int64_t maxCount = std::numeric_limits<int32_t>::max();
    auto countError = [&](StringRef what, int64_t value) {
      return getOperation().emitError()
             << "mpt-insert-loss-scaling: " << what
             << " must be in [1, 2147483647] (its state is an i32), got "
             << value;
    };
    if (growthInterval < 1 || growthInterval > maxCount)
      return countError("growth-interval", growthInterval);
    if (hysteresis < 1 || hysteresis > maxCount)
      return countError("hysteresis", hysteresis);
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
    if (std::optional<Type> low = find16BitSeedOrGrad(fn, seeds, grads)) {
      if (strict)
        return fn.emitOpError()
               << "has a backward seed or a grad of type " << *low
               << "; loss scaling expects an f32 seed and f32 grads (leave "
                  "it out for a 16-bit step: loss-scaling=none)";
      fn.emitRemark() << "loss scaling left out: the backward seed or a grad "
                         "has type "
                      << *low
                      << " (a 16-bit step is left as it is; loss scaling "
                         "applies to f32 steps)";
      return success();
    }
    if (failed(checkGradsLinear(fn, seeds, grads)))
      return failure();
    if (failed(checkNoCallers(fn, "mpt-insert-loss-scaling")))
      return failure();
    Value scale = createScale(fn);
    for (Value seed : seeds)
      scaleSeed(seed, scale);
    rewriteReturns(fn, scale, grads);
    return success();
  }

  /// The type of the first seed or grad that is not f32, if any.
  static std::optional<Type> find16BitSeedOrGrad(func::FuncOp fn,
                                                 ArrayRef<Value> seeds,
                                                 ArrayRef<unsigned> grads) {
    for (Value seed : seeds)
      if (!getElementTypeOrSelf(seed.getType()).isF32())
        return seed.getType();
    for (unsigned i : grads)
      if (!getElementTypeOrSelf(fn.getResultTypes()[i]).isF32())
        return fn.getResultTypes()[i];
    return std::nullopt;
  }

  /// Dividing a grad by the scale undoes the scaled seed only when the grad
  /// is linear in the seed: every grad must be proven so.
  static LogicalResult checkGradsLinear(func::FuncOp fn, ArrayRef<Value> seeds,
                                        ArrayRef<unsigned> grads) {
    SeedLinearity analysis(fn, seeds);
    std::optional<SeedDepOrigin> control = analysis.getControlDependence();
    SmallVector<func::ReturnOp> returns;
    fn.walk([&](func::ReturnOp ret) { returns.push_back(ret); });
    bool ok = true;
    for (unsigned i : grads) {
      for (func::ReturnOp ret : returns) {
        Value grad = ret.getOperand(i);
        SeedDep dep = analysis.get(grad);
        if (!control && (dep == SeedDep::Zero || dep == SeedDep::Linear))
          continue;
        ok = false;
        InFlightDiagnostic diag = fn.emitOpError() << "grad result #" << i;
        if (std::optional<int64_t> param = getGradOf(fn, i))
          diag << " (of parameter #" << *param << ")";
        if (dep == SeedDep::Free && !control) {
          diag << " does not depend on the backward seed ("
               << describeSeed(seeds.front())
               << "): loss scaling would divide it by the scale; compute it "
                  "from the seed, or leave loss scaling out";
          break;
        }
        diag << " is not linear in the backward seed ("
             << describeSeed(seeds.front())
             << "): dividing it by the scale would not undo the scaled seed";
        SeedDepOrigin origin = control ? *control : analysis.getOrigin(grad);
        if (origin.op)
          diag.attachNote(origin.op->getLoc()) << "here: " << origin.reason;
        break;
      }
    }
    return success(ok);
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
