//===- Bufferize.cpp - One-Shot Bufferize, loop nests outermost first -----===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/Transforms/Bufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotModuleBufferize.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/CallInterfaces.h"
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

/// Whether `analyzeCallFreeModule` may stand in for One-Shot Module
/// analysis: no op calls a function, and every function is a direct child of
/// the module. Upstream then analyzes the functions one by one, in no
/// particular order, and nothing it learns about one is read while analyzing
/// another (only calls read the results of the function-boundary analysis).
bool isCallFree(ModuleOp module) {
  return !module
              .walk([&](Operation *op) {
                if (isa<CallOpInterface>(op) ||
                    (isa<func::FuncOp>(op) && op->getParentOp() != module))
                  return WalkResult::interrupt();
                return WalkResult::advance();
              })
              .wasInterrupted();
}

/// Records which tensor arguments of `fn` alias (or are equivalent to) which
/// returned values, as `aliasingFuncOpBBArgsAnalysis` of One-Shot Module
/// Bufferize does. Upstream asks the analysis about every pair of a tensor
/// argument and a returned tensor, twice: (arguments x results) lookups, and
/// a step of n ops has about n/33 of each (0.4 s of a 100k-op step). Here the
/// alias set and the equivalence class of each argument are enumerated once
/// (an argument in the set of an earlier argument shares it), which gives the
/// same pairs: linear in the size of the sets.
LogicalResult
analyzeFunctionBoundary(func::FuncOp fn, const bz::OneShotAnalysisState &state,
                        bz::func_ext::FuncAnalysisState &funcState) {
  if (fn.getBody().empty()) {
    // No body: every tensor result may alias every tensor argument.
    FunctionType type = fn.getFunctionType();
    for (auto [argIdx, argType] : llvm::enumerate(type.getInputs())) {
      if (!isa<TensorType>(argType))
        continue;
      for (auto [resultIdx, resultType] : llvm::enumerate(type.getResults()))
        if (isa<TensorType>(resultType))
          funcState.aliasingReturnVals[fn][argIdx].push_back(resultIdx);
    }
    return success();
  }
  SmallVector<func::ReturnOp> returnOps = bz::getReturnOps(fn);
  if (returnOps.empty())
    return fn->emitError("cannot bufferize func.func without func.return");

  // Where each returned value occurs: (return op, operand number).
  DenseMap<Value, SmallVector<std::pair<unsigned, int64_t>, 1>> returned;
  for (auto [opIdx, returnOp] : llvm::enumerate(returnOps))
    for (OpOperand &operand : returnOp->getOpOperands())
      if (isa<RankedTensorType>(operand.get().getType()))
        returned[operand.get()].emplace_back(opIdx, operand.getOperandNumber());

  // Aliasing: for each ranked tensor argument, the operand numbers of its
  // aliases among the returned values, each once, in the order upstream
  // finds them (return op by return op, operand by operand).
  DenseMap<Value, SmallVector<int64_t>> aliasesOfSet;
  DenseMap<Value, Value> setOf; // Argument -> first argument of its set.
  for (BlockArgument arg : fn.getArguments()) {
    if (!isa<RankedTensorType>(arg.getType()))
      continue;
    Value first = setOf.lookup(arg);
    if (!first) {
      first = arg;
      SmallVector<std::pair<unsigned, int64_t>> found;
      state.applyOnAliases(arg, [&](Value alias) {
        if (auto bbArg = dyn_cast<BlockArgument>(alias);
            bbArg && bbArg.getOwner() == &fn.getBody().front())
          setOf.try_emplace(bbArg, arg);
        auto it = returned.find(alias);
        if (it != returned.end())
          llvm::append_range(found, it->second);
      });
      llvm::sort(found);
      SmallVector<int64_t> &aliases = aliasesOfSet[arg];
      DenseSet<int64_t> seen;
      for (auto [opIdx, operandIdx] : found)
        if (seen.insert(operandIdx).second)
          aliases.push_back(operandIdx);
    }
    const SmallVector<int64_t> &aliases = aliasesOfSet[first];
    if (!aliases.empty())
      llvm::append_range(funcState.aliasingReturnVals[fn][arg.getArgNumber()],
                         aliases);
  }

  // Equivalence: each tensor value equivalent to a ranked tensor argument,
  // with the first such argument (upstream's choice).
  DenseMap<Value, int64_t> firstEquivalentArg;
  for (BlockArgument arg : fn.getArguments()) {
    if (!isa<RankedTensorType>(arg.getType()) || firstEquivalentArg.count(arg))
      continue;
    state.applyOnEquivalenceClass(arg, [&](Value member) {
      firstEquivalentArg.try_emplace(member, arg.getArgNumber());
    });
  }
  auto equivalentArg = [&](Value v) -> std::optional<int64_t> {
    if (!isa<TensorType>(v.getType()))
      return std::nullopt;
    auto it = firstEquivalentArg.find(v);
    if (it == firstEquivalentArg.end())
      return std::nullopt;
    return it->second;
  };
  // The i-th returned value counts if all return ops agree on its argument.
  for (int64_t i = 0, e = returnOps.front()->getNumOperands(); i < e; ++i) {
    std::optional<int64_t> arg =
        equivalentArg(returnOps.front()->getOperand(i));
    if (!arg)
      continue;
    if (llvm::all_of(ArrayRef(returnOps).drop_front(),
                     [&](func::ReturnOp returnOp) {
                       return equivalentArg(returnOp->getOperand(i)) == arg;
                     }))
      funcState.equivalentFuncArgs[fn][i] = *arg;
  }
  return success();
}

/// Records which tensor arguments of `fn` are read and written, as
/// `funcOpBbArgReadWriteAnalysis` of One-Shot Module Bufferize does.
void analyzeArgumentAccess(func::FuncOp fn,
                           const bz::OneShotAnalysisState &state,
                           bz::func_ext::FuncAnalysisState &funcState) {
  FunctionType type = fn.getFunctionType();
  for (int64_t idx = 0, e = type.getNumInputs(); idx < e; ++idx) {
    if (!isa<TensorType>(type.getInput(idx)))
      continue;
    bool isRead, isWritten;
    if (auto access = fn.getArgAttrOfType<StringAttr>(
            idx, bz::BufferizationDialect::kBufferAccessAttrName)) {
      StringRef str = access.getValue();
      isRead = str == "read" || str == "read-write";
      isWritten = str == "write" || str == "read-write";
    } else if (fn.getBody().empty()) {
      isRead = isWritten = true;
    } else {
      BlockArgument arg = fn.getArgument(idx);
      isRead = state.isValueRead(arg);
      isWritten = state.isValueWritten(arg);
    }
    if (isRead)
      funcState.readBbArgs[fn].insert(idx);
    if (isWritten)
      funcState.writtenBbArgs[fn].insert(idx);
  }
}

/// `insertTensorCopies` with function boundaries: One-Shot Module analysis,
/// then the copies. For a module without calls, the analysis runs here, as
/// upstream's `analyzeModuleOp` does it but for the function-boundary
/// analysis (`analyzeFunctionBoundary`); with calls, upstream's.
LogicalResult
insertTensorCopiesInModule(ModuleOp module,
                           const bz::OneShotBufferizationOptions &options,
                           bz::BufferizationState &state) {
  if (options.testAnalysisOnly || !isCallFree(module))
    return bz::insertTensorCopies(module, options, state);
  bz::OneShotAnalysisState analysis(module, options);
  auto &funcState = analysis.addExtension<bz::func_ext::FuncAnalysisState>();
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (!options.isOpAllowed(fn))
      continue;
    funcState.startFunctionAnalysis(fn);
    if (failed(bz::analyzeOp(fn, analysis)) ||
        failed(analyzeFunctionBoundary(fn, analysis, funcState)))
      return failure();
    analyzeArgumentAccess(fn, analysis, funcState);
    funcState.analyzedFuncOps[fn] = bz::func_ext::FuncOpAnalysisState::Analyzed;
  }
  return bz::insertTensorCopies(module, analysis, state);
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
  LogicalResult result = insertTensorCopiesInModule(module, options, state);
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
