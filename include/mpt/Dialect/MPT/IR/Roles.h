//===- Roles.h - Reading the roles of a training step -----------*- C++ -*-===//
//
// Helpers that read `mpt.role` / `mpt.grad_of` off a function, for passes
// that need to find the parameters, the seed, the loss and the grads.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_DIALECT_MPT_IR_ROLES_H
#define MPT_DIALECT_MPT_IR_ROLES_H

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include <optional>

namespace mpt {

/// Where a role may appear.
enum RolePosition : unsigned { OnArgument = 1, OnResult = 2 };

/// The positions (a mask of RolePosition) where `role` may appear.
unsigned getRolePositions(Role role);

/// Whether `role` may appear on an argument.
inline bool isArgumentRole(Role role) {
  return getRolePositions(role) & OnArgument;
}

/// Whether `role` may appear on a result.
inline bool isResultRole(Role role) {
  return getRolePositions(role) & OnResult;
}

/// Roles of state threaded through a step: argument in, next value out.
bool isStateRole(Role role);

/// The role of argument `index` of `fn`, if it has a valid one.
std::optional<Role> getArgumentRole(mlir::FunctionOpInterface fn,
                                    unsigned index);

/// The role of result `index` of `fn`, if it has a valid one.
std::optional<Role> getResultRole(mlir::FunctionOpInterface fn, unsigned index);

/// The `mpt.grad_of` argument index of result `index`, if present.
std::optional<int64_t> getGradOf(mlir::FunctionOpInterface fn, unsigned index);

/// The argument index named by the integer result attribute `name`.
std::optional<int64_t> getResultLink(mlir::FunctionOpInterface fn,
                                     unsigned index, llvm::StringRef name);

/// The indices of the arguments / results of `fn` with `role`.
llvm::SmallVector<unsigned> getArgumentsWithRole(mlir::FunctionOpInterface fn,
                                                 Role role);
llvm::SmallVector<unsigned> getResultsWithRole(mlir::FunctionOpInterface fn,
                                               Role role);

/// The attribute dictionary `{mpt.role = role[, mpt.updates = updates]}`
/// for a new argument or result.
mlir::DictionaryAttr getRoleAttrs(mlir::Builder &b, Role role,
                                  std::optional<int64_t> updates = {});

/// Whether any argument or result of `fn` carries an `mpt.role`.
bool hasTrainingRoles(mlir::FunctionOpInterface fn);

/// Fails when anything in the enclosing symbol table refers to `fn` (a call
/// from another function, a `func.constant`), with an error on `fn` that
/// names the first such caller and a note at the call. For passes that change
/// what a step takes or returns and cannot update its callers: `change` says
/// which pass or option changes the signature.
mlir::LogicalResult checkNoCallers(mlir::FunctionOpInterface fn,
                                   llvm::StringRef change);

/// Fails, in the same way, when a call of `fn` no longer matches its type:
/// for passes that change a signature only sometimes.
mlir::LogicalResult checkCallersMatch(mlir::FunctionOpInterface fn,
                                      llvm::StringRef change);

} // namespace mpt

#endif // MPT_DIALECT_MPT_IR_ROLES_H
