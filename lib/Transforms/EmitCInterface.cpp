//===- EmitCInterface.cpp - C entry points for public functions -*- C++ -*-===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mpt {
#define GEN_PASS_DEF_EMITCINTERFACE
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
struct EmitCInterfacePass
    : public mpt::impl::EmitCInterfaceBase<EmitCInterfacePass> {
  void runOnOperation() override {
    StringRef name = LLVM::LLVMDialect::getEmitCWrapperAttrName();
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (!fn.isPublic() || fn.isExternal() || fn->hasAttr(name))
        continue;
      fn->setAttr(name, UnitAttr::get(&getContext()));
      ++numMarked;
    }
  }
};
} // namespace
