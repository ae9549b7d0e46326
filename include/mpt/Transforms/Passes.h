//===- Passes.h - Passes of mpt ---------------------------------*- C++ -*-===//

#ifndef MPT_TRANSFORMS_PASSES_H
#define MPT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class GreedyRewriteConfig;
class RewritePatternSet;
} // namespace mlir

namespace mpt {

#define GEN_PASS_DECL
#include "mpt/Transforms/Passes.h.inc"

/// Patterns that replace mpt ops by linalg/tensor/arith ops.
void populateLowerMPTOpsPatterns(mlir::RewritePatternSet &patterns);

/// Applies `patterns` to `op` top-down and nothing else: no folding, no
/// constant CSE, no region simplification, so that the payloads that the
/// patterns move compute exactly what they computed before.
mlir::LogicalResult applyPatternsOnly(mlir::Operation *op,
                                      mlir::RewritePatternSet &&patterns);

/// Removes the discardable attributes whose values belong to dialects other
/// than builtin and llvm (what `mpt-strip-foreign-attrs` does); returns how
/// many.
int64_t stripForeignAttrs(mlir::Operation *root);

/// Hoists every constant under `root` to the entry of its function (the
/// closest isolated region) and keeps one of each value there, as the greedy
/// rewrite driver's folder does.
void uniqueConstants(mlir::Operation *root);

/// Prints literal LLVM structs of 16 or more members as aliases, once per
/// module instead of at every use.
void registerLargeStructAliases(mlir::DialectRegistry &registry);

#define GEN_PASS_REGISTRATION
#include "mpt/Transforms/Passes.h.inc"

} // namespace mpt

#endif // MPT_TRANSFORMS_PASSES_H
