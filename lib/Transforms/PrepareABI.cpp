//===- PrepareABI.cpp - Calling convention of public functions -*- C++ -*-===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mpt {
#define GEN_PASS_DEF_PREPAREABI
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
struct PrepareABIPass : public mpt::impl::PrepareABIBase<PrepareABIPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn.isPublic() || fn.isExternal())
        continue;
      ++numFunctions;
      if (cInterface)
        fn->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&getContext()));
      if (!writableArgs)
        protectArguments(fn);
    }
  }

  /// Updates all argument attributes at once: `setArgAttr` copies the
  /// attributes of every argument, quadratic in their number.
  void protectArguments(func::FuncOp fn) {
    StringRef name = bufferization::BufferizationDialect::kWritableAttrName;
    auto notWritable = BoolAttr::get(&getContext(), false);
    SmallVector<DictionaryAttr> attrs;
    fn.getAllArgAttrs(attrs);
    int64_t protectedArgs = 0;
    for (auto [dict, type] : llvm::zip(attrs, fn.getArgumentTypes())) {
      if (!isa<TensorType>(type) || dict.get(name))
        continue;
      NamedAttrList list(dict);
      list.set(name, notWritable);
      dict = list.getDictionary(&getContext());
      ++protectedArgs;
    }
    if (protectedArgs)
      fn.setAllArgAttrs(attrs);
    numProtected += protectedArgs;
  }
};
} // namespace
