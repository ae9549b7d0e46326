//===- SeedLinearity.cpp - How values depend on the backward seed ---------===//
//
// An abstract interpretation over the lattice Zero < {Free, Linear} <
// NonLinear, swept over the function until the values carried around loops
// and between blocks stop changing (every transfer function is monotone and
// the lattice has height two, so a few sweeps do).
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/SeedLinearity.h"
#include "mpt/Dialect/MPT/IR/MPTOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"
#include <map>

using namespace mlir;
using namespace mpt;

namespace {

SeedDep join(SeedDep a, SeedDep b) {
  return static_cast<SeedDep>(static_cast<uint8_t>(a) |
                              static_cast<uint8_t>(b));
}

bool readsSeed(SeedDep d) {
  return static_cast<uint8_t>(d) & static_cast<uint8_t>(SeedDep::Linear);
}

/// What a call of a callee with given argument dependences returns.
struct Summary {
  SmallVector<SeedDep> results;
  SmallVector<SeedDepOrigin> origins;
};

/// Shared by a function's analysis and those of the callees it reaches.
struct CallContext {
  SymbolTableCollection symbols;
  std::map<std::pair<Operation *, std::vector<uint8_t>>, Summary> summaries;
  DenseSet<Operation *> inProgress;
};

} // namespace

class SeedLinearity::Impl {
public:
  /// The analysis of a function; of a callee when `shared` is given.
  explicit Impl(CallContext *shared = nullptr)
      : owned(shared ? nullptr : std::make_unique<CallContext>()),
        context(shared ? *shared : *owned) {}

  /// Sweeps the body of `fn` until the values carried around loops and
  /// between blocks are stable.
  void run(FunctionOpInterface fn) {
    context.inProgress.insert(fn);
    do {
      changed = false;
      visitRegion(fn.getFunctionBody());
    } while (changed);
    context.inProgress.erase(fn);
  }

  SeedDep get(Value v) const {
    if (auto it = deps.find(v); it != deps.end())
      return it->second;
    // A block argument not reached yet (in a block only branches reach)
    // is the bottom of the lattice; anything else not assigned is free.
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (!arg.getOwner()->isEntryBlock())
        return SeedDep::Zero;
    return SeedDep::Free;
  }

  SeedDepOrigin getOrigin(Value v) const { return origins.lookup(v); }

  DenseMap<Value, SeedDep> deps;
  DenseSet<Value> seeds;
  std::optional<SeedDepOrigin> controlDependence;

private:
  /// Assigns `d` to `v`; a new NonLinear value takes its origin from a
  /// NonLinear input, or else from `op` with `reason`.
  void set(Value v, SeedDep d, Operation *op, ValueRange inputs = {},
           StringRef reason = "") {
    deps[v] = d;
    if (d != SeedDep::NonLinear)
      return;
    for (Value in : inputs)
      if (get(in) == SeedDep::NonLinear) {
        origins[v] = getOrigin(in);
        return;
      }
    // The payload of a named linalg op has no location of its own.
    while (isa<UnknownLoc>(op->getLoc()) && op->getParentOp())
      op = op->getParentOp();
    origins[v] = {op, reason.str()};
  }

  /// Joins `d` into a value carried around a loop or between blocks; when
  /// its users may have been visited already in this sweep (`revisit`), a
  /// change asks for another sweep.
  void raise(Value v, SeedDep d, Operation *op, ValueRange inputs,
             bool revisit) {
    SeedDep old = deps.lookup(v); // Zero when new
    SeedDep now = join(old, d);
    if (deps.count(v) && now == old)
      return;
    set(v, now, op, inputs,
        "carries a seed-derived value and one that does "
        "not depend on the seed");
    changed |= revisit;
  }

  void visitRegion(Region &region) {
    for (Block &block : region)
      for (Operation &op : block)
        visit(&op);
  }

  SeedDep joinAll(ValueRange values) {
    SeedDep d = SeedDep::Zero;
    for (Value v : values)
      d = join(d, get(v));
    return d;
  }

  void visit(Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case<arith::ConstantOp>([&](auto cst) { visitConstant(cst); })
        .Case<tensor::EmptyOp>([&](Operation *op) {
          // Undefined contents: any value, zero included, is a refinement.
          set(op->getResult(0), SeedDep::Zero, op);
        })
        .Case<tensor::DimOp>(
            [&](Operation *op) { set(op->getResult(0), SeedDep::Free, op); })
        .Case<LossGradOp>([&](LossGradOp seed) {
          set(seed, seeds.contains(seed) ? SeedDep::Linear : SeedDep::Free,
              seed);
        })
        .Case<arith::MulFOp, arith::MulIOp>([&](Operation *op) {
          set(op->getResult(0),
              multiply(get(op->getOperand(0)), get(op->getOperand(1))), op,
              op->getOperands(), "multiplies two seed-derived values");
        })
        .Case<arith::DivFOp>([&](arith::DivFOp div) { visitDiv(div); })
        .Case<math::FmaOp>([&](math::FmaOp fma) {
          SeedDep product = multiply(get(fma.getA()), get(fma.getB()));
          set(fma, join(product, get(fma.getC())), fma, fma->getOperands(),
              product == SeedDep::NonLinear
                  ? "multiplies two seed-derived values"
                  : "adds a term that does not depend on the seed to a "
                    "seed-derived one");
        })
        .Case<arith::AddFOp, arith::SubFOp, arith::AddIOp, arith::SubIOp>(
            [&](Operation *op) {
              set(op->getResult(0), joinAll(op->getOperands()), op,
                  op->getOperands(),
                  "adds a term that does not depend on the seed to a "
                  "seed-derived one");
            })
        .Case<arith::NegFOp, arith::TruncFOp, arith::ExtFOp, arith::SelectOp,
              tensor::ExtractSliceOp, tensor::ExtractOp, tensor::InsertOp,
              tensor::InsertSliceOp, tensor::ExpandShapeOp,
              tensor::CollapseShapeOp, tensor::ReshapeOp, tensor::CastOp,
              tensor::ConcatOp, tensor::FromElementsOp, tensor::SplatOp>(
            [&](Operation *op) { visitMove(op); })
        .Case<UnscaleCheckOp>([&](UnscaleCheckOp op) { visitUnscale(op); })
        .Case<shard::AllReduceOp>([&](shard::AllReduceOp op) {
          // A sum across ranks of values linear in the (same) seed is
          // linear in it; other reductions are not.
          if (op.getReduction() == shard::ReductionKind::Sum)
            visitMove(op);
          else
            visitOpaque(op);
        })
        .Case<linalg::LinalgOp>([&](linalg::LinalgOp op) { visitLinalg(op); })
        .Case<scf::ForOp>([&](scf::ForOp op) { visitFor(op); })
        .Case<scf::WhileOp>([&](scf::WhileOp op) { visitWhile(op); })
        .Case<scf::IfOp>([&](scf::IfOp op) { visitIf(op); })
        .Case<scf::ExecuteRegionOp>(
            [&](scf::ExecuteRegionOp op) { visitExecuteRegion(op); })
        .Case<tensor::PadOp>([&](tensor::PadOp op) { visitPad(op); })
        .Case<CallOpInterface>([&](CallOpInterface call) { visitCall(call); })
        .Case<BranchOpInterface>([&](BranchOpInterface br) { visitBranch(br); })
        .Default([&](Operation *op) { visitOpaque(op); });
  }

  void visitConstant(arith::ConstantOp cst) {
    bool zero = matchPattern(cst.getResult(), m_AnyZeroFloat()) ||
                matchPattern(cst.getResult(), m_Zero());
    set(cst, zero ? SeedDep::Zero : SeedDep::Free, cst);
  }

  static SeedDep multiply(SeedDep a, SeedDep b) {
    if (a == SeedDep::Zero || b == SeedDep::Zero)
      return SeedDep::Zero;
    if (readsSeed(a) && readsSeed(b))
      return SeedDep::NonLinear;
    return readsSeed(a) ? a : b; // free * free, free * linear
  }

  void visitDiv(arith::DivFOp div) {
    SeedDep num = get(div.getLhs()), den = get(div.getRhs());
    SeedDep d = num == SeedDep::Zero ? SeedDep::Zero
                : readsSeed(den)     ? SeedDep::NonLinear
                                     : num;
    set(div, d, div, div->getOperands(), "divides by a seed-derived value");
  }

  /// Data movement and linear unary ops: the result holds the values of
  /// its data operands (or their negation, or a rounding of them). The other
  /// operands (a select's condition, indices, sizes) say where, and must not
  /// depend on the seed.
  void visitMove(Operation *op) {
    Type elementType = getElementTypeOrSelf(op->getResult(0).getType());
    SeedDep d = SeedDep::Zero;
    bool steeredBySeed = false;
    for (Value v : op->getOperands()) {
      if (op->getNumOperands() == 1 ||
          getElementTypeOrSelf(v.getType()) == elementType)
        d = join(d, get(v));
      else
        steeredBySeed |= readsSeed(get(v));
    }
    if (steeredBySeed) {
      for (Value result : op->getResults())
        set(result, SeedDep::NonLinear, op, op->getOperands(),
            "selects or indexes with a value derived from the seed");
      return;
    }
    for (Value result : op->getResults())
      set(result, d, op, op->getOperands(),
          "combines a seed-derived value with one that does not depend on "
          "the seed");
  }

  void visitUnscale(UnscaleCheckOp op) {
    SeedDep scale = get(op.getScale());
    for (auto [grad, unscaled] : llvm::zip(op.getGrads(), op.getUnscaled()))
      set(unscaled, readsSeed(scale) ? SeedDep::NonLinear : get(grad), op,
          {grad, op.getScale()}, "divides by a seed-derived scale");
    opaqueResults(op, {op.getFoundInf(), op.getSumSq()}, op->getOperands());
  }

  /// The payload runs once per point of the iteration space: inputs are
  /// elements of the operands; an output is its init, or for a reduction
  /// the init joined with what the payload yields.
  void visitLinalg(linalg::LinalgOp op) {
    Block *body = op.getBlock();
    if (!body) {
      visitOpaque(op);
      return;
    }
    for (OpOperand *in : op.getDpsInputOperands())
      set(op.getMatchingBlockArgument(in), get(in->get()), op);
    bool reduces = op.getNumReductionLoops() > 0;
    for (OpOperand &init : op.getDpsInitsMutable())
      set(op.getMatchingBlockArgument(&init), get(init.get()), op);
    Operation *yield = body->getTerminator();
    // A reduction's accumulator: at most two raises (Zero -> Free or
    // Linear -> NonLinear).
    for (int round = 0; round < 3; ++round) {
      for (Operation &inner : body->without_terminator())
        visit(&inner);
      if (!reduces)
        break;
      bool stable = true;
      for (OpOperand &init : op.getDpsInitsMutable()) {
        BlockArgument acc = op.getMatchingBlockArgument(&init);
        Value yielded =
            yield->getOperand(acc.getArgNumber() - op.getNumDpsInputs());
        SeedDep now = join(get(acc), get(yielded));
        if (now != get(acc)) {
          set(acc, now, op, {yielded, init.get()},
              "accumulates a seed-derived value onto an init that does not "
              "depend on the seed");
          stable = false;
        }
      }
      if (stable)
        break;
    }
    for (auto [i, result] : llvm::enumerate(op->getResults())) {
      Value yielded = yield->getOperand(i);
      Value acc = op.getRegionOutputArgs()[i];
      SeedDep d = reduces ? join(get(acc), get(yielded)) : get(yielded);
      set(result, d, op, {yielded, acc},
          "accumulates a seed-derived value onto an init that does not "
          "depend on the seed");
    }
  }

  /// Results that depend on a condition (or a trip count) derived from the
  /// seed are non-linear in it.
  bool controlledBySeed(Operation *op, ValueRange controls) {
    for (Value c : controls)
      if (readsSeed(get(c))) {
        for (Value result : op->getResults())
          set(result, SeedDep::NonLinear, op, {c},
              "branches on a value derived from the seed");
        return true;
      }
    return false;
  }

  void visitFor(scf::ForOp op) {
    set(op.getInductionVar(), SeedDep::Free, op);
    for (auto [arg, init] : llvm::zip(op.getRegionIterArgs(), op.getInits()))
      raise(arg, get(init), op, {init}, /*revisit=*/false);
    visitRegion(op.getRegion());
    auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
    for (auto [arg, yielded] :
         llvm::zip(op.getRegionIterArgs(), yield.getOperands()))
      raise(arg, get(yielded), op, {yielded}, /*revisit=*/true);
    if (controlledBySeed(
            op, {op.getLowerBound(), op.getUpperBound(), op.getStep()}))
      return;
    for (auto [result, init, yielded] :
         llvm::zip(op.getResults(), op.getInits(), yield.getOperands()))
      set(result, join(get(init), get(yielded)), op, {init, yielded},
          "carries a seed-derived value and one that does not depend on the "
          "seed");
  }

  void visitWhile(scf::WhileOp op) {
    for (auto [arg, init] : llvm::zip(op.getBeforeArguments(), op.getInits()))
      raise(arg, get(init), op, {init}, /*revisit=*/false);
    visitRegion(op.getBefore());
    scf::ConditionOp cond = op.getConditionOp();
    for (auto [arg, forwarded] :
         llvm::zip(op.getAfterArguments(), cond.getArgs()))
      raise(arg, get(forwarded), op, {forwarded}, /*revisit=*/false);
    visitRegion(op.getAfter());
    for (auto [arg, yielded] :
         llvm::zip(op.getBeforeArguments(), op.getYieldOp().getOperands()))
      raise(arg, get(yielded), op, {yielded}, /*revisit=*/true);
    if (controlledBySeed(op, {cond.getCondition()}))
      return;
    for (auto [result, forwarded] : llvm::zip(op.getResults(), cond.getArgs()))
      set(result, get(forwarded), op, {forwarded});
  }

  void visitIf(scf::IfOp op) {
    visitRegion(op.getThenRegion());
    visitRegion(op.getElseRegion());
    if (controlledBySeed(op, {op.getCondition()}) || op.getNumResults() == 0)
      return;
    for (unsigned i = 0; i < op.getNumResults(); ++i) {
      Value a = op.thenYield().getOperand(i), b = op.elseYield().getOperand(i);
      set(op.getResult(i), join(get(a), get(b)), op, {a, b},
          "yields a seed-derived value in one branch and one that does not "
          "depend on the seed in the other");
    }
  }

  void visitExecuteRegion(scf::ExecuteRegionOp op) {
    visitRegion(op.getRegion());
    for (unsigned i = 0; i < op.getNumResults(); ++i) {
      SmallVector<Value> yielded;
      for (Block &block : op.getRegion())
        if (auto yield = dyn_cast<scf::YieldOp>(block.getTerminator()))
          yielded.push_back(yield.getOperand(i));
      set(op.getResult(i), joinAll(yielded), op, yielded,
          "yields a seed-derived value and one that does not depend on the "
          "seed");
    }
  }

  void visitPad(tensor::PadOp op) {
    visitRegion(op.getRegion());
    SmallVector<Value> inputs(op->getOperands());
    inputs.push_back(op.getBody()->getTerminator()->getOperand(0));
    set(op.getResult(), joinAll(inputs), op, inputs,
        "pads a seed-derived value with one that does not depend on the "
        "seed");
  }

  void visitBranch(BranchOpInterface br) {
    SmallVector<bool> forwarded(br->getNumOperands(), false);
    for (unsigned s = 0, e = br->getNumSuccessors(); s < e; ++s) {
      SuccessorOperands operands = br.getSuccessorOperands(s);
      Block *dest = br->getSuccessor(s);
      unsigned produced = operands.getProducedOperandCount();
      OperandRange values = operands.getForwardedOperands();
      for (auto [k, v] : llvm::enumerate(values)) {
        forwarded[values.getBeginOperandIndex() + k] = true;
        raise(dest->getArgument(produced + k), get(v), br, {v},
              /*revisit=*/true);
      }
    }
    if (br->getNumSuccessors() < 2 || controlDependence)
      return;
    for (OpOperand &use : br->getOpOperands())
      if (!forwarded[use.getOperandNumber()] && readsSeed(get(use.get())))
        controlDependence = {br, "branches on a value derived from the seed"};
  }

  void visitCall(CallOpInterface call) {
    auto callee = dyn_cast_or_null<FunctionOpInterface>(
        call.resolveCallableInTable(&context.symbols));
    ValueRange args = call.getArgOperands();
    if (!callee || callee.isExternal()) {
      opaqueResults(call, call->getResults(), args,
                    "calls a function whose body is not in the module with a "
                    "seed-derived argument");
      return;
    }
    std::vector<uint8_t> key;
    for (Value arg : args)
      key.push_back(static_cast<uint8_t>(get(arg)));
    if (context.inProgress.contains(callee)) {
      opaqueResults(call, call->getResults(), args,
                    "calls a function recursively with a seed-derived "
                    "argument");
      return;
    }
    const Summary &summary = summarize(callee, std::move(key));
    for (auto [i, result] : llvm::enumerate(call->getResults())) {
      deps[result] = summary.results[i];
      if (summary.results[i] == SeedDep::NonLinear)
        origins[result] = summary.origins[i];
    }
  }

  const Summary &summarize(FunctionOpInterface callee,
                           std::vector<uint8_t> key) {
    auto mapKey = std::make_pair(callee.getOperation(), key);
    if (auto it = context.summaries.find(mapKey); it != context.summaries.end())
      return it->second;
    Impl inner(&context);
    for (auto [arg, d] : llvm::zip(callee.getArguments(), key))
      inner.deps[arg] = static_cast<SeedDep>(d);
    inner.run(callee);
    Summary summary;
    summary.results.assign(callee.getNumResults(), SeedDep::Zero);
    summary.origins.resize(callee.getNumResults());
    callee.getFunctionBody().walk([&](Operation *op) {
      if (!op->hasTrait<OpTrait::ReturnLike>() ||
          op->getParentOp() != callee.getOperation())
        return;
      for (auto [i, v] : llvm::enumerate(op->getOperands())) {
        SeedDep d = inner.get(v);
        if (inner.controlDependence) {
          d = SeedDep::NonLinear;
          summary.origins[i] = *inner.controlDependence;
        } else if (d == SeedDep::NonLinear) {
          summary.origins[i] = inner.getOrigin(v);
        }
        if (join(summary.results[i], d) == SeedDep::NonLinear &&
            d != SeedDep::NonLinear && !summary.origins[i].op)
          summary.origins[i] = {op, "returns a seed-derived value here and "
                                    "one that does not depend on the seed "
                                    "elsewhere"};
        summary.results[i] = join(summary.results[i], d);
      }
    });
    return context.summaries[mapKey] = std::move(summary);
  }

  /// Results of an op that is not linear in anything: non-linear when it
  /// reads the seed, free otherwise.
  void opaqueResults(Operation *op, ValueRange results, ValueRange inputs,
                     StringRef reason = "") {
    std::string why = reason.str();
    if (why.empty())
      why = ("'" + op->getName().getStringRef() +
             "' is not linear and reads a seed-derived value")
                .str();
    SeedDep d = readsSeed(joinAll(inputs)) ? SeedDep::NonLinear : SeedDep::Free;
    for (Value result : results)
      set(result, d, op, inputs, why);
  }

  /// Any other op: its regions are visited for the values they compute, and
  /// its results read its operands and what its regions read from outside.
  void visitOpaque(Operation *op) {
    SmallVector<Value> inputs(op->getOperands());
    for (Region &region : op->getRegions()) {
      visitRegion(region);
      region.walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (!op->isAncestor(v.getParentRegion()->getParentOp()))
            inputs.push_back(v);
      });
    }
    opaqueResults(op, op->getResults(), inputs);
  }

  std::unique_ptr<CallContext> owned;
  CallContext &context;
  DenseMap<Value, SeedDepOrigin> origins;
  bool changed = false;
};

SeedLinearity::SeedLinearity(FunctionOpInterface fn, ArrayRef<Value> seeds) {
  impl = std::make_unique<Impl>();
  for (Value seed : seeds) {
    impl->seeds.insert(seed);
    impl->deps[seed] = SeedDep::Linear;
  }
  impl->run(fn);
}

SeedLinearity::~SeedLinearity() = default;

SeedDep SeedLinearity::get(Value v) const { return impl->get(v); }

SeedDepOrigin SeedLinearity::getOrigin(Value v) const {
  return impl->getOrigin(v);
}

std::optional<SeedDepOrigin> SeedLinearity::getControlDependence() const {
  return impl->controlDependence;
}
