//===- Collectives.h - Helpers for lowering shard collectives ---*- C++ -*-===//
//
// Shared by the single-process lowering (the CPU path) and the NCCL one
// (the GPU path).
//
//===----------------------------------------------------------------------===//

#ifndef MPT_TRANSFORMS_COLLECTIVES_H
#define MPT_TRANSFORMS_COLLECTIVES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mpt {

/// `value` (a ranked tensor) with the element type of `type`, elementwise in
/// a linalg.generic (floats extended or truncated, flags (i1) widened to 0 or
/// 1, integers sign-extended or truncated); `value` itself when the types
/// match.
mlir::Value castElements(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::RankedTensorType type);

} // namespace mpt

#endif // MPT_TRANSFORMS_COLLECTIVES_H
