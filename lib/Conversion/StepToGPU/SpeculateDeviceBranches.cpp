//===- SpeculateDeviceBranches.cpp - scf.if on device values to selects ---===//
//
// A branch on a value read from a tensor would make the host wait for the
// device in the middle of the step. Both branches of such an scf.if are
// evaluated instead (they are side-effect free tensor code) and each result
// is selected elementwise, as fused optimizers skip an update on Inf/NaN.
//
//===----------------------------------------------------------------------===//

#include "DeviceValues.h"
#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mpt {
#define GEN_PASS_DEF_SPECULATEDEVICEBRANCHES
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The condition as a 0-d i1 tensor: the tensor it was read from when it is
/// a plain 0-d extract, else a from_elements (mpt-device-scalars moves it
/// into a kernel).
Value conditionTensor(OpBuilder &b, Location loc, Value cond) {
  if (auto extract = cond.getDefiningOp<tensor::ExtractOp>())
    if (extract.getTensor().getType().getRank() == 0)
      return extract.getTensor();
  auto type = RankedTensorType::get({}, cond.getType());
  return tensor::FromElementsOp::create(b, loc, type, ValueRange{cond});
}

/// `cond ? a : b` elementwise on ranked tensors of one type.
Value selectTensors(OpBuilder &b, Location loc, Value condTensor, Value a,
                    Value c) {
  auto type = cast<RankedTensorType>(a.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, a);
  Value init = tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap scalar = AffineMap::get(rank, 0, b.getContext());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, type, ValueRange{condTensor, a, c}, init,
      ArrayRef<AffineMap>{scalar, id, id, id}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value s = arith::SelectOp::create(nb, nl, args[0], args[1], args[2]);
        linalg::YieldOp::create(nb, nl, s);
      });
  return generic.getResult(0);
}

struct SpeculateDeviceBranchesPass
    : public mpt::impl::SpeculateDeviceBranchesBase<
          SpeculateDeviceBranchesPass> {
  void runOnOperation() override {
    mpt::DeviceScalarAnalysis analysis;
    SmallVector<scf::IfOp> ifs;
    // Post-order: inner ifs first, so an outer branch is flat when checked.
    getOperation()->walk([&](scf::IfOp op) {
      if (analysis.isDeviceScalar(op.getCondition()))
        ifs.push_back(op);
    });
    for (scf::IfOp op : ifs)
      if (failed(speculate(op)))
        return signalPassFailure();
  }

  LogicalResult checkSideEffectFree(scf::IfOp op) {
    for (Region &region : op->getRegions())
      for (Operation &inner : region.getOps())
        if (!isMemoryEffectFree(&inner))
          return inner
                     .emitOpError("has side effects in a branch on a value "
                                  "read from a tensor; on the GPU both "
                                  "branches run and one result is selected, "
                                  "so branches must be free of side effects")
                     .attachNote(op.getLoc())
                 << "the branch";
    return success();
  }

  LogicalResult speculate(scf::IfOp op) {
    if (failed(checkSideEffectFree(op)))
      return failure();
    for (Type type : op.getResultTypes())
      if (!isa<RankedTensorType>(type) && !type.isIntOrIndexOrFloat())
        return op.emitOpError("yields ")
               << type
               << " from a branch on a value read from a tensor; only "
                  "ranked tensors and scalars can be selected on the GPU";
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<Value> thenValues = inlineBranch(op.thenBlock(), op);
    SmallVector<Value> elseValues;
    if (op.elseBlock())
      elseValues = inlineBranch(op.elseBlock(), op);
    Value cond = op.getCondition(), condTensor;
    SmallVector<Value> results;
    for (auto [a, c] : llvm::zip(thenValues, elseValues)) {
      if (a == c) {
        results.push_back(a);
      } else if (isa<RankedTensorType>(a.getType())) {
        if (!condTensor)
          condTensor = conditionTensor(b, loc, cond);
        results.push_back(selectTensors(b, loc, condTensor, a, c));
      } else {
        results.push_back(arith::SelectOp::create(b, loc, cond, a, c));
      }
    }
    op->replaceAllUsesWith(results);
    op->erase();
    ++numSpeculated;
    return success();
  }

  /// Moves the branch's ops in front of `op`; returns the yielded values.
  static SmallVector<Value> inlineBranch(Block *block, scf::IfOp op) {
    auto yield = cast<scf::YieldOp>(block->getTerminator());
    SmallVector<Value> values(yield.getOperands());
    op->getBlock()->getOperations().splice(
        op->getIterator(), block->getOperations(), block->begin(),
        yield->getIterator());
    return values;
  }
};
} // namespace
