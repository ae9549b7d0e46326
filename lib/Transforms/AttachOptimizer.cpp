//===- AttachOptimizer.cpp - The optimizer update inside the step ---------===//
//
// Turns a grads-form step into an update-form step (parameters and state in,
// updated parameters and state out), skipped in the graph on found_inf.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/BitVector.h"

namespace mpt {
#define GEN_PASS_DEF_ATTACHOPTIMIZER
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

enum class Kind { SGD, Momentum, Adam, AdamW };

/// One parameter: its argument, its grad result and its state arguments.
struct ParamSlot {
  unsigned param;
  unsigned gradResult;
  SmallVector<unsigned> state; // argument indices
};

/// Hyper-parameters as f32 scalars, built once per update.
struct Scalars {
  Value lr, wd, momentum, beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps;
  Value clipCoef;          // null when clipping is off
  Value stepSize, bc2Sqrt; // Adam
  Value decay;             // AdamW: 1 - lr * wd
  Value newStep;           // Adam: the step count after this step
};

Value f32(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

struct AttachOptimizerPass
    : public mpt::impl::AttachOptimizerBase<AttachOptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<Kind> parsed = llvm::StringSwitch<std::optional<Kind>>(kind)
                                     .Case("sgd", Kind::SGD)
                                     .Case("momentum", Kind::Momentum)
                                     .Case("adam", Kind::Adam)
                                     .Case("adamw", Kind::AdamW)
                                     .Default(std::nullopt);
    if (!parsed) {
      getOperation().emitError()
          << "mpt-attach-optimizer: unknown kind '" << kind
          << "'; expected sgd, momentum, adam or adamw";
      return signalPassFailure();
    }
    optKind = *parsed;
    if (failed(checkOptions()))
      return signalPassFailure();
    bool any = false;
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal() || getResultsWithRole(fn, Role::Grad).empty())
        continue;
      any = true;
      if (failed(process(fn)))
        return signalPassFailure();
    }
    if (!any) {
      getOperation().emitError()
          << "mpt-attach-optimizer: no function has results with mpt.role "
             "= \"grad\"; the optimizer needs a grads-form step";
      return signalPassFailure();
    }
  }

  LogicalResult checkOptions() {
    auto error = [&](StringRef what) {
      return getOperation().emitError() << "mpt-attach-optimizer: " << what;
    };
    // The options become f32 constants: check them as f32 (eps = 1e-50 is
    // 0 there, beta2 = 0.999999999 is 1 and the bias correction divides by
    // zero, lr = 1e39 is inf).
    std::optional<double> lr32 = toF32(lr), wd32 = toF32(weightDecay),
                          clip32 = toF32(clipNorm), m32 = toF32(momentum),
                          b1 = toF32(beta1), b2 = toF32(beta2),
                          eps32 = toF32(eps);
    if (!(lr32 && *lr32 > 0))
      return error("lr must be > 0 and finite in f32");
    if (!(wd32 && *wd32 >= 0))
      return error("weight-decay must be >= 0 and finite in f32");
    if (!(clip32 && *clip32 >= 0))
      return error("clip-norm must be >= 0 and finite in f32 (0: off)");
    if (!(m32 && *m32 >= 0 && *m32 < 1))
      return error("momentum must be in [0, 1) in f32");
    if (!(b1 && b2 && *b1 >= 0 && *b1 < 1 && *b2 >= 0 && *b2 < 1))
      return error("beta1 and beta2 must be in [0, 1) in f32");
    if (!(eps32 && *eps32 > 0))
      return error("eps must be > 0 in f32");
    return success();
  }

  unsigned statesPerParam() const {
    switch (optKind) {
    case Kind::SGD:
      return 0;
    case Kind::Momentum:
      return 1;
    case Kind::Adam:
    case Kind::AdamW:
      return 2;
    }
    llvm_unreachable("covered switch");
  }

  bool isAdam() const {
    return optKind == Kind::Adam || optKind == Kind::AdamW;
  }

  LogicalResult process(func::FuncOp fn) {
    // The grads a caller reads would become updated parameters (or the call
    // would miss the new state arguments).
    if (failed(checkNoCallers(fn, "mpt-attach-optimizer")))
      return failure();
    Builder b(fn.getContext());
    SmallVector<ParamSlot> slots;
    for (unsigned r : getResultsWithRole(fn, Role::Grad))
      slots.push_back({static_cast<unsigned>(*getGradOf(fn, r)), r, {}});
    for (ParamSlot &slot : slots)
      if (!getElementTypeOrSelf(fn.getArgumentTypes()[slot.param]).isF32())
        return fn.emitOpError() << "parameter #" << slot.param << " has type "
                                << fn.getArgumentTypes()[slot.param]
                                << "; the optimizer updates f32 master weights";
    // State arguments: per parameter, then Adam's step count.
    for (ParamSlot &slot : slots) {
      Type type = fn.getArgumentTypes()[slot.param];
      for (unsigned k = 0; k < statesPerParam(); ++k) {
        unsigned index = fn.getNumArguments();
        (void)fn.insertArgument(index, type, getRoleAttrs(b, Role::OptState),
                                fn.getLoc());
        slot.state.push_back(index);
      }
    }
    std::optional<unsigned> stepArg;
    if (isAdam()) {
      stepArg = fn.getNumArguments();
      (void)fn.insertArgument(*stepArg,
                              RankedTensorType::get({}, b.getF32Type()),
                              getRoleAttrs(b, Role::OptState), fn.getLoc());
    }
    std::optional<unsigned> foundInf;
    if (auto found = getResultsWithRole(fn, Role::FoundInf); !found.empty())
      foundInf = found.front();

    // New results: updated parameters, then the state in argument order.
    SmallVector<std::pair<Type, DictionaryAttr>> newResults;
    for (ParamSlot &slot : slots)
      newResults.push_back({fn.getArgumentTypes()[slot.param],
                            getRoleAttrs(b, Role::ParamOut, slot.param)});
    for (ParamSlot &slot : slots)
      for (unsigned s : slot.state)
        newResults.push_back(
            {fn.getArgumentTypes()[s], getRoleAttrs(b, Role::OptState, s)});
    if (stepArg)
      newResults.push_back({fn.getArgumentTypes()[*stepArg],
                            getRoleAttrs(b, Role::OptState, *stepArg)});
    unsigned first = fn.getNumResults();
    for (auto [i, result] : llvm::enumerate(newResults))
      (void)fn.insertResult(first + i, result.first, result.second);

    fn.walk([&](func::ReturnOp ret) {
      SmallVector<Value> updated =
          buildUpdate(fn, ret, slots, stepArg, foundInf);
      SmallVector<Value> operands(ret.getOperands().take_front(first));
      operands.append(updated);
      ret->setOperands(operands);
    });
    if (!keepGrads) {
      llvm::BitVector drop(fn.getNumResults());
      for (ParamSlot &slot : slots)
        drop.set(slot.gradResult);
      fn.walk([&](func::ReturnOp ret) {
        SmallVector<Value> kept;
        for (auto [i, v] : llvm::enumerate(ret.getOperands()))
          if (!drop.test(i))
            kept.push_back(v);
        ret->setOperands(kept);
      });
      (void)fn.eraseResults(drop);
      // Results moved: mpt.updates still name arguments, which did not.
    }
    return success();
  }

  /// The updated parameters and state, in the order of the new results;
  /// inside scf.if on found_inf when the step has one.
  SmallVector<Value> buildUpdate(func::FuncOp fn, func::ReturnOp ret,
                                 ArrayRef<ParamSlot> slots,
                                 std::optional<unsigned> stepArg,
                                 std::optional<unsigned> foundInf) {
    OpBuilder b(ret);
    Location loc = ret.getLoc();
    SmallVector<Value> old;
    for (const ParamSlot &slot : slots)
      old.push_back(fn.getArgument(slot.param));
    for (const ParamSlot &slot : slots)
      for (unsigned s : slot.state)
        old.push_back(fn.getArgument(s));
    if (stepArg)
      old.push_back(fn.getArgument(*stepArg));
    auto compute = [&](OpBuilder &nb) {
      return computeUpdate(nb, loc, fn, ret, slots, stepArg);
    };
    if (!foundInf)
      return compute(b);
    Value inf = tensor::ExtractOp::create(b, loc, ret.getOperand(*foundInf),
                                          ValueRange{});
    auto ifOp = scf::IfOp::create(b, loc, TypeRange(ValueRange(old)), inf,
                                  /*withElseRegion=*/true);
    OpBuilder thenBuilder = ifOp.getThenBodyBuilder();
    scf::YieldOp::create(thenBuilder, loc, old);
    OpBuilder elseBuilder = ifOp.getElseBodyBuilder();
    scf::YieldOp::create(elseBuilder, loc, compute(elseBuilder));
    return SmallVector<Value>(ifOp.getResults());
  }

  SmallVector<Value> computeUpdate(OpBuilder &b, Location loc, func::FuncOp fn,
                                   func::ReturnOp ret,
                                   ArrayRef<ParamSlot> slots,
                                   std::optional<unsigned> stepArg) {
    SmallVector<Value> grads;
    for (const ParamSlot &slot : slots)
      grads.push_back(ret.getOperand(slot.gradResult));
    Scalars sc = buildScalars(b, loc, grads,
                              stepArg ? fn.getArgument(*stepArg) : Value());
    SmallVector<Value> params, states;
    for (auto [slot, grad] : llvm::zip(slots, grads)) {
      SmallVector<Value> state;
      for (unsigned s : slot.state)
        state.push_back(fn.getArgument(s));
      SmallVector<Value> outs =
          updateParam(b, loc, fn.getArgument(slot.param), grad, state, sc);
      params.push_back(outs.front());
      states.append(outs.begin() + 1, outs.end());
    }
    SmallVector<Value> results(params);
    results.append(states);
    if (stepArg)
      results.push_back(sc.newStep);
    return results;
  }

  /// Scalars shared by all parameters (clip coefficient, bias corrections).
  Scalars buildScalars(OpBuilder &b, Location loc, ArrayRef<Value> grads,
                       Value step) {
    Scalars sc;
    sc.lr = f32(b, loc, lr);
    if (weightDecay > 0)
      sc.wd = f32(b, loc, weightDecay);
    if (optKind == Kind::Momentum)
      sc.momentum = f32(b, loc, momentum);
    if (isAdam()) {
      sc.beta1 = f32(b, loc, beta1);
      sc.beta2 = f32(b, loc, beta2);
      sc.oneMinusBeta1 = f32(b, loc, 1.0 - beta1);
      sc.oneMinusBeta2 = f32(b, loc, 1.0 - beta2);
      sc.eps = f32(b, loc, eps);
    }
    if (clipNorm > 0) {
      Value norm = math::SqrtOp::create(b, loc, sumOfSquares(b, loc, grads));
      Value coef = arith::DivFOp::create(
          b, loc, f32(b, loc, clipNorm),
          arith::AddFOp::create(b, loc, norm, f32(b, loc, 1e-6)));
      sc.clipCoef = arith::MinimumFOp::create(b, loc, coef, f32(b, loc, 1.0));
    }
    if (isAdam()) {
      Value t = arith::AddFOp::create(
          b, loc, tensor::ExtractOp::create(b, loc, step, ValueRange{}),
          f32(b, loc, 1.0));
      sc.newStep = tensor::FromElementsOp::create(
          b, loc, RankedTensorType::get({}, b.getF32Type()), ValueRange{t});
      auto correction = [&](Value beta) {
        return arith::SubFOp::create(b, loc, f32(b, loc, 1.0),
                                     math::PowFOp::create(b, loc, beta, t));
      };
      sc.stepSize = arith::DivFOp::create(b, loc, sc.lr, correction(sc.beta1));
      sc.bc2Sqrt = math::SqrtOp::create(b, loc, correction(sc.beta2));
      if (optKind == Kind::AdamW && weightDecay > 0)
        sc.decay =
            arith::SubFOp::create(b, loc, f32(b, loc, 1.0),
                                  arith::MulFOp::create(b, loc, sc.lr, sc.wd));
    }
    return sc;
  }

  /// The global sum of squares: from mpt.unscale_check when every grad
  /// comes from the same one (fused with the unscale), else computed.
  Value sumOfSquares(OpBuilder &b, Location loc, ArrayRef<Value> grads) {
    auto check = grads.front().getDefiningOp<UnscaleCheckOp>();
    bool fused =
        check &&
        llvm::all_of(grads,
                     [&](Value g) {
                       return g.getDefiningOp() == check.getOperation();
                     }) &&
        grads.size() == check.getUnscaled().size();
    if (fused)
      return tensor::ExtractOp::create(b, loc, check.getSumSq(), ValueRange{});
    Value total = f32(b, loc, 0.0);
    for (Value g : grads) {
      auto type = cast<RankedTensorType>(g.getType());
      Value init = tensor::FromElementsOp::create(
          b, loc, RankedTensorType::get({}, b.getF32Type()),
          ValueRange{f32(b, loc, 0.0)});
      AffineMap id = b.getMultiDimIdentityMap(type.getRank());
      AffineMap scalar = AffineMap::get(type.getRank(), 0, b.getContext());
      auto sum = linalg::GenericOp::create(
          b, loc, init.getType(), g, init, ArrayRef<AffineMap>{id, scalar},
          SmallVector<utils::IteratorType>(type.getRank(),
                                           utils::IteratorType::reduction),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value sq = arith::MulFOp::create(nb, nl, args[0], args[0]);
            linalg::YieldOp::create(
                nb, nl, Value(arith::AddFOp::create(nb, nl, args[1], sq)));
          });
      total = arith::AddFOp::create(
          b, loc, total,
          tensor::ExtractOp::create(b, loc, sum.getResult(0), ValueRange{}));
    }
    return total;
  }

  /// One fused elementwise generic: ins (p, g, state...), outs (p', state').
  SmallVector<Value> updateParam(OpBuilder &b, Location loc, Value param,
                                 Value grad, ArrayRef<Value> state,
                                 const Scalars &sc) {
    auto type = cast<RankedTensorType>(param.getType());
    SmallVector<Value> ins{param, grad};
    ins.append(state.begin(), state.end());
    SmallVector<Value> inits;
    for (unsigned i = 0; i < 1 + state.size(); ++i)
      inits.push_back(tensor::EmptyOp::create(
          b, loc, tensor::getMixedSizes(b, loc, param), type.getElementType()));
    AffineMap id = b.getMultiDimIdentityMap(type.getRank());
    SmallVector<AffineMap> maps(ins.size() + inits.size(), id);
    SmallVector<Type> resultTypes(inits.size(), type);
    auto generic = linalg::GenericOp::create(
        b, loc, resultTypes, ins, inits, maps,
        SmallVector<utils::IteratorType>(type.getRank(),
                                         utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, updateBody(nb, nl, args, sc));
        });
    return SmallVector<Value>(generic.getResults());
  }

  SmallVector<Value> updateBody(OpBuilder &b, Location loc, ValueRange args,
                                const Scalars &sc) {
    auto mul = [&](Value x, Value y) {
      return Value(arith::MulFOp::create(b, loc, x, y));
    };
    auto add = [&](Value x, Value y) {
      return Value(arith::AddFOp::create(b, loc, x, y));
    };
    auto sub = [&](Value x, Value y) {
      return Value(arith::SubFOp::create(b, loc, x, y));
    };
    Value p = args[0], g = args[1];
    if (sc.clipCoef)
      g = mul(g, sc.clipCoef);
    if (weightDecay > 0 && optKind != Kind::AdamW)
      g = add(g, mul(sc.wd, p));
    switch (optKind) {
    case Kind::SGD:
      return {sub(p, mul(sc.lr, g))};
    case Kind::Momentum: {
      Value buf = add(mul(sc.momentum, args[2]), g);
      return {sub(p, mul(sc.lr, buf)), buf};
    }
    case Kind::Adam:
    case Kind::AdamW: {
      Value m = add(mul(sc.beta1, args[2]), mul(sc.oneMinusBeta1, g));
      Value v = add(mul(sc.beta2, args[3]), mul(sc.oneMinusBeta2, mul(g, g)));
      Value denom =
          add(arith::DivFOp::create(b, loc, math::SqrtOp::create(b, loc, v),
                                    sc.bc2Sqrt),
              sc.eps);
      Value base = sc.decay ? mul(p, sc.decay) : p;
      Value delta = mul(sc.stepSize, arith::DivFOp::create(b, loc, m, denom));
      return {sub(base, delta), m, v};
    }
    }
    llvm_unreachable("covered switch");
  }

  Kind optKind = Kind::SGD;
};
} // namespace
