//===- ConvertToLLVM.cpp - convert-to-llvm, casts and attrs in one pass ---===//
//
// The last step of the CPU pipeline. Upstream does it in three passes
// (convert-to-llvm, reconcile-unrealized-casts, then mpt-strip-foreign-attrs),
// each followed by a verification of the whole module, by then the largest
// of the pipeline (about 24 LLVM ops per op of the step): most of their time.
// Here the same three rewrites run one after the other and the module is
// verified once. Then each llvm.extractvalue that reads a field of a memref
// descriptor from the llvm.insertvalue chain that built it is folded to the
// inserted value, and the chains left unused are erased: a fifth of the
// module, which every later step (verifier, printer, mlir-translate) would
// otherwise walk.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Conversion/ConvertToLLVM/ToLLVMInterface.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/DialectConversion.h"

#include <memory>

namespace mpt {
#define GEN_PASS_DEF_CONVERTTOLLVM
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
/// Folds each llvm.extractvalue of an llvm.insertvalue chain (the fold looks
/// through the chain for the position), then erases the inserts, and the
/// undef or poison at the root of their chain, that nothing uses any more.
void foldExtractsOfInserts(Operation *root) {
  SmallVector<LLVM::ExtractValueOp> extracts;
  SmallVector<Operation *> chains;
  root->walk([&](Operation *op) {
    if (auto extract = dyn_cast<LLVM::ExtractValueOp>(op)) {
      if (extract.getContainer().getDefiningOp<LLVM::InsertValueOp>())
        extracts.push_back(extract);
    } else if (isa<LLVM::InsertValueOp, LLVM::UndefOp, LLVM::PoisonOp>(op)) {
      chains.push_back(op);
    }
  });
  for (LLVM::ExtractValueOp extract : extracts) {
    SmallVector<OpFoldResult> folded;
    if (failed(extract->fold(folded)) || folded.size() != 1)
      continue; // Not folded, or folded in place (an earlier container).
    auto value = dyn_cast<Value>(folded.front());
    if (!value)
      continue;
    extract.getResult().replaceAllUsesWith(value);
    extract->erase();
  }
  // Users come after their operands in a block: erasing in reverse order
  // frees the earlier links of a chain before they are visited.
  for (Operation *op : llvm::reverse(chains))
    if (op->use_empty())
      op->erase();
}

struct ConvertToLLVMPass
    : public mpt::impl::ConvertToLLVMBase<ConvertToLLVMPass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registerConvertToLLVMDependentDialectLoading(registry);
    mpt::registerLargeStructAliases(registry);
  }

  /// As upstream's (static) convert-to-llvm: the patterns of every loaded
  /// dialect that implements `ConvertToLLVMPatternInterface`.
  LogicalResult initialize(MLIRContext *context) override {
    auto target = std::make_shared<ConversionTarget>(*context);
    auto converter = std::make_shared<LLVMTypeConverter>(context);
    RewritePatternSet set(context);
    target->addLegalDialect<LLVM::LLVMDialect>();
    for (Dialect *dialect : context->getLoadedDialects())
      if (auto *iface = dyn_cast<ConvertToLLVMPatternInterface>(dialect))
        iface->populateConvertToLLVMConversionPatterns(*target, *converter,
                                                       set);
    patterns = std::make_shared<FrozenRewritePatternSet>(std::move(set));
    this->target = target;
    typeConverter = converter;
    return success();
  }

  void runOnOperation() override {
    ConversionConfig config;
    config.allowPatternRollback = allowPatternRollback;
    if (failed(
            applyPartialConversion(getOperation(), *target, *patterns, config)))
      return signalPassFailure();
    SmallVector<UnrealizedConversionCastOp> casts;
    getOperation()->walk(
        [&](UnrealizedConversionCastOp cast) { casts.push_back(cast); });
    reconcileUnrealizedCasts(casts);
    numStripped += mpt::stripForeignAttrs(getOperation());
    foldExtractsOfInserts(getOperation());
    // The patterns materialize a constant at each use (a stride, a size):
    // 15% of the module. One of each per function is what LLVM makes of
    // them anyway.
    mpt::uniqueConstants(getOperation());
  }

  std::shared_ptr<const FrozenRewritePatternSet> patterns;
  std::shared_ptr<const ConversionTarget> target;
  /// The patterns refer to it.
  std::shared_ptr<const LLVMTypeConverter> typeConverter;
};
} // namespace
