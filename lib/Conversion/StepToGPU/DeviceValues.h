//===- DeviceValues.h - Scalars of a step on the device --------*- C++ -*-===//
//
// A step's tensors live in device memory once it runs on a GPU, so a scalar
// read from one (tensor.extract) and every pure scalar op computed from such
// a scalar are device values: host code cannot use them without a copy and a
// synchronisation. Shapes (tensor.dim), constants and scalar arguments are
// host values.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_LIB_CONVERSION_STEPTOGPU_DEVICEVALUES_H
#define MPT_LIB_CONVERSION_STEPTOGPU_DEVICEVALUES_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

namespace mpt {

/// Answers "is this scalar computed from tensor contents?", memoized.
class DeviceScalarAnalysis {
public:
  bool isDeviceScalar(mlir::Value value);

  /// The ops computing `value` from tensor contents (tensor.extract and pure
  /// scalar ops), in an order where each op comes after its operands.
  llvm::SetVector<mlir::Operation *> computeSlice(mlir::Value value);

private:
  llvm::DenseMap<mlir::Value, bool> cache;
};

/// A pure op without regions whose operands and results are all scalars
/// (no tensors, memrefs or vectors): arith, math, index casts.
bool isPureScalarOp(mlir::Operation *op);

} // namespace mpt

#endif // MPT_LIB_CONVERSION_STEPTOGPU_DEVICEVALUES_H
