//===- MPTDialect.h - The mpt dialect ---------------------------*- C++ -*-===//

#ifndef MPT_DIALECT_MPT_IR_MPTDIALECT_H
#define MPT_DIALECT_MPT_IR_MPTDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "mpt/Dialect/MPT/IR/MPTEnums.h.inc"

#include "mpt/Dialect/MPT/IR/MPTOpsDialect.h.inc"

namespace mpt {
/// Registers the mpt dialect and an extension that loads it together with
/// `func`, so that roles on functions are verified in any file.
void registerMPTDialect(mlir::DialectRegistry &registry);
} // namespace mpt

#endif // MPT_DIALECT_MPT_IR_MPTDIALECT_H
