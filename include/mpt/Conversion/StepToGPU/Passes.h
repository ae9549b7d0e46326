//===- Passes.h - A training step onto the GPU ------------------*- C++ -*-===//

#ifndef MPT_CONVERSION_STEPTOGPU_PASSES_H
#define MPT_CONVERSION_STEPTOGPU_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mpt {

#define GEN_PASS_DECL
#include "mpt/Conversion/StepToGPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpt/Conversion/StepToGPU/Passes.h.inc"

} // namespace mpt

#endif // MPT_CONVERSION_STEPTOGPU_PASSES_H
