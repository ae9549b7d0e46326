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

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace mpt {

/// A linalg.generic over `value` (a ranked tensor) that yields `fn` of each
/// element, into a new tensor of `elementType`.
mlir::Value
mapElements(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
            mlir::Type elementType,
            llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::Value)>
                fn);

/// `value` (a ranked tensor) with the element type of `type`, elementwise in
/// a linalg.generic (floats extended or truncated, flags (i1) widened to 0 or
/// 1, integers sign-extended or truncated); `value` itself when the types
/// match.
mlir::Value castElements(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::Value value, mlir::RankedTensorType type);

/// Calls `lower` on every shard op of `module` but the grids, then erases
/// the grids nothing refers to any more. Fails as soon as `lower` does.
mlir::LogicalResult
lowerShardOps(mlir::ModuleOp module,
              llvm::function_ref<mlir::LogicalResult(mlir::Operation *)> lower);

} // namespace mpt

#endif // MPT_TRANSFORMS_COLLECTIVES_H
