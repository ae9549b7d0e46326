//===- Pipelines.h - C API: run mpt's pipelines on a module ---------*- C
//-*-===//
//
// Part of mpt's C API (libMPTCAPI).
//
//===----------------------------------------------------------------------===//

#ifndef MPT_C_PIPELINES_H
#define MPT_C_PIPELINES_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Runs the `auto-mixed-precision` pipeline on `module`, in place.
///
/// `options` are the pipeline's options as `mpt-opt` takes them, e.g.
/// "dtype=bf16 loss-scaling=static init-scale=1024" (empty: the defaults;
/// docs/generated/MPTPasses.md lists them).
///
/// On success, `reportCallback` (if not NULL) receives the pipeline's report
/// in one call: the JSON document `report=PATH` writes (`dtype`, `ops_seen`,
/// `ops_low`, `casts`, `summary`, …); it is passed instead of being printed
/// when `options` say `report=-`, and in addition to the file for
/// `report=PATH`. The pass also prints its one-line summary to stderr
/// whenever a report is made.
///
/// On failure (options that do not parse, a step the passes reject), every
/// error goes to `errorCallback` with its location, one call per diagnostic,
/// instead of to the context's diagnostic handlers; with a NULL
/// `errorCallback` they go to those handlers. After a failing pass the
/// module may be partly rewritten.
MLIR_CAPI_EXPORTED MlirLogicalResult mptRunAutoMixedPrecision(
    MlirModule module, MlirStringRef options, MlirStringCallback reportCallback,
    MlirStringCallback errorCallback, void *userData);

#ifdef __cplusplus
}
#endif

#endif // MPT_C_PIPELINES_H
