//===- Roles.cpp - Reading the roles of a training step -------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/Roles.h"

using namespace mlir;

namespace mpt {

bool isArgumentRole(Role role) {
  switch (role) {
  case Role::Param:
  case Role::Input:
  case Role::LossGrad:
    return true;
  case Role::Loss:
  case Role::Grad:
    return false;
  }
  llvm_unreachable("covered switch");
}

static std::optional<Role> parseRole(Attribute attr) {
  if (auto str = dyn_cast_or_null<StringAttr>(attr))
    return symbolizeRole(str.getValue());
  return std::nullopt;
}

std::optional<Role> getArgumentRole(FunctionOpInterface fn, unsigned index) {
  return parseRole(fn.getArgAttr(index, MPTDialect::kRoleAttrName));
}

std::optional<Role> getResultRole(FunctionOpInterface fn, unsigned index) {
  return parseRole(fn.getResultAttr(index, MPTDialect::kRoleAttrName));
}

std::optional<int64_t> getGradOf(FunctionOpInterface fn, unsigned index) {
  if (auto attr = fn.getResultAttrOfType<IntegerAttr>(
          index, MPTDialect::kGradOfAttrName))
    return attr.getInt();
  return std::nullopt;
}

bool hasTrainingRoles(FunctionOpInterface fn) {
  for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
    if (fn.getArgAttr(i, MPTDialect::kRoleAttrName))
      return true;
  for (unsigned i = 0, e = fn.getNumResults(); i < e; ++i)
    if (fn.getResultAttr(i, MPTDialect::kRoleAttrName))
      return true;
  return false;
}

} // namespace mpt
