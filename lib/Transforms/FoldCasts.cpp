//===- FoldCasts.cpp - Fold, deduplicate and hoist float casts ------------===//

#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mpt {
#define GEN_PASS_DEF_FOLDCASTS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

class CastFolder {
public:
  CastFolder(FunctionOpInterface fn, bool allowExcessPrecision)
      : fn(fn), allowExcessPrecision(allowExcessPrecision) {}

  int64_t run() {
    // Folding can expose new round trips; two rounds reach a fixed point
    // for the casts mpt inserts.
    for (int round = 0; round < 2; ++round) {
      foldEach();
      dedupe();
    }
    return removed;
  }

private:
  /// Casts outside linalg bodies, in program order.
  SmallVector<Operation *> collect() {
    SmallVector<Operation *> casts;
    fn->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<linalg::LinalgOp>(op))
        return WalkResult::skip();
      if (isFloatCast(op))
        casts.push_back(op);
      return WalkResult::advance();
    });
    return casts;
  }

  void replace(Operation *cast, Value with) {
    cast->getResult(0).replaceAllUsesWith(with);
    cast->erase();
    ++removed;
  }

  /// The source of a folded cast goes when nothing else uses it.
  static void eraseIfDead(Operation *op) {
    if (op->use_empty())
      op->erase();
  }

  void foldEach() {
    for (Operation *cast : collect()) {
      Value in = cast->getOperand(0);
      Type type = cast->getResult(0).getType();
      if (cast->use_empty()) {
        cast->erase();
        ++removed;
        continue;
      }
      Operation *def = in.getDefiningOp();
      // truncf(extf(x)) is exact; extf(truncf(x)) rounds.
      if (def && isFloatCast(def) && def->getOperand(0).getType() == type &&
          (isa<arith::TruncFOp>(cast) || allowExcessPrecision)) {
        replace(cast, def->getOperand(0));
        continue;
      }
      if (auto cst = dyn_cast_or_null<arith::ConstantOp>(def)) {
        if (TypedAttr value = convertFloatConstant(cst.getValue(), type)) {
          OpBuilder b(cast);
          replace(cast,
                  arith::ConstantOp::create(b, cast->getLoc(), type, value));
          eraseIfDead(cst);
        }
        continue;
      }
      if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(def)) {
        OpBuilder b(cast);
        auto tensorType = llvm::cast<RankedTensorType>(type);
        replace(cast, tensor::EmptyOp::create(b, cast->getLoc(), tensorType,
                                              empty.getDynamicSizes()));
        eraseIfDead(empty);
      }
    }
  }

  /// One cast per (value, type), right after the value's definition.
  void dedupe() {
    DenseMap<std::pair<Value, Type>, Operation *> first;
    for (Operation *cast : collect()) {
      Value in = cast->getOperand(0);
      auto key = std::make_pair(in, cast->getResult(0).getType());
      auto [it, inserted] = first.try_emplace(key, cast);
      if (inserted) {
        hoist(cast, in);
        continue;
      }
      replace(cast, it->second->getResult(0));
    }
  }

  void hoist(Operation *cast, Value in) {
    if (auto arg = dyn_cast<BlockArgument>(in)) {
      Block *block = arg.getOwner();
      if (cast->getBlock() != block || !isAfterCastsAtStart(cast, block))
        cast->moveBefore(block, getArgumentCastPoint(block));
      return;
    }
    Operation *def = in.getDefiningOp();
    if (cast->getPrevNode() != def && !isCastChainAfter(def, cast))
      cast->moveAfter(def);
  }

  static bool isAfterCastsAtStart(Operation *cast, Block *block) {
    for (Operation &op : *block) {
      if (&op == cast)
        return true;
      if (!isFloatCast(&op) || !isa<BlockArgument>(op.getOperand(0)))
        return false;
    }
    return false;
  }

  /// Whether `cast` already sits in the run of casts right after `def`.
  static bool isCastChainAfter(Operation *def, Operation *cast) {
    for (Operation *op = def->getNextNode(); op && isFloatCast(op);
         op = op->getNextNode())
      if (op == cast)
        return true;
    return false;
  }

  FunctionOpInterface fn;
  bool allowExcessPrecision;
  int64_t removed = 0;
};

struct FoldCastsPass : public mpt::impl::FoldCastsBase<FoldCastsPass> {
  using Base::Base;

  void runOnOperation() override {
    int64_t removed = 0;
    for (auto fn : getOperation().getOps<FunctionOpInterface>())
      if (!fn.isExternal())
        removed += CastFolder(fn, allowExcessPrecision).run();
    numRemoved += removed;
    addToReport(getOperation(), "casts_removed", removed);
  }
};
} // namespace
