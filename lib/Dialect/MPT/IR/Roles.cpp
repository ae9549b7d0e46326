//===- Roles.cpp - Reading the roles of a training step -------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/Roles.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"

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

/// Whether `user`, which refers to `fn`, still agrees with `fn`'s type: a
/// call passes and receives its types; a `func.constant` has its type.
static bool matchesType(Operation *user, FunctionOpInterface fn) {
  if (auto call = dyn_cast<CallOpInterface>(user))
    return TypeRange(call.getArgOperands()) ==
               TypeRange(fn.getArgumentTypes()) &&
           user->getResultTypes() == TypeRange(fn.getResultTypes());
  if (user->getNumResults() == 1 &&
      isa<FunctionType>(user->getResultTypes()[0]))
    return user->getResultTypes()[0] == fn.getFunctionType();
  return true;
}

/// The error for `user`, which refers to `fn` and which `change` breaks.
static LogicalResult callerError(FunctionOpInterface fn, Operation *user,
                                 StringRef change) {
  std::string caller;
  if (auto parent = user->getParentOfType<FunctionOpInterface>())
    caller = ("@" + parent.getName()).str();
  else
    caller = ("'" + user->getName().getStringRef() + "'").str();
  InFlightDiagnostic diag = fn->emitOpError()
                            << "is called from " << caller << "; " << change
                            << " changes what @" << fn.getName()
                            << " takes or returns and does not update its "
                               "callers: call a copy of the step there, or "
                               "apply it to a step that nothing calls";
  diag.attachNote(user->getLoc()) << "called here";
  return diag;
}

/// Fails at the first user of `fn`'s symbol for which `isBroken` holds.
static LogicalResult
checkUsers(FunctionOpInterface fn, StringRef change,
           llvm::function_ref<bool(Operation *)> isBroken) {
  Operation *table = SymbolTable::getNearestSymbolTable(fn->getParentOp());
  if (!table)
    return success();
  std::optional<SymbolTable::UseRange> uses =
      SymbolTable::getSymbolUses(fn.getOperation(), table);
  if (!uses)
    return success();
  for (const SymbolTable::SymbolUse &use : *uses)
    if (isBroken(use.getUser()))
      return callerError(fn, use.getUser(), change);
  return success();
}

LogicalResult checkNoCallers(FunctionOpInterface fn, StringRef change) {
  return checkUsers(fn, change, [](Operation *) { return true; });
}

LogicalResult checkCallersMatch(FunctionOpInterface fn, StringRef change) {
  return checkUsers(fn, change,
                    [&](Operation *user) { return !matchesType(user, fn); });
}

} // namespace mpt
