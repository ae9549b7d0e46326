//===- StripForeignAttrs.cpp - Keep lowered IR parseable by LLVM tools ----===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinDialect.h"

namespace mpt {
#define GEN_PASS_DEF_STRIPFOREIGNATTRS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
bool isForeign(Attribute value) {
  Dialect &dialect = value.getDialect();
  return !isa<BuiltinDialect, LLVM::LLVMDialect>(dialect);
}

struct StripForeignAttrsPass
    : public mpt::impl::StripForeignAttrsBase<StripForeignAttrsPass> {
  void runOnOperation() override {
    getOperation()->walk([&](Operation *op) {
      SmallVector<StringAttr> names;
      for (NamedAttribute attr : op->getDiscardableAttrs())
        if (isForeign(attr.getValue()))
          names.push_back(attr.getName());
      for (StringAttr name : names)
        op->removeDiscardableAttr(name);
      numStripped += names.size();
    });
  }
};
} // namespace
