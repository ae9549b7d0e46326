//===- ConvertToLLVM.cpp - convert-to-llvm, casts and attrs in one pass ---===//
//
// The last step of the CPU pipeline. Upstream does it in three passes
// (convert-to-llvm, reconcile-unrealized-casts, then mpt-strip-foreign-attrs),
// each followed by a verification of the whole module, by then the largest
// of the pipeline (about 24 LLVM ops per op of the step): most of their time.
// Here the same three rewrites run one after the other and the module is
// verified once.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Conversion/ConvertToLLVM/ToLLVMInterface.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/DialectConversion.h"

#include <memory>

namespace mpt {
#define GEN_PASS_DEF_CONVERTTOLLVM
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
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
