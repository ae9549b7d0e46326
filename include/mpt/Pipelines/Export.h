//===- Export.h - The hand-off pipeline mpt-export --------------*- C++ -*-===//

#ifndef MPT_PIPELINES_EXPORT_H
#define MPT_PIPELINES_EXPORT_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mpt {

/// Options of `mpt-export`.
struct ExportOptions : public mlir::PassPipelineOptions<ExportOptions> {
  Option<bool> keepRoles{
      *this, "keep-roles",
      llvm::cl::desc("Keep mpt.role, mpt.grad_of, mpt.updates and "
                     "mpt.copy_of on function arguments and results (plain "
                     "strings and integers, which IREE accepts); every other "
                     "mpt attribute is dropped either way"),
      llvm::cl::init(false)};
};

/// Turns a step on tensors (FP32 or rewritten by auto-mixed-precision, with
/// loss scaling or an attached optimizer) into upstream IR for another MLIR
/// compiler such as IREE: mpt ops lowered to linalg/tensor/arith
/// (mpt-lower-ops), then mpt's attributes removed (mpt-strip-dialect). The
/// module stays on tensors; nothing is bufferized or lowered further.
void buildExportPipeline(mlir::OpPassManager &pm, const ExportOptions &options);

/// Registers `mpt-export` with the global pass registry.
void registerExportPipeline();

} // namespace mpt

#endif // MPT_PIPELINES_EXPORT_H
