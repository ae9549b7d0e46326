//===- Dialects.h - C API of the mpt dialect ------------------------*- C
//-*-===//
//
// Part of mpt's C API (libMPTCAPI), in the style of MLIR's own: the mpt
// dialect as a dialect handle.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_C_DIALECTS_H
#define MPT_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The mpt dialect (`mpt.loss_grad`, `mpt.unscale_check`, …). Inserting the
/// handle into a registry (`mlirDialectHandleInsertDialect`) also registers
/// the extension that loads it with `func`, so that the roles of a step
/// (`mpt.role`, `mpt.grad_of`) are verified, as in `mpt-opt`.
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(MPT, mpt);

#ifdef __cplusplus
}
#endif

#endif // MPT_C_DIALECTS_H
