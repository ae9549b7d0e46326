//===- SingleProcessCollectives.cpp - shard collectives of one process ----===//
//
// The CPU path runs one process: an all-reduce over a grid of one is its
// input (converted to the result's element type), the grid's size is 1 and
// the process's index 0. A grid with a static size other than 1 cannot run
// here and is an error.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Collectives.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

namespace mpt {
#define GEN_PASS_DEF_SINGLEPROCESSCOLLECTIVES
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

struct SingleProcessCollectivesPass
    : public mpt::impl::SingleProcessCollectivesBase<
          SingleProcessCollectivesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTableCollection symbols;
    // Every grid must hold one process (a dynamic axis is 1 here).
    for (auto grid : module.getOps<shard::GridOp>())
      for (int64_t size : grid.getShape())
        if (size != 1 && !ShapedType::isDynamic(size)) {
          grid.emitOpError()
              << "has an axis of size " << size
              << ": the single-process lowering (mpt-lower-to-cpu) runs one "
                 "process; build the step with world-size=1 or 0 (the "
                 "launcher's), or for the GPU (NCCL)";
          return signalPassFailure();
        }
    if (failed(mpt::lowerShardOps(module,
                                  [&](Operation *op) { return lower(op); })))
      signalPassFailure();
  }

  LogicalResult lower(Operation *op) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto reduce = dyn_cast<shard::AllReduceOp>(op)) {
      if (!isa<RankedTensorType>(reduce.getInput().getType()))
        return reduce.emitOpError()
               << "on a memref: the single-process lowering takes tensors";
      reduce.replaceAllUsesWith(mpt::castElements(
          b, loc, reduce.getInput(),
          cast<RankedTensorType>(reduce.getResult().getType())));
      reduce.erase();
      return success();
    }
    if (auto shape = dyn_cast<shard::GridShapeOp>(op)) {
      // Dynamic axes hold the one process; static ones are 1 (checked).
      for (Value size : shape.getResult())
        size.replaceAllUsesWith(
            arith::ConstantIndexOp::create(b, loc, 1).getResult());
      shape.erase();
      return success();
    }
    if (isa<shard::ProcessLinearIndexOp, shard::ProcessMultiIndexOp>(op)) {
      for (Value index : op->getResults())
        index.replaceAllUsesWith(
            arith::ConstantIndexOp::create(b, loc, 0).getResult());
      op->erase();
      return success();
    }
    return op->emitOpError()
           << "is not supported by the single-process lowering of "
              "collectives (mpt-single-process-collectives takes "
              "shard.all_reduce, shard.grid_shape and the process indices)";
  }
};

} // namespace

static Value castScalar(OpBuilder &b, Location loc, Value v, Type to) {
  Type from = v.getType();
  if (auto fromFloat = dyn_cast<FloatType>(from)) {
    if (auto toFloat = dyn_cast<FloatType>(to))
      return fromFloat.getWidth() < toFloat.getWidth()
                 ? arith::ExtFOp::create(b, loc, to, v).getResult()
                 : arith::TruncFOp::create(b, loc, to, v).getResult();
    return arith::FPToSIOp::create(b, loc, to, v);
  }
  if (isa<FloatType>(to))
    return arith::SIToFPOp::create(b, loc, to, v);
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  if (fromWidth >= to.getIntOrFloatBitWidth())
    return arith::TruncIOp::create(b, loc, to, v);
  // A flag (i1) widens to 0 or 1.
  if (fromWidth == 1)
    return arith::ExtUIOp::create(b, loc, to, v);
  return arith::ExtSIOp::create(b, loc, to, v);
}

Value mpt::mapElements(OpBuilder &b, Location loc, Value value,
                       Type elementType,
                       function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto type = cast<RankedTensorType>(value.getType());
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, value), elementType);
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), value, init, ArrayRef<AffineMap>{id, id},
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, fn(nb, nloc, args[0]));
      });
  return generic.getResult(0);
}

Value mpt::castElements(OpBuilder &b, Location loc, Value value,
                        RankedTensorType type) {
  Type to = type.getElementType();
  if (getElementTypeOrSelf(value.getType()) == to)
    return value;
  return mapElements(b, loc, value, to,
                     [&](OpBuilder &nb, Location nloc, Value v) {
                       return castScalar(nb, nloc, v, to);
                     });
}

LogicalResult
mpt::lowerShardOps(ModuleOp module,
                   function_ref<LogicalResult(Operation *)> lower) {
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa_and_present<shard::ShardDialect>(op->getDialect()) &&
        !isa<shard::GridOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops)
    if (failed(lower(op)))
      return failure();
  for (auto grid : llvm::make_early_inc_range(module.getOps<shard::GridOp>()))
    if (SymbolTable::symbolKnownUseEmpty(grid, module))
      grid.erase();
  return success();
}
