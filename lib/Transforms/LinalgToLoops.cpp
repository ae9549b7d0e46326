//===- LinalgToLoops.cpp - Linalg ops on buffers to scf.for, in one walk --===//
//
// Upstream `convert-linalg-to-loops` applies its pattern with the greedy
// driver, which also tries to fold every op of the module, simplifies the
// regions and starts over until nothing changes: at least two full sweeps
// and a region simplification for one rewrite per linalg op. This pass
// rewrites each linalg op once with the same function
// (`linalg::linalgOpToLoops`) and then gives each constant one definition
// per function, as the greedy driver's folder does.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/FoldUtils.h"

namespace mpt {
#define GEN_PASS_DEF_LINALGTOLOOPS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
/// Records the ops a rewrite creates and leaves in place.
struct Recorder : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint previous) override {
    created.push_back(op);
  }
  void notifyOperationErased(Operation *op) override { erased.insert(op); }

  /// The ops created since the last call, in order.
  SmallVector<Operation *> take() {
    SmallVector<Operation *> ops;
    for (Operation *op : created)
      if (!erased.contains(op))
        ops.push_back(op);
    created.clear();
    erased.clear();
    return ops;
  }

  SmallVector<Operation *> created;
  DenseSet<Operation *> erased;
};

/// Replaces `op` by what it folds to, if it folds away.
bool foldAway(Operation *op, OpBuilder &builder) {
  SmallVector<OpFoldResult> folded;
  if (op->getNumRegions() || op->hasTrait<OpTrait::ConstantLike>() ||
      failed(op->fold(folded)) || folded.empty())
    return false;
  SmallVector<Value> values;
  SmallVector<Operation *> constants;
  builder.setInsertionPoint(op);
  for (auto [result, fold] : llvm::zip(op->getResults(), folded)) {
    if (auto value = dyn_cast<Value>(fold)) {
      // A result of `op` itself: folded in place, nothing to replace.
      if (value.getDefiningOp() == op)
        break;
      values.push_back(value);
      continue;
    }
    Operation *constant = op->getDialect()->materializeConstant(
        builder, cast<Attribute>(fold), result.getType(), op->getLoc());
    if (!constant)
      break;
    constants.push_back(constant);
    values.push_back(constant->getResult(0));
  }
  if (values.size() != op->getNumResults()) {
    for (Operation *constant : constants)
      constant->erase();
    return false;
  }
  op->replaceAllUsesWith(values);
  op->erase();
  return true;
}

struct LinalgToLoopsPass
    : public mpt::impl::LinalgToLoopsBase<LinalgToLoopsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    Recorder recorder;
    IRRewriter rewriter(&getContext(), &recorder);
    for (linalg::LinalgOp op : ops) {
      rewriter.setInsertionPoint(op);
      // As upstream: an op that cannot be lowered stays (and fails the
      // conversion to LLVM later, with its name).
      if (failed(linalg::linalgOpToLoops(rewriter, op))) {
        (void)recorder.take();
        continue;
      }
      rewriter.eraseOp(op);
      SmallVector<Operation *> created = recorder.take();
      cleanUp(created);
      ++numLowered;
    }
    mpt::uniqueConstants(getOperation());
  }

  /// What the greedy driver of `convert-linalg-to-loops` does to the new
  /// ops: folds them (an index that is a loop's induction variable, a size
  /// that is a constant) and erases those left unused (the load of a
  /// destination that the payload does not read).
  void cleanUp(MutableArrayRef<Operation *> created) {
    OpBuilder builder(&getContext());
    for (Operation *&op : created)
      if (foldAway(op, builder))
        op = nullptr;
    for (Operation *&op : llvm::reverse(created))
      if (op && isOpTriviallyDead(op)) {
        op->erase();
        op = nullptr;
      }
  }
};
} // namespace

void mpt::uniqueConstants(Operation *root) {
  SmallVector<std::pair<Operation *, Attribute>> constants;
  root->walk([&](Operation *op) {
    Attribute value;
    if (matchPattern(op, m_Constant(&value)))
      constants.emplace_back(op, value);
  });
  OperationFolder folder(root->getContext());
  for (auto [op, value] : constants)
    folder.insertKnownConstant(op, value);
}
