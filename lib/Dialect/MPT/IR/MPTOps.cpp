//===- MPTOps.cpp - Operations of the mpt dialect -------------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mpt;

#define GET_OP_CLASSES
#include "mpt/Dialect/MPT/IR/MPTOps.cpp.inc"

/// A step has one seed: either an argument with role `loss_grad` or this op.
LogicalResult LossGradOp::verify() {
  auto fn = (*this)->getParentOfType<FunctionOpInterface>();
  if (!fn)
    return success();
  for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
    if (getArgumentRole(fn, i) == Role::LossGrad)
      return emitOpError() << "conflicts with argument #" << i
                           << " of the enclosing function, which has "
                              "'mpt.role' \"loss_grad\"; a step takes one "
                              "backward seed, drop one of them";
  return success();
}
