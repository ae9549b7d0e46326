//===- StripForeignAttrs.cpp - Keep lowered IR parseable by LLVM tools ----===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpImplementation.h"

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

/// Literal structs with at least this many members are printed as aliases.
constexpr unsigned kMinAliasedMembers = 16;

/// A function with n results returns a literal struct of n memref
/// descriptors, built by n `llvm.insertvalue`s that each print the whole
/// type: text (and the parse of it) quadratic in n, 600 MB for a 100k-op
/// step. As an alias the type is printed once.
struct LargeStructAlias
    : public OpAsmTypeInterface::ExternalModel<LargeStructAlias,
                                               LLVM::LLVMStructType> {
  OpAsmAliasResult getAlias(Type type, raw_ostream &os) const {
    auto structType = cast<LLVM::LLVMStructType>(type);
    if (structType.isIdentified() ||
        structType.getBody().size() < kMinAliasedMembers)
      return OpAsmAliasResult::NoAlias;
    os << "llvm_struct";
    return OpAsmAliasResult::FinalAlias;
  }
};

struct LargeStructAliases
    : public DialectExtension<LargeStructAliases, LLVM::LLVMDialect> {
  void apply(MLIRContext *context, LLVM::LLVMDialect *) const final {
    LLVM::LLVMStructType::attachInterface<LargeStructAlias>(*context);
  }
};

struct StripForeignAttrsPass
    : public mpt::impl::StripForeignAttrsBase<StripForeignAttrsPass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    mpt::registerLargeStructAliases(registry);
  }

  void runOnOperation() override {
    int64_t stripped = mpt::stripForeignAttrs(getOperation());
    numStripped += stripped;
    // Unchanged IR needs no second verification.
    if (!stripped)
      markAllAnalysesPreserved();
  }
};
} // namespace

int64_t mpt::stripForeignAttrs(Operation *root) {
  int64_t stripped = 0;
  root->walk([&](Operation *op) {
    SmallVector<StringAttr> names;
    for (NamedAttribute attr : op->getDiscardableAttrs())
      if (isForeign(attr.getValue()))
        names.push_back(attr.getName());
    for (StringAttr name : names)
      op->removeDiscardableAttr(name);
    stripped += names.size();
  });
  return stripped;
}

void mpt::registerLargeStructAliases(DialectRegistry &registry) {
  registry.addExtensions<LargeStructAliases>();
}
