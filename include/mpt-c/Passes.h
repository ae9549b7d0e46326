//===- Passes.h - C API: register mpt's passes and pipelines --------*- C
//-*-===//
//
// Part of mpt's C API (libMPTCAPI).
//
//===----------------------------------------------------------------------===//

#ifndef MPT_C_PASSES_H
#define MPT_C_PASSES_H

#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Registers mpt's passes (`mpt-assign-precision`, …) and pipelines
/// (`auto-mixed-precision`, `mpt-lower-to-cpu`, `mpt-lower-to-nvvm`) with the
/// global registry, so that `mlirParsePassPipeline` and
/// `mlirOpPassManagerAddPipeline` know them. Calling it again does nothing.
/// The lowering pipelines also need MLIR's upstream passes registered
/// (`mlirRegisterAllPasses`, mlir-c/RegisterEverything.h).
MLIR_CAPI_EXPORTED void mptRegisterPasses(void);

#ifdef __cplusplus
}
#endif

#endif // MPT_C_PASSES_H
