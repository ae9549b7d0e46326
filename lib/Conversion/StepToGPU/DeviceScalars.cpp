//===- DeviceScalars.cpp - Scalar code on tensor elements into kernels ----===//
//
// After bufferization a tensor.extract is a load from device memory; on the
// host it would need a copy and a synchronisation. Each chain of scalar ops
// that starts at a tensor.extract is cloned into the linalg op that consumes
// it (so it runs in that op's kernel), and tensor.from_elements becomes a
// linalg.generic, so that no scalar of the step is computed on the host.
//
//===----------------------------------------------------------------------===//

#include "DeviceValues.h"
#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mpt {
#define GEN_PASS_DEF_DEVICESCALARS
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

struct DeviceScalarsPass
    : public mpt::impl::DeviceScalarsBase<DeviceScalarsPass> {
  mpt::DeviceScalarAnalysis analysis;
  SmallVector<linalg::LinalgOp> capturing;
  SmallVector<tensor::FromElementsOp> fromElements;
  SmallVector<linalg::FillOp> fills;
  SmallVector<Operation *> chainOps;

  void runOnOperation() override {
    if (failed(collect(getOperation())))
      return signalPassFailure();
    for (linalg::LinalgOp op : capturing)
      if (failed(cloneIntoRegion(op)))
        return signalPassFailure();
    for (tensor::FromElementsOp op : fromElements)
      rewriteFromElements(op);
    for (linalg::FillOp op : fills)
      rewriteFill(op);
    eraseDeadChains();
  }

  /// Finds the ops that consume device scalars; fails on a consumer that
  /// cannot run in a kernel.
  LogicalResult collect(Operation *root) {
    WalkResult result = root->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == root)
        return WalkResult::advance();
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (failed(collectLinalg(linalgOp)))
          return WalkResult::interrupt();
        return WalkResult::skip();
      }
      if (auto fe = dyn_cast<tensor::FromElementsOp>(op)) {
        fromElements.push_back(fe);
        ++numSinks;
        return WalkResult::advance();
      }
      if (isa<tensor::ExtractOp>(op) || mpt::isPureScalarOp(op)) {
        chainOps.push_back(op);
        return WalkResult::advance();
      }
      for (Value operand : op->getOperands())
        if (analysis.isDeviceScalar(operand)) {
          (void)reject(op, operand);
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    return failure(result.wasInterrupted());
  }

  LogicalResult collectLinalg(linalg::LinalgOp op) {
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      if (isa<ShapedType>(v.getType()) || !analysis.isDeviceScalar(v))
        continue;
      auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
      if (!fill)
        return reject(op, v);
      fills.push_back(fill);
      ++numSinks;
      return success();
    }
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    if (llvm::any_of(captured,
                     [&](Value v) { return analysis.isDeviceScalar(v); })) {
      capturing.push_back(op);
      ++numSinks;
    }
    return success();
  }

  LogicalResult reject(Operation *op, Value value) {
    InFlightDiagnostic diag =
        op->emitOpError("uses a scalar read from a tensor on the host; on "
                        "the GPU such scalars live in device memory, so only "
                        "linalg ops and tensor.from_elements may consume "
                        "them (compute it with tensor ops instead)");
    diag.attachNote(value.getLoc()) << "the scalar is computed here";
    return diag;
  }

  /// Clones the chains of `values` at `b`'s insertion point; returns the map.
  IRMapping cloneChains(OpBuilder &b, ArrayRef<Value> values) {
    SetVector<Operation *> slice;
    for (Value v : values) {
      SetVector<Operation *> one = analysis.computeSlice(v);
      slice.insert(one.begin(), one.end());
    }
    IRMapping mapping;
    for (Operation *op : topologicalSort(slice))
      b.clone(*op, mapping);
    return mapping;
  }

  LogicalResult cloneIntoRegion(linalg::LinalgOp op) {
    if (!isa<linalg::GenericOp>(op.getOperation()))
      return op->emitOpError(
          "captures a scalar read from a tensor; only linalg.generic can "
          "compute it in its kernel (generalize the op first)");
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    SmallVector<Value> device;
    for (Value v : captured)
      if (analysis.isDeviceScalar(v))
        device.push_back(v);
    Block *body = &op->getRegion(0).front();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    IRMapping mapping = cloneChains(b, device);
    for (Value v : device)
      replaceAllUsesInRegionWith(v, mapping.lookup(v), op->getRegion(0));
    return success();
  }

  /// Element `i` of the list at linear index `i`, as a select chain.
  void rewriteFromElements(tensor::FromElementsOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t rank = type.getRank();
    Value init =
        tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    SmallVector<Value> elements(op.getElements());
    auto generic = linalg::GenericOp::create(
        b, loc, type, ValueRange{}, init,
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)}, iters,
        [&](OpBuilder &nb, Location nl, ValueRange) {
          IRMapping mapping = cloneChains(nb, elements);
          auto get = [&](Value v) { return mapping.lookupOrDefault(v); };
          Value result = get(elements.back());
          if (elements.size() > 1) {
            Value linear = linearIndex(nb, nl, type);
            for (int64_t i = elements.size() - 2; i >= 0; --i) {
              Value at = arith::ConstantIndexOp::create(nb, nl, i);
              Value is = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                               linear, at);
              result =
                  arith::SelectOp::create(nb, nl, is, get(elements[i]), result);
            }
          }
          linalg::YieldOp::create(nb, nl, result);
        });
    op.replaceAllUsesWith(generic.getResult(0));
    op.erase();
  }

  static Value linearIndex(OpBuilder &b, Location loc, RankedTensorType type) {
    Value linear = arith::ConstantIndexOp::create(b, loc, 0);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      Value size = arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
      Value idx = linalg::IndexOp::create(b, loc, d);
      linear = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, linear, size), idx);
    }
    return linear;
  }

  void rewriteFill(linalg::FillOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value value = op.getInputs()[0];
    Value init = op.getOutputs()[0];
    auto type = cast<RankedTensorType>(init.getType());
    int64_t rank = type.getRank();
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        b, loc, type, ValueRange{}, init,
        ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)}, iters,
        [&](OpBuilder &nb, Location nl, ValueRange) {
          IRMapping mapping = cloneChains(nb, {value});
          linalg::YieldOp::create(nb, nl, mapping.lookup(value));
        });
    op->replaceAllUsesWith(generic->getResults());
    op.erase();
  }

  /// The original chains are dead once every consumer has its own copy.
  void eraseDeadChains() {
    for (Operation *op : llvm::reverse(chainOps))
      if (op->use_empty())
        op->erase();
  }
};
} // namespace
