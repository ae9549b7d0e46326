//===- Roles.cpp - Reading the roles of a training step -------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/Roles.h"

using namespace mlir;

namespace mpt {

unsigned getRolePositions(Role role) {
  switch (role) {
  case Role::Param:
  case Role::Input:
  case Role::LossGrad:
    return OnArgument;
  case Role::Loss:
  case Role::Grad:
  case Role::FoundInf:
  case Role::ParamOut:
  case Role::ParamLow:
    return OnResult;
  case Role::LossScale:
  case Role::GrowthTracker:
  case Role::Hysteresis:
  case Role::OptState:
    return OnArgument | OnResult;
  }
  llvm_unreachable("covered switch");
}

bool isStateRole(Role role) {
  return role == Role::LossScale || role == Role::GrowthTracker ||
         role == Role::Hysteresis || role == Role::OptState;
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

std::optional<int64_t> getResultLink(FunctionOpInterface fn, unsigned index,
                                     StringRef name) {
  if (auto attr = fn.getResultAttrOfType<IntegerAttr>(index, name))
    return attr.getInt();
  return std::nullopt;
}

std::optional<int64_t> getGradOf(FunctionOpInterface fn, unsigned index) {
  return getResultLink(fn, index, MPTDialect::kGradOfAttrName);
}

/// The indices in [0, count) for which `matches` holds.
static SmallVector<unsigned>
indicesWhere(unsigned count, llvm::function_ref<bool(unsigned)> matches) {
  SmallVector<unsigned> indices;
  for (unsigned i = 0; i < count; ++i)
    if (matches(i))
      indices.push_back(i);
  return indices;
}

SmallVector<unsigned> getArgumentsWithRole(FunctionOpInterface fn, Role role) {
  return indicesWhere(fn.getNumArguments(), [&](unsigned i) {
    return getArgumentRole(fn, i) == role;
  });
}

SmallVector<unsigned> getResultsWithRole(FunctionOpInterface fn, Role role) {
  return indicesWhere(fn.getNumResults(),
                      [&](unsigned i) { return getResultRole(fn, i) == role; });
}

DictionaryAttr getRoleAttrs(Builder &b, Role role,
                            std::optional<int64_t> updates) {
  SmallVector<NamedAttribute> attrs{b.getNamedAttr(
      MPTDialect::kRoleAttrName, b.getStringAttr(stringifyRole(role)))};
  if (updates)
    attrs.push_back(b.getNamedAttr(MPTDialect::kUpdatesAttrName,
                                   b.getI64IntegerAttr(*updates)));
  return b.getDictionaryAttr(attrs);
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
