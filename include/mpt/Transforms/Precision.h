//===- Precision.h - Helpers shared by the precision passes -----*- C++ -*-===//

#ifndef MPT_TRANSFORMS_PRECISION_H
#define MPT_TRANSFORMS_PRECISION_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/MapVector.h"
#include <optional>
#include <string>

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

/// Ways a float constant can fail to fit a 16-bit type, as a bit set.
enum RangeProblem : unsigned {
  /// A finite value below 1e38 in magnitude that becomes +inf / -inf.
  kOverflowPos = 1,
  kOverflowNeg = 2,
  /// A magnitude of at least 1e38 (FLT_MAX clamp bounds, masks) that
  /// becomes +inf / -inf: harmless where it acts as infinity.
  kSentinelPos = 4,
  kSentinelNeg = 8,
  /// A non-zero value that becomes zero or an inexact subnormal.
  kUnderflow = 16,
  kOverflow = kOverflowPos | kOverflowNeg,
  kSentinel = kSentinelPos | kSentinelNeg,
};

/// The problems of a float constant (FloatAttr or DenseElementsAttr of any
/// float type) rounded to `target` (0 when every value fits).
unsigned getRangeProblems(mlir::Attribute value, mlir::FloatType target);

/// "overflow", "underflow", "1e38 sentinel" (joined by " and ").
std::string describeRangeProblems(unsigned problems);

/// Why a float constant cannot be stored in `target`: "" when every value
/// fits or where only a >= 1e38 sentinel becomes infinite; otherwise
/// "overflow" or "underflow" (see getRangeProblems).
llvm::StringRef constantRangeProblem(mlir::Attribute value,
                                     mlir::FloatType target);

/// The ops of `fn` that must stay f32 because rounding a constant they read
/// to `low` would change their result (docs/AutoMixedPrecision.md,
/// "Constants"), each with its RangeProblem bits. A constant's value flows
/// through data movement, select, min/max and linalg bodies; a reader that
/// would see its 16-bit rounding must tolerate it (min/max/select always,
/// cmpf overflow, addf/subf underflow and sentinels) or it, and every op
/// that carried the constant to it, stays f32.
llvm::MapVector<mlir::Operation *, unsigned>
findOpsKeptF32ForConstants(mlir::FunctionOpInterface fn, mlir::FloatType low);

/// The first op in `op` (itself, then its regions) that cannot be retyped
/// to `low` by replacing every f32 type with it: e.g. arith.bitcast, a
/// cast between f16 and bf16, an op of an unknown dialect. Null if `op`
/// can be retyped. Contractions and reductions (isAccumulating) keep their
/// body f32 and are not checked here.
mlir::Operation *findUnretypableOp(mlir::Operation *op, mlir::FloatType low);

/// a + b, saturated at the int64_t range.
int64_t saturatingAdd(int64_t a, int64_t b);

/// `v` rounded to f32 (as a pass option becomes an f32 constant), or nothing
/// when it does not fit (Inf, NaN, overflow).
std::optional<double> toF32(double v);

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
/// report attribute (saturating at the int64_t range).
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
