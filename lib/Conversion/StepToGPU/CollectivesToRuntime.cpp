//===- CollectivesToRuntime.cpp - shard collectives as NCCL runtime calls -===//
//
// On the GPU, a data-parallel step's all-reduces are calls of the runtime's
// mptAllReduce (ncclAllReduce on the step's stream). On tensors, before
// bufferization: the input is read through a buffer (to_buffer), the result
// is a new buffer (memref.alloc, on the device after mpt-device-buffers)
// that becomes a tensor again, and the call passes their addresses.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/StepToGPU/Passes.h"
#include "mpt/Transforms/Collectives.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

namespace mpt {
#define GEN_PASS_DEF_COLLECTIVESTORUNTIME
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

// NCCL's ncclDataType_t and ncclRedOp_t (include/mpt/Runtime/CudaRuntime.h).
std::optional<int32_t> ncclType(Type type) {
  if (type.isF32())
    return 7;
  if (type.isF16())
    return 6;
  if (type.isBF16())
    return 9;
  if (type.isF64())
    return 8;
  if (type.isInteger(8))
    return 0;
  if (type.isInteger(32))
    return 2;
  if (type.isInteger(64))
    return 4;
  return std::nullopt;
}

std::optional<int32_t> ncclOp(shard::ReductionKind kind) {
  switch (kind) {
  case shard::ReductionKind::Sum:
    return 0;
  case shard::ReductionKind::Product:
    return 1;
  case shard::ReductionKind::Max:
    return 2;
  case shard::ReductionKind::Min:
    return 3;
  case shard::ReductionKind::Average:
    return 4;
  default:
    return std::nullopt;
  }
}

struct CollectivesToRuntimePass
    : public mpt::impl::CollectivesToRuntimeBase<CollectivesToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto grid : module.getOps<shard::GridOp>())
      if (grid.getShape().size() != 1) {
        grid.emitOpError()
            << "has " << grid.getShape().size()
            << " axes: the GPU path runs the ranks of one NCCL communicator "
               "(a one-axis grid, as mpt-data-parallel makes)";
        return signalPassFailure();
      }
    if (failed(mpt::lowerShardOps(module,
                                  [&](Operation *op) { return lower(op); })))
      signalPassFailure();
  }

  /// The runtime function `name` of `type`, declared once in the module.
  func::FuncOp runtimeFunction(StringRef name, FunctionType type) {
    ModuleOp module = getOperation();
    if (auto fn = module.lookupSymbol<func::FuncOp>(name))
      return fn;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
    fn.setPrivate();
    return fn;
  }

  LogicalResult lower(Operation *op) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto reduce = dyn_cast<shard::AllReduceOp>(op))
      return lowerAllReduce(b, reduce);
    if (isa<shard::GridShapeOp, shard::ProcessLinearIndexOp>(op)) {
      bool size = isa<shard::GridShapeOp>(op);
      auto fn =
          runtimeFunction(size ? mpt::kRuntimeWorldSize : mpt::kRuntimeRank,
                          b.getFunctionType({}, {b.getI32Type()}));
      Value value = func::CallOp::create(b, loc, fn, ValueRange{}).getResult(0);
      Value index =
          arith::IndexCastUIOp::create(b, loc, b.getIndexType(), value);
      op->getResult(0).replaceAllUsesWith(index);
      op->erase();
      return success();
    }
    return op->emitOpError()
           << "is not supported on the GPU path (mpt-collectives-to-runtime "
              "takes shard.all_reduce, shard.grid_shape and "
              "shard.process_linear_index)";
  }

  LogicalResult lowerAllReduce(OpBuilder &b, shard::AllReduceOp reduce) {
    Location loc = reduce.getLoc();
    auto inType = dyn_cast<RankedTensorType>(reduce.getInput().getType());
    auto outType = dyn_cast<RankedTensorType>(reduce.getResult().getType());
    if (!inType || !outType)
      return reduce.emitOpError()
             << "on memrefs: the GPU path lowers all-reduces of tensors";
    std::optional<int32_t> op = ncclOp(reduce.getReduction());
    if (!op)
      return reduce.emitOpError()
             << "reduces with " << stringifyEnum(reduce.getReduction())
             << ": NCCL reduces with sum, product, max, min or average";
    // NCCL reduces in the result's type (an all-reduce may widen); flags
    // (i1) travel as bytes.
    Type elem = outType.getElementType();
    Type wire = elem.isInteger(1) ? b.getI8Type() : elem;
    std::optional<int32_t> dtype = ncclType(wire);
    if (!dtype)
      return reduce.emitOpError()
             << "of " << elem << " elements: NCCL reduces f16, bf16, f32, "
             << "f64, i1 (as bytes), i8, i32 and i64";
    auto wireType = RankedTensorType::get(outType.getShape(), wire);
    Value input = mpt::castElements(b, loc, reduce.getInput(), wireType);

    auto bufferType = MemRefType::get(wireType.getShape(), wire);
    Value in = bufferization::ToBufferOp::create(b, loc, bufferType, input,
                                                 /*readOnly=*/true);
    // The element count: the static sizes' product times the dynamic ones.
    SmallVector<Value> dynamicSizes;
    int64_t staticCount = 1;
    for (auto [i, size] : llvm::enumerate(wireType.getShape())) {
      if (ShapedType::isDynamic(size))
        dynamicSizes.push_back(tensor::DimOp::create(b, loc, input, i));
      else
        staticCount *= size;
    }
    Value out = memref::AllocOp::create(b, loc, bufferType, dynamicSizes);
    Value count = arith::ConstantIndexOp::create(b, loc, staticCount);
    for (Value size : dynamicSizes)
      count = arith::MulIOp::create(b, loc, count, size);
    Type i32 = b.getI32Type(), i64 = b.getI64Type(), index = b.getIndexType();
    auto fn =
        runtimeFunction(mpt::kRuntimeAllReduce,
                        b.getFunctionType({index, index, i64, i32, i32}, {}));
    Value sendPtr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, in);
    Value recvPtr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, out);
    func::CallOp::create(
        b, loc, fn,
        ValueRange{sendPtr, recvPtr,
                   arith::IndexCastUIOp::create(b, loc, i64, count),
                   arith::ConstantIntOp::create(b, loc, i32, *dtype),
                   arith::ConstantIntOp::create(b, loc, i32, *op)});
    Value result = bufferization::ToTensorOp::create(
        b, loc, wireType, out, /*restrict=*/true, /*writable=*/true);
    reduce.replaceAllUsesWith(mpt::castElements(b, loc, result, outType));
    reduce.erase();
    return success();
  }
};

} // namespace
