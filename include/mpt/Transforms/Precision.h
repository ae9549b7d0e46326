//===- Precision.h - Helpers shared by the precision passes -----*- C++ -*-===//

#ifndef MPT_TRANSFORMS_PRECISION_H
#define MPT_TRANSFORMS_PRECISION_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/APFloat.h"
#include <optional>

namespace mpt {

/// Attribute names of automatic mixed precision.
constexpr llvm::StringLiteral kPrecisionAttr = "mpt.precision";
constexpr llvm::StringLiteral kAssignedAttr = "mpt.assigned";
constexpr llvm::StringLiteral kReportAttr = "mpt.amp_report";

/// Whether `type` is f32 or a shaped type of f32.
bool isF32Like(mlir::Type type);

/// `type` with its (element) type replaced by `elem`.
mlir::Type withElementType(mlir::Type type, mlir::Type elem);

/// The 16-bit type named "f16" or "bf16", if `name` is one of them.
std::optional<mlir::FloatType> parseLowType(mlir::MLIRContext *ctx,
                                            llvm::StringRef name);

/// Why a float constant cannot be stored in `target`: "" when every value
/// fits; otherwise "overflow" (a finite value becomes infinite) or
/// "underflow" (a non-zero value becomes zero or subnormal). A magnitude of
/// at least 1e38 stands for infinity (FLT_MAX clamp bounds, masks) and fits.
llvm::StringRef constantRangeProblem(mlir::Attribute value,
                                     mlir::FloatType target);

/// The constant `value` converted to `type` (round to nearest even), or null
/// if `value` is not a float FloatAttr / DenseElementsAttr.
mlir::TypedAttr convertFloatConstant(mlir::Attribute value, mlir::Type type);

/// The outermost op enclosing `op` (or `op` itself) whose region is a
/// payload handled together with its owner: a linalg body or a tensor.pad
/// region, below `root`.
mlir::Operation *getPayloadOwner(mlir::Operation *op, mlir::Operation *root);

/// Where a new cast of an argument of `block` goes: after the casts of block
/// arguments already at its start, so that they stay in creation order.
mlir::Block::iterator getArgumentCastPoint(mlir::Block *block);

/// Whether `op` is an arith.extf or arith.truncf.
bool isFloatCast(mlir::Operation *op);

/// Whether `op` is a linalg op that accumulates (has reduction loops): its
/// inputs may be 16-bit while its accumulator and result stay f32.
bool isAccumulating(mlir::Operation *op);

/// Adds `delta` to the integer entry `path` ("a" or "a.b") of the module's
/// report attribute.
void addToReport(mlir::ModuleOp module, llvm::StringRef key, int64_t delta,
                 llvm::StringRef subkey = "");

/// Appends a string to the array entry `key` of the report attribute.
void appendToReport(mlir::ModuleOp module, llvm::StringRef key,
                    llvm::StringRef text);

/// Sets the string entry `key` of the report attribute.
void setReportString(mlir::ModuleOp module, llvm::StringRef key,
                     llvm::StringRef value);

} // namespace mpt

#endif // MPT_TRANSFORMS_PRECISION_H
