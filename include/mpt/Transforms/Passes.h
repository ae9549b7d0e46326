//===- Passes.h - Passes of mpt ---------------------------------*- C++ -*-===//

#ifndef MPT_TRANSFORMS_PASSES_H
#define MPT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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

#define GEN_PASS_REGISTRATION
#include "mpt/Transforms/Passes.h.inc"

} // namespace mpt

#endif // MPT_TRANSFORMS_PASSES_H
