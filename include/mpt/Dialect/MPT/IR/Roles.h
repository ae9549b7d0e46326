//===- Roles.h - Reading the roles of a training step -----------*- C++ -*-===//
//
// Helpers that read `mpt.role` / `mpt.grad_of` off a function, for passes
// that need to find the parameters, the seed, the loss and the grads.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_DIALECT_MPT_IR_ROLES_H
#define MPT_DIALECT_MPT_IR_ROLES_H

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include <optional>

namespace mpt {

/// Whether `role` may appear on an argument (true) or on a result (false).
bool isArgumentRole(Role role);

/// The role of argument `index` of `fn`, if it has a valid one.
std::optional<Role> getArgumentRole(mlir::FunctionOpInterface fn,
                                    unsigned index);

/// The role of result `index` of `fn`, if it has a valid one.
std::optional<Role> getResultRole(mlir::FunctionOpInterface fn, unsigned index);

/// The `mpt.grad_of` argument index of result `index`, if present.
std::optional<int64_t> getGradOf(mlir::FunctionOpInterface fn, unsigned index);

/// Whether any argument or result of `fn` carries an `mpt.role`.
bool hasTrainingRoles(mlir::FunctionOpInterface fn);

} // namespace mpt

#endif // MPT_DIALECT_MPT_IR_ROLES_H
