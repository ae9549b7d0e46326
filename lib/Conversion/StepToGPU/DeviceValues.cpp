//===- DeviceValues.cpp - Which scalars of a step live on the device ------===//

#include "DeviceValues.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace mpt {

static bool isScalarType(Type type) {
  return !isa<ShapedType>(type) && type.isIntOrIndexOrFloat();
}

bool isPureScalarOp(Operation *op) {
  if (op->getNumRegions() != 0 || op->getNumResults() == 0 || !isPure(op))
    return false;
  return llvm::all_of(op->getOperandTypes(), isScalarType) &&
         llvm::all_of(op->getResultTypes(), isScalarType);
}

bool DeviceScalarAnalysis::isDeviceScalar(Value value) {
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  bool device = false;
  if (Operation *def = value.getDefiningOp()) {
    if (isa<tensor::ExtractOp>(def))
      device = true;
    else if (isPureScalarOp(def))
      device = llvm::any_of(def->getOperands(),
                            [&](Value v) { return isDeviceScalar(v); });
  }
  cache[value] = device;
  return device;
}

llvm::SetVector<Operation *> DeviceScalarAnalysis::computeSlice(Value value) {
  llvm::SetVector<Operation *> slice;
  SmallVector<Value> worklist = {value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (!isDeviceScalar(v))
      continue;
    Operation *def = v.getDefiningOp();
    if (!slice.insert(def))
      continue;
    for (Value operand : def->getOperands())
      worklist.push_back(operand);
  }
  return topologicalSort(slice);
}

} // namespace mpt
