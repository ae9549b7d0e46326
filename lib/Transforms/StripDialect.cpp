//===- StripDialect.cpp - Leave no trace of mpt in a lowered step ---------===//
//
// The last pass of `mpt-export`: after mpt-lower-ops only attributes of the
// mpt dialect are left (roles, precision marks, the report); they go, so
// that a compiler without the dialect (IREE) takes the module. An mpt op
// still present is an error: dropping it would change the step.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/CallInterfaces.h"

namespace mpt {
#define GEN_PASS_DEF_STRIPDIALECT
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {
bool isMPTAttr(NamedAttribute attr) {
  return attr.getName().getValue().starts_with("mpt.") ||
         isa<MPTDialect>(attr.getValue().getDialect());
}

bool isRoleAttr(StringRef name) {
  return name == MPTDialect::kRoleAttrName ||
         name == MPTDialect::kGradOfAttrName ||
         name == MPTDialect::kUpdatesAttrName ||
         name == MPTDialect::kCopyOfAttrName;
}

struct StripDialectPass : public mpt::impl::StripDialectBase<StripDialectPass> {
  using StripDialectBase::StripDialectBase;

  void runOnOperation() override {
    // Check first, so that a failing module is left as it was.
    WalkResult found = getOperation()->walk([](Operation *op) {
      if (op->getName().getDialectNamespace() !=
          MPTDialect::getDialectNamespace())
        return WalkResult::advance();
      op->emitOpError() << "has no upstream form without lowering; run "
                           "mpt-lower-ops before mpt-strip-dialect";
      return WalkResult::interrupt();
    });
    if (found.wasInterrupted())
      return signalPassFailure();
    getOperation()->walk([&](Operation *op) {
      stripDiscardable(op);
      if (auto withArgs = dyn_cast<ArgAndResultAttrsOpInterface>(op))
        stripArgAndResultAttrs(withArgs);
    });
  }

  void stripDiscardable(Operation *op) {
    SmallVector<StringAttr> names;
    for (NamedAttribute attr : op->getDiscardableAttrs())
      if (isMPTAttr(attr))
        names.push_back(attr.getName());
    for (StringAttr name : names)
      op->removeDiscardableAttr(name);
    numStripped += names.size();
  }

  /// `attrs` (an array of dictionaries, or null) without mpt's entries;
  /// null when no entry is left.
  ArrayAttr filter(ArrayAttr attrs) {
    if (!attrs)
      return {};
    SmallVector<Attribute> dicts;
    bool anyLeft = false;
    for (auto dict : attrs.getAsRange<DictionaryAttr>()) {
      SmallVector<NamedAttribute> kept;
      for (NamedAttribute attr : dict)
        if (!isMPTAttr(attr) || (keepRoles && isRoleAttr(attr.getName())))
          kept.push_back(attr);
      numStripped += dict.size() - kept.size();
      anyLeft |= !kept.empty();
      dicts.push_back(DictionaryAttr::get(attrs.getContext(), kept));
    }
    return anyLeft ? ArrayAttr::get(attrs.getContext(), dicts) : ArrayAttr();
  }

  void stripArgAndResultAttrs(ArgAndResultAttrsOpInterface op) {
    if (ArrayAttr args = op.getArgAttrsAttr()) {
      if (ArrayAttr kept = filter(args))
        op.setArgAttrsAttr(kept);
      else
        op.removeArgAttrsAttr();
    }
    if (ArrayAttr results = op.getResAttrsAttr()) {
      if (ArrayAttr kept = filter(results))
        op.setResAttrsAttr(kept);
      else
        op.removeResAttrsAttr();
    }
  }
};
} // namespace
