//===- Round16BitOps.cpp - One rounding per 16-bit arithmetic op ----------===//
//
// Rewrites every arith op on f16/bf16 values into the same op on f32 between
// an extf of its operands and a truncf of its result. Upstream
// `arith-emulate-unsupported-floats` keeps a chain of emulated ops in f32 and
// rounds only where a value leaves the chain, so a fused body `(x + c) - c`
// would compute in f32 what a GPU computes with two roundings. After this
// pass each op rounds its own result, whatever was fused around it.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mpt {
#define GEN_PASS_DEF_ROUND16BITOPS
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

bool isSixteenBitFloat(Type type) {
  return isa<Float16Type, BFloat16Type>(getElementTypeOrSelf(type));
}

/// `type` with its element type replaced by f32 (scalars and vectors).
Type widen(Type type) {
  Type f32 = Float32Type::get(type.getContext());
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.clone(f32);
  return f32;
}

/// Ops whose 16-bit form rounds (or compares) and that this pass widens.
bool isRoundingArithOp(Operation *op) {
  return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::RemFOp, arith::CmpFOp>(op);
}

bool needsWidening(Operation *op) {
  if (!isRoundingArithOp(op))
    return false;
  // Only scalars and vectors: tensor ops are lowered to loops first.
  for (Type type : op->getOperandTypes())
    if (isa<TensorType, BaseMemRefType>(type))
      return false;
  return llvm::any_of(op->getOperandTypes(), isSixteenBitFloat);
}

void widenOp(Operation *op, int64_t &count) {
  OpBuilder builder(op);
  Location loc = op->getLoc();
  SmallVector<Value> operands;
  for (Value operand : op->getOperands())
    operands.push_back(
        arith::ExtFOp::create(builder, loc, widen(operand.getType()), operand));
  SmallVector<Type> resultTypes;
  for (Type type : op->getResultTypes())
    resultTypes.push_back(isSixteenBitFloat(type) ? widen(type) : type);
  OperationState state(loc, op->getName().getStringRef(), operands, resultTypes,
                       op->getAttrs());
  Operation *wide = builder.create(state);
  for (auto [oldResult, newResult] :
       llvm::zip(op->getResults(), wide->getResults())) {
    Value replacement = newResult;
    if (oldResult.getType() != newResult.getType())
      replacement =
          arith::TruncFOp::create(builder, loc, oldResult.getType(), newResult);
    oldResult.replaceAllUsesWith(replacement);
  }
  op->erase();
  ++count;
}

struct Round16BitOpsPass
    : public mpt::impl::Round16BitOpsBase<Round16BitOpsPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (needsWidening(op))
        ops.push_back(op);
    });
    // Nothing to widen (an FP32 step): say so, which also spares the
    // verifier a walk of the whole module.
    if (ops.empty())
      return markAllAnalysesPreserved();
    int64_t count = 0;
    for (Operation *op : ops)
      widenOp(op, count);
    numWidened += count;
  }
};

} // namespace
