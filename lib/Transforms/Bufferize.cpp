//===- Bufferize.cpp - One-Shot Bufferize, loop nests outermost first -----===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/Bufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mpt {
#define GEN_PASS_DEF_BUFFERIZE
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
namespace bz = mlir::bufferization;

namespace {
bool carriesTensors(scf::ForOp loop) {
  return llvm::any_of(loop.getInitArgs().getTypes(), llvm::IsaPred<TensorType>);
}

/// The tensor-carrying loops that enclose or contain another one, outermost
/// first.
SmallVector<scf::ForOp> collectNestedLoops(ModuleOp module) {
  SmallVector<scf::ForOp> loops;
  module.walk<WalkOrder::PreOrder>([&](scf::ForOp loop) {
    if (!carriesTensors(loop))
      return;
    bool outer = loop->getParentOfType<scf::ForOp>() &&
                 carriesTensors(loop->getParentOfType<scf::ForOp>());
    bool inner = false;
    loop.getBody()->walk([&](scf::ForOp nested) {
      inner |= carriesTensors(nested);
      return inner ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (outer || inner)
      loops.push_back(loop);
  });
  return loops;
}

/// Bufferizes one op through its interface, as `bufferizeOp` does.
LogicalResult bufferizeOne(Operation *op, RewriterBase &rewriter,
                           const bz::OneShotBufferizationOptions &options,
                           bz::BufferizationState &state) {
  auto bufferizable = options.dynCastBufferizableOp(op);
  if (!bufferizable)
    return op->emitError("not bufferizable");
  rewriter.setInsertionPoint(op);
  if (failed(bufferizable.bufferize(rewriter, options, state)))
    return op->emitError("failed to bufferize op");
  return success();
}

/// A destination-style op on tensors that bufferizes through its interface.
DestinationStyleOpInterface
getBufferizableDPS(Operation *op, const bz::BufferizationOptions &options) {
  auto dps = dyn_cast<DestinationStyleOpInterface>(op);
  if (!dps || !dps.hasPureTensorSemantics() ||
      !options.dynCastBufferizableOp(op))
    return {};
  return dps;
}

/// Whether `value` is used once, in the block that defines it.
bool hasOneLocalUse(Value value) {
  return value.hasOneUse() && value.getUses().begin()->getOwner()->getBlock() ==
                                  value.getParentBlock();
}

/// The destinations of DPS ops that belong to a chain owning its buffer:
/// the chain starts at an allocation (`tensor.empty`, `alloc_tensor`,
/// `from_elements`), and each of its values is used once, as the
/// destination of the next op, in the same block. No other op can read or
/// write that buffer, so every op of the chain bufferizes in place. Only
/// destinations that are results of a DPS op are returned: there the
/// analysis costs the length of the chain so far.
SmallVector<OpOperand *>
collectOwnedChainLinks(ModuleOp module,
                       const bz::BufferizationOptions &options) {
  DenseSet<Value> owned;
  SmallVector<OpOperand *> links;
  module.walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<tensor::EmptyOp, bz::AllocTensorOp, tensor::FromElementsOp>(op)) {
      for (Value result : op->getResults())
        if (hasOneLocalUse(result))
          owned.insert(result);
      return;
    }
    DestinationStyleOpInterface dps = getBufferizableDPS(op, options);
    if (!dps)
      return;
    for (OpOperand &init : dps.getDpsInitsMutable()) {
      Value dest = init.get();
      if (!owned.contains(dest))
        continue;
      auto type = dyn_cast<RankedTensorType>(dest.getType());
      if (type && type.hasStaticShape() && dest.getDefiningOp() &&
          getBufferizableDPS(dest.getDefiningOp(), options))
        links.push_back(&init);
      OpResult result = dps.getTiedOpResult(&init);
      if (result && hasOneLocalUse(result))
        owned.insert(result);
    }
  });
  return links;
}

/// One-Shot analysis, as `insertTensorCopies` runs it, except for the links
/// of owned chains. The analysis of an in-place write checks all pairs of
/// reads and writes of the buffer's aliases: along a chain of n ops that is
/// n^3 (the loss-scaling check threads its flag and sum through one
/// reduction per gradient). Each link reads a fresh placeholder during the
/// analysis instead, and gets its value back afterwards: in place, as the
/// analysis would have decided.
LogicalResult
analyzeAndInsertCopies(ModuleOp module,
                       const bz::OneShotBufferizationOptions &options,
                       bz::BufferizationState &state, int64_t &numLinks) {
  SmallVector<std::pair<Value, bz::AllocTensorOp>> placeholders;
  OpBuilder builder(module.getContext());
  for (OpOperand *link : collectOwnedChainLinks(module, options)) {
    builder.setInsertionPoint(link->getOwner());
    auto placeholder = bz::AllocTensorOp::create(
        builder, link->getOwner()->getLoc(),
        cast<RankedTensorType>(link->get().getType()), ValueRange{});
    placeholders.emplace_back(link->get(), placeholder);
    link->set(placeholder);
  }
  numLinks += placeholders.size();
  LogicalResult result = bz::insertTensorCopies(module, options, state);
  for (auto [value, placeholder] : placeholders) {
    placeholder.getResult().replaceAllUsesWith(value);
    placeholder.erase();
  }
  return result;
}

/// Removes `bufferization.writable` from the arguments of every function,
/// with one update of each function's argument attributes. Only the analysis
/// reads it. `bufferizeModuleOp` ends with
/// `removeBufferizationAttributesInModule`, which removes it argument by
/// argument, each time copying the attributes of all arguments: quadratic in
/// their number (a step has one per parameter), unless it is gone already.
void removeWritableArgAttrs(ModuleOp module) {
  StringRef name = bz::BufferizationDialect::kWritableAttrName;
  for (auto fn : module.getOps<FunctionOpInterface>()) {
    if (fn.getFunctionBody().empty())
      continue;
    SmallVector<DictionaryAttr> attrs;
    fn.getAllArgAttrs(attrs);
    bool changed = false;
    for (DictionaryAttr &dict : attrs) {
      if (!dict.get(name))
        continue;
      NamedAttrList list(dict);
      list.erase(name);
      dict = list.getDictionary(module.getContext());
      changed = true;
    }
    if (changed)
      fn.setAllArgAttrs(attrs);
  }
}

struct BufferizePass : public mpt::impl::BufferizeBase<BufferizePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bz::OneShotBufferizationOptions options;
    options.bufferizeFunctionBoundaries = true;
    options.setFunctionBoundaryTypeConversion(
        bz::LayoutMapOption::IdentityLayoutMap);
    options.allowReturnAllocsFromLoops = true;
    bz::BufferizationState state;
    // Analysis: every conflict becomes an explicit copy, after which ops
    // can be bufferized in any order.
    int64_t links = 0;
    if (failed(analyzeAndInsertCopies(module, options, state, links)))
      return signalPassFailure();
    numChainLinks += links;
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : collectNestedLoops(module)) {
      Operation *yield = loop.getBody()->getTerminator();
      if (failed(bufferizeOne(yield, rewriter, options, state)) ||
          failed(bufferizeOne(loop, rewriter, options, state)))
        return signalPassFailure();
      ++numNestedLoops;
    }
    removeWritableArgAttrs(module);
    if (failed(bz::bufferizeModuleOp(module, options, state)))
      return signalPassFailure();
  }
};
} // namespace
