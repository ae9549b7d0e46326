//===- SplitDeallocs.cpp - Split large dealloc ops in linear time ---------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <optional>

namespace mpt {
#define GEN_PASS_DEF_SPLITDEALLOCS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
namespace bz = mlir::bufferization;

namespace {
/// The value a buffer is a view of (as upstream's simplification sees it).
Value getViewBase(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>()) {
    if (value != view.getViewDest())
      break;
    value = view.getViewSource();
  }
  return value;
}

/// The allocation a buffer is a view of, or null if it is not (only) one.
Value getAllocation(Value value) {
  Value base = getViewBase(value);
  Operation *def = base.getDefiningOp();
  if (def && hasEffect<MemoryEffects::Allocate>(def, base))
    return base;
  return {};
}

/// Upstream's `distinctAllocAndBlockArgument`: an allocation nested in the
/// block that owns a block argument is a different buffer from it.
bool distinctAllocAndBlockArgument(Value v1, Value v2) {
  auto distinct = [](Value alloc, Value arg) {
    Operation *def = alloc.getDefiningOp();
    auto bbArg = dyn_cast<BlockArgument>(arg);
    return def && bbArg && hasEffect<MemoryEffects::Allocate>(def, alloc) &&
           bbArg.getOwner()->findAncestorOpInBlock(*def);
  };
  Value b1 = getViewBase(v1), b2 = getViewBase(v2);
  return distinct(b1, b2) || distinct(b2, b1);
}

struct SplitDeallocsPass
    : public mpt::impl::SplitDeallocsBase<SplitDeallocsPass> {
  void runOnOperation() override {
    SmallVector<bz::DeallocOp> deallocs;
    getOperation()->walk([&](bz::DeallocOp op) { deallocs.push_back(op); });
    bool changed = false;
    for (bz::DeallocOp op : deallocs)
      changed |= split(op);
    if (!changed)
      markAllAnalysesPreserved();
  }

  /// True if `memref` is known to be a different buffer from `other`.
  bool provablyDistinct(Value memref, Value other) {
    if (distinctAllocAndBlockArgument(memref, other))
      return true;
    if (!origins)
      origins.emplace(getOperation());
    return origins->isSameAllocation(memref, other) == false;
  }

  /// Returns whether `op` was split.
  bool split(bz::DeallocOp op);

  /// Created on first use: most ops need no query.
  std::optional<BufferOriginAnalysis> origins;
};

bool SplitDeallocsPass::split(bz::DeallocOp op) {
  ValueRange retained = op.getRetained();
  if (DenseSet<Value>(retained.begin(), retained.end()).size() !=
      retained.size())
    return false; // Each updated condition must stay attached to one value.
  // Retained values and other memrefs by allocation; the rest ("unknown")
  // are asked of the origin analysis.
  DenseMap<Value, SmallVector<unsigned>> retainedByAlloc;
  SmallVector<Value> unknownRetained, unknownMemrefs;
  for (auto [i, value] : llvm::enumerate(retained)) {
    if (Value alloc = getAllocation(value))
      retainedByAlloc[alloc].push_back(i);
    else
      unknownRetained.push_back(value);
  }
  DenseMap<Value, unsigned> memrefsByAlloc;
  for (Value memref : op.getMemrefs()) {
    if (Value alloc = getAllocation(memref))
      ++memrefsByAlloc[alloc];
    else
      unknownMemrefs.push_back(memref);
  }

  OpBuilder builder(op);
  SmallVector<Value> keptMemrefs, keptConditions;
  SmallVector<SmallVector<Value>> extraConditions(retained.size());
  for (auto [memref, cond] : llvm::zip(op.getMemrefs(), op.getConditions())) {
    Value alloc = getAllocation(memref);
    auto distinct = [&](Value other) {
      return other == memref ? false : provablyDistinct(memref, other);
    };
    bool separable = alloc && memrefsByAlloc[alloc] == 1 &&
                     llvm::all_of(unknownMemrefs, distinct) &&
                     llvm::all_of(unknownRetained, distinct);
    if (!separable) {
      keptMemrefs.push_back(memref);
      keptConditions.push_back(cond);
      continue;
    }
    auto it = retainedByAlloc.find(alloc);
    if (it == retainedByAlloc.end()) {
      bz::DeallocOp::create(builder, op.getLoc(), ValueRange{memref},
                            ValueRange{cond}, ValueRange{});
      ++numSplit;
      continue;
    }
    // The same buffer as these retained values: never freed here; they
    // become owned where `memref` was.
    for (unsigned i : it->second)
      extraConditions[i].push_back(cond);
    ++numRetained;
  }
  if (keptMemrefs.size() == op.getMemrefs().size())
    return false;
  auto kept = bz::DeallocOp::create(builder, op.getLoc(), keptMemrefs,
                                    keptConditions, retained);
  builder.setInsertionPointAfter(kept);
  SmallVector<Value> updated(kept.getUpdatedConditions());
  for (auto [value, extra] : llvm::zip(updated, extraConditions))
    for (Value cond : extra)
      value = arith::OrIOp::create(builder, op.getLoc(), value, cond);
  op->replaceAllUsesWith(updated);
  op->erase();
  return true;
}
} // namespace
