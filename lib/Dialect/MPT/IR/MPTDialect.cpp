//===- MPTDialect.cpp - The mpt dialect and its role verifier -*- C++ -*-===//
//
// Registers the dialect and verifies the training-step roles (`mpt.role`,
// `mpt.grad_of`) on function arguments and results.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mpt;

#include "mpt/Dialect/MPT/IR/MPTEnums.cpp.inc"
#include "mpt/Dialect/MPT/IR/MPTOpsDialect.cpp.inc"

void MPTDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mpt/Dialect/MPT/IR/MPTOps.cpp.inc"
      >();
}

namespace {
/// The list of valid values of `mpt.role` for one position, for messages.
std::string validRoles(bool onArgument) {
  std::string names;
  for (uint32_t i = 0; i <= getMaxEnumValForRole(); ++i) {
    Role role = *symbolizeRole(i);
    if (!(getRolePositions(role) & (onArgument ? OnArgument : OnResult)))
      continue;
    if (!names.empty())
      names += ", ";
    names += "\"" + stringifyRole(role).str() + "\"";
  }
  return names;
}

/// Checks that `attr` is a string naming a role valid on this position.
LogicalResult verifyRoleAttr(Operation *op, NamedAttribute attr,
                             bool onArgument, unsigned index) {
  StringRef what = onArgument ? "argument" : "result";
  auto str = dyn_cast<StringAttr>(attr.getValue());
  if (!str)
    return op->emitOpError()
           << "'mpt.role' of " << what << " #" << index
           << " must be a string, one of " << validRoles(onArgument);
  std::optional<Role> role = symbolizeRole(str.getValue());
  if (!role ||
      !(getRolePositions(*role) & (onArgument ? OnArgument : OnResult)))
    return op->emitOpError()
           << "unknown 'mpt.role' \"" << str.getValue() << "\" on " << what
           << " #" << index << "; expected one of " << validRoles(onArgument);
  return success();
}

LogicalResult verifyLossResult(FunctionOpInterface fn, unsigned index) {
  Type type = fn.getResultTypes()[index];
  if (isa<FloatType>(getElementTypeOrSelf(type)))
    return success();
  // Lowered steps keep their roles: an llvm.func returns a tensor loss as a
  // memref descriptor struct.
  if (fn->getName().getDialectNamespace() == "llvm")
    return success();
  return fn->emitOpError() << "result #" << index
                           << " has 'mpt.role' \"loss\" but type " << type
                           << "; the loss must be a floating-point scalar or "
                              "tensor";
}

/// Checks that a `grad` result names, through `mpt.grad_of`, a `param`
/// argument of the same type.
LogicalResult verifyGradResult(FunctionOpInterface fn, unsigned index) {
  auto gradOf =
      fn.getResultAttrOfType<IntegerAttr>(index, MPTDialect::kGradOfAttrName);
  if (!gradOf)
    return fn->emitOpError()
           << "result #" << index
           << " has 'mpt.role' \"grad\" but no integer 'mpt.grad_of'; add "
              "'mpt.grad_of = <index of its parameter argument> : i64'";
  int64_t argIndex = gradOf.getInt();
  unsigned numArgs = fn.getNumArguments();
  if (argIndex < 0 || argIndex >= static_cast<int64_t>(numArgs))
    return fn->emitOpError()
           << "result #" << index << " has 'mpt.grad_of' = " << argIndex
           << " but the function has " << numArgs << " arguments";
  std::optional<Role> argRole = getArgumentRole(fn, argIndex);
  if (argRole != Role::Param)
    return fn->emitOpError()
           << "result #" << index << " is the grad of argument #" << argIndex
           << ", whose 'mpt.role' is "
           << (argRole ? "\"" + stringifyRole(*argRole).str() + "\""
                       : std::string("missing"))
           << "; 'mpt.grad_of' must name an argument with 'mpt.role' "
              "\"param\"";
  Type gradType = fn.getResultTypes()[index];
  Type paramType = fn.getArgumentTypes()[argIndex];
  if (gradType != paramType)
    return fn->emitOpError()
           << "result #" << index << " (grad, type " << gradType
           << ") and its parameter argument #" << argIndex << " (type "
           << paramType << ") must have the same type";
  return success();
}

std::string quoted(std::optional<Role> role) {
  return role ? "\"" + stringifyRole(*role).str() + "\"" : "missing";
}

/// A result that is the next value of an argument names it with
/// `mpt.updates`: in range, same type, and a `param` for `param_out`, else
/// an argument of the same role.
LogicalResult verifyUpdates(FunctionOpInterface fn, unsigned index, Role role) {
  std::optional<int64_t> link =
      getResultLink(fn, index, MPTDialect::kUpdatesAttrName);
  if (!link)
    return fn->emitOpError()
           << "result #" << index << " has 'mpt.role' \"" << stringifyRole(role)
           << "\" but no integer 'mpt.updates'; add 'mpt.updates = <index "
              "of the argument it is the next value of> : i64'";
  unsigned numArgs = fn.getNumArguments();
  if (*link < 0 || *link >= static_cast<int64_t>(numArgs))
    return fn->emitOpError()
           << "result #" << index << " has 'mpt.updates' = " << *link
           << " but the function has " << numArgs << " arguments";
  Role expected = role == Role::ParamOut ? Role::Param : role;
  std::optional<Role> argRole = getArgumentRole(fn, *link);
  if (argRole != expected)
    return fn->emitOpError()
           << "result #" << index << " (\"" << stringifyRole(role)
           << "\") updates argument #" << *link << ", whose 'mpt.role' is "
           << quoted(argRole) << "; expected \"" << stringifyRole(expected)
           << "\"";
  if (fn.getResultTypes()[index] != fn.getArgumentTypes()[*link])
    return fn->emitOpError()
           << "result #" << index << " (type " << fn.getResultTypes()[index]
           << ") and the argument #" << *link << " it updates (type "
           << fn.getArgumentTypes()[*link] << ") must have the same type";
  return success();
}

/// A `param_low` result names its parameter with `mpt.copy_of`: a 16-bit
/// float of the same shape.
LogicalResult verifyCopyOf(FunctionOpInterface fn, unsigned index) {
  std::optional<int64_t> link =
      getResultLink(fn, index, MPTDialect::kCopyOfAttrName);
  unsigned numArgs = fn.getNumArguments();
  if (!link || *link < 0 || *link >= static_cast<int64_t>(numArgs) ||
      getArgumentRole(fn, *link) != Role::Param)
    return fn->emitOpError()
           << "result #" << index
           << " has 'mpt.role' \"param_low\" but no 'mpt.copy_of' naming a "
              "\"param\" argument";
  auto lowType = dyn_cast<ShapedType>(fn.getResultTypes()[index]);
  auto paramType = dyn_cast<ShapedType>(fn.getArgumentTypes()[*link]);
  Type elem = lowType ? lowType.getElementType() : Type();
  if (!lowType || !paramType || lowType.getShape() != paramType.getShape() ||
      !(elem.isF16() || elem.isBF16()))
    return fn->emitOpError()
           << "result #" << index << " (\"param_low\", type "
           << fn.getResultTypes()[index]
           << ") must be an f16 or bf16 tensor shaped like argument #" << *link;
  return success();
}

LogicalResult verifyFoundInf(FunctionOpInterface fn, unsigned index) {
  Type type = fn.getResultTypes()[index];
  if (getElementTypeOrSelf(type).isInteger(1) &&
      (!isa<ShapedType>(type) || cast<ShapedType>(type).getRank() == 0))
    return success();
  return fn->emitOpError() << "result #" << index
                           << " has 'mpt.role' \"found_inf\" but type " << type
                           << "; expected tensor<i1> or i1";
}

FunctionOpInterface getFunction(Operation *op, unsigned regionIndex,
                                StringRef attrName) {
  auto fn = dyn_cast<FunctionOpInterface>(op);
  if (!fn || regionIndex != 0) {
    op->emitOpError() << "'" << attrName
                      << "' is only valid on arguments and results of a "
                         "function";
    return {};
  }
  return fn;
}
} // namespace

LogicalResult MPTDialect::verifyRegionArgAttribute(Operation *op,
                                                   unsigned regionIndex,
                                                   unsigned argIndex,
                                                   NamedAttribute attr) {
  if (attr.getName() != kRoleAttrName)
    return op->emitOpError()
           << "unknown mpt attribute '" << attr.getName().getValue()
           << "' on argument #" << argIndex << "; arguments take 'mpt.role'";
  if (!getFunction(op, regionIndex, attr.getName()))
    return failure();
  return verifyRoleAttr(op, attr, /*onArgument=*/true, argIndex);
}

LogicalResult MPTDialect::verifyRegionResultAttribute(Operation *op,
                                                      unsigned regionIndex,
                                                      unsigned resultIndex,
                                                      NamedAttribute attr) {
  FunctionOpInterface fn = getFunction(op, regionIndex, attr.getName());
  if (!fn)
    return failure();
  if (attr.getName() == kUpdatesAttrName || attr.getName() == kCopyOfAttrName) {
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitOpError()
             << "'" << attr.getName().getValue() << "' of result #"
             << resultIndex << " must be an integer argument index";
    std::optional<Role> role = getResultRole(fn, resultIndex);
    bool copy = attr.getName() == kCopyOfAttrName;
    bool fits = copy
                    ? role == Role::ParamLow
                    : (role && (*role == Role::ParamOut || isStateRole(*role)));
    if (!fits)
      return op->emitOpError()
             << "result #" << resultIndex << " has '"
             << attr.getName().getValue() << "' but its 'mpt.role' is "
             << quoted(role) << "; expected "
             << (copy ? "\"param_low\""
                      : "\"param_out\" or a state role (\"loss_scale\", "
                        "\"growth_tracker\", \"hysteresis\", "
                        "\"opt_state\")");
    return success();
  }
  if (attr.getName() == kGradOfAttrName) {
    if (!isa<IntegerAttr>(attr.getValue()))
      return op->emitOpError() << "'mpt.grad_of' of result #" << resultIndex
                               << " must be an integer argument index";
    if (getResultRole(fn, resultIndex) != Role::Grad)
      return op->emitOpError()
             << "result #" << resultIndex
             << " has 'mpt.grad_of' but its 'mpt.role' is not \"grad\"";
    return success();
  }
  if (attr.getName() != kRoleAttrName)
    return op->emitOpError()
           << "unknown mpt attribute '" << attr.getName().getValue()
           << "' on result #" << resultIndex
           << "; results take 'mpt.role', 'mpt.grad_of', 'mpt.updates' "
              "and 'mpt.copy_of'";
  if (failed(verifyRoleAttr(op, attr, /*onArgument=*/false, resultIndex)))
    return failure();
  Role role = *getResultRole(fn, resultIndex);
  switch (role) {
  case Role::Loss:
    return verifyLossResult(fn, resultIndex);
  case Role::Grad:
    return verifyGradResult(fn, resultIndex);
  case Role::FoundInf:
    return verifyFoundInf(fn, resultIndex);
  case Role::ParamLow:
    return verifyCopyOf(fn, resultIndex);
  case Role::ParamOut:
    return verifyUpdates(fn, resultIndex, role);
  default:
    return isStateRole(role) ? verifyUpdates(fn, resultIndex, role) : success();
  }
}

LogicalResult MPTDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == "mpt.amp_report") {
    if (!isa<ModuleOp>(op) || !isa<DictionaryAttr>(attr.getValue()))
      return op->emitOpError()
             << "'mpt.amp_report' must be a dictionary on a module";
    return success();
  }
  if (name != "mpt.precision" && name != "mpt.assigned")
    return op->emitOpError()
           << "unknown mpt attribute '" << name
           << "' on an op; ops take 'mpt.precision' and 'mpt.assigned' ("
           << kRoleAttrName << " and " << kGradOfAttrName
           << " belong on function arguments and results)";
  auto value = dyn_cast<StringAttr>(attr.getValue());
  bool isFunction = isa<FunctionOpInterface>(op);
  if (isFunction && name == "mpt.precision") {
    if (!value || value.getValue() != "f32")
      return op->emitOpError()
             << "'mpt.precision' on a function must be \"f32\" (leave the "
                "function alone); put \"f16\"/\"bf16\" on its ops instead";
    return success();
  }
  if (!value || !llvm::is_contained({"f32", "f16", "bf16"}, value.getValue()))
    return op->emitOpError()
           << "'" << name << "' must be \"f32\", \"f16\" or \"bf16\"";
  return success();
}

namespace {
/// Loads the mpt dialect whenever `func` is loaded, so that `mpt.role`
/// attributes on functions are verified even in files without mpt ops.
struct LoadMPTWithFunc
    : public DialectExtension<LoadMPTWithFunc, func::FuncDialect> {
  void apply(MLIRContext *context, func::FuncDialect *) const final {
    context->getOrLoadDialect<MPTDialect>();
  }
};
} // namespace

void mpt::registerMPTDialect(DialectRegistry &registry) {
  registry.insert<MPTDialect>();
  registry.addExtensions<LoadMPTWithFunc>();
}
