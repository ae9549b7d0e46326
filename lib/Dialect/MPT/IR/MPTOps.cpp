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

//===----------------------------------------------------------------------===//
// UnscaleCheckOp
//===----------------------------------------------------------------------===//

LogicalResult
UnscaleCheckOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                 Adaptor adaptor,
                                 SmallVectorImpl<Type> &inferred) {
  for (Value grad : adaptor.getGrads())
    inferred.push_back(grad.getType());
  inferred.push_back(RankedTensorType::get({}, IntegerType::get(context, 1)));
  inferred.push_back(RankedTensorType::get({}, Float32Type::get(context)));
  return success();
}

LogicalResult UnscaleCheckOp::verify() {
  if (getGrads().empty())
    return emitOpError() << "needs at least one gradient";
  return success();
}

//===----------------------------------------------------------------------===//
// UpdateScaleOp
//===----------------------------------------------------------------------===//

LogicalResult UpdateScaleOp::verify() {
  double growth = getGrowthFactor().convertToDouble();
  double backoff = getBackoffFactor().convertToDouble();
  double minScale = getMinScale().convertToDouble();
  double maxScale = getMaxScale().convertToDouble();
  if (!(growth > 1.0))
    return emitOpError() << "growth_factor must be > 1, got " << growth;
  if (!(backoff > 0.0 && backoff < 1.0))
    return emitOpError() << "backoff_factor must be in (0, 1), got " << backoff;
  if (getGrowthInterval() < 1)
    return emitOpError() << "growth_interval must be >= 1, got "
                         << getGrowthInterval();
  if (getHysteresis() < 1)
    return emitOpError() << "hysteresis must be >= 1, got " << getHysteresis();
  if (!(minScale > 0.0 && minScale <= maxScale))
    return emitOpError() << "needs 0 < min_scale <= max_scale, got " << minScale
                         << " and " << maxScale;
  return success();
}
