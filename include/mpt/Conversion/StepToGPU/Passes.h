//===- Passes.h - A training step onto the GPU ------------------*- C++ -*-===//

#ifndef MPT_CONVERSION_STEPTOGPU_PASSES_H
#define MPT_CONVERSION_STEPTOGPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringRef.h"

namespace mpt {

/// The runtime functions (include/mpt/Runtime/CudaRuntime.h) that
/// mpt-collectives-to-runtime calls, and how mpt-gpu-async-region treats
/// them in mpt-lower-to-nvvm: the all-reduce is enqueued on the step's
/// stream, the world size and the rank are host values.
inline constexpr llvm::StringLiteral kRuntimeAllReduce = "mptAllReduce";
inline constexpr llvm::StringLiteral kRuntimeWorldSize =
    "mptDistributedWorldSize";
inline constexpr llvm::StringLiteral kRuntimeRank = "mptDistributedRank";

#define GEN_PASS_DECL
#include "mpt/Conversion/StepToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpt/Conversion/StepToGPU/Passes.h.inc"

} // namespace mpt

#endif // MPT_CONVERSION_STEPTOGPU_PASSES_H
