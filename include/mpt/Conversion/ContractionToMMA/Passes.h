//===- Passes.h - Contractions on tensor cores (mma.sync) -------*- C++ -*-===//

#ifndef MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_H
#define MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mpt {

#define GEN_PASS_DECL
#include "mpt/Conversion/ContractionToMMA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpt/Conversion/ContractionToMMA/Passes.h.inc"

} // namespace mpt

#endif // MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_H
