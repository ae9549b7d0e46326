//===- DataParallel.cpp - All-reduce the grads of a data-parallel step ----===//
//
// Every rank runs the same step on its own shard of the batch; the grads are
// summed across ranks (shard.all_reduce on a one-axis grid) and divided by
// the number of ranks, in buckets placed as soon as their grads exist. With
// loss scaling the scaled grads are reduced before mpt.unscale_check, and
// its found_inf is combined across ranks (max) before anything reads it.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTOps.h"
#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Collectives.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"

namespace mpt {
#define GEN_PASS_DEF_DATAPARALLEL
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

/// Grads all-reduced together: one shard.all_reduce over their values laid
/// end to end (or over the grad itself, for a bucket of one).
struct Bucket {
  SmallVector<Value> grads;
  int64_t bytes = 0;
};

int64_t staticBytes(RankedTensorType type) {
  return type.getNumElements() *
         llvm::divideCeil(type.getElementTypeBitWidth(), 8);
}

struct DataParallelPass : public mpt::impl::DataParallelBase<DataParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (worldSize < 0) {
      module.emitError() << "mpt-data-parallel: world-size must be >= 1, or 0 "
                            "for the launcher's world size at run time; got "
                         << static_cast<int64_t>(worldSize);
      return signalPassFailure();
    }
    if (!(bucketMb >= 0)) {
      module.emitError() << "mpt-data-parallel: bucket-mb must be >= 0 (0: "
                            "one all-reduce per grad); got "
                         << static_cast<double>(bucketMb);
      return signalPassFailure();
    }
    if (reduceType != "grad" && reduceType != "bf16" && reduceType != "f16") {
      module.emitError() << "mpt-data-parallel: reduce-type must be grad, "
                            "bf16 or f16; got '"
                         << reduceType << "'";
      return signalPassFailure();
    }
    if (Operation *existing = SymbolTable::lookupSymbolIn(module, gridName)) {
      existing->emitError()
          << "mpt-data-parallel: the module already has a symbol @" << gridName
          << " (the step is data-parallel already?); name the grid with "
             "grid=<name>";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> steps;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && isTrainingStep(fn))
        steps.push_back(fn);
    if (steps.empty()) {
      module.emitError()
          << "mpt-data-parallel: no function has grads to all-reduce "
             "(results with mpt.role = \"grad\", or an mpt.unscale_check after "
             "loss scaling)";
      return signalPassFailure();
    }
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    shard::GridOp::create(
        b, module.getLoc(), gridName,
        ArrayRef<int64_t>{worldSize ? worldSize : ShapedType::kDynamic});
    for (func::FuncOp fn : steps)
      if (failed(process(fn)))
        return signalPassFailure();
  }

  static bool isTrainingStep(func::FuncOp fn) {
    return !getResultsWithRole(fn, Role::Grad).empty() ||
           !getResultsWithRole(fn, Role::ParamOut).empty() ||
           fn->walk([](UnscaleCheckOp) {
               return WalkResult::interrupt();
             }).wasInterrupted();
  }

  LogicalResult process(func::FuncOp fn) {
    if (!getResultsWithRole(fn, Role::ParamOut).empty())
      return fn.emitOpError()
             << "already updates its parameters in the step "
                "(mpt-attach-optimizer): mpt-data-parallel must run before it, "
                "so that the optimizer reads the all-reduced grads";
    if (!fn.getBody().hasOneBlock())
      return fn.emitOpError()
             << "has " << fn.getBody().getBlocks().size()
             << " blocks: mpt-data-parallel places the all-reduces in a "
                "single-block body (structured control flow: scf)";
    Block &body = fn.getBody().front();
    entry = &body;
    factors.clear();

    // The ops that read the grads: mpt.unscale_check after loss scaling
    // (the scaled grads, so that its check sees the reduced ones), else
    // the return.
    SmallVector<UnscaleCheckOp> checks;
    fn.walk([&](UnscaleCheckOp check) { checks.push_back(check); });
    averageInUnscale = !checks.empty();
    SmallVector<OpOperand *> gradUses;
    if (!checks.empty()) {
      for (UnscaleCheckOp check : checks) {
        if (check->getBlock() != &body)
          return check.emitOpError()
                 << "is inside a region: mpt-data-parallel all-reduces the "
                    "grads of an mpt.unscale_check in the function's body";
        for (OpOperand &operand : check.getGradsMutable())
          gradUses.push_back(&operand);
      }
    } else {
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      for (unsigned i : getResultsWithRole(fn, Role::Grad))
        gradUses.push_back(&ret->getOpOperand(i));
    }

    // Each grad once, in the order the backward computes them.
    DenseMap<Operation *, unsigned> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i + 1;
    auto positionOf = [&](Value v) -> unsigned {
      Operation *def = v.getDefiningOp();
      return def ? position.lookup(def) : 0; // arguments first
    };
    llvm::SetVector<Value> grads;
    for (OpOperand *use : gradUses) {
      Value g = use->get();
      auto type = dyn_cast<RankedTensorType>(g.getType());
      if (!type || !isa<FloatType>(type.getElementType()))
        return fn.emitOpError()
               << "has a grad of type " << g.getType()
               << ": mpt-data-parallel all-reduces ranked float tensors";
      grads.insert(g);
    }
    SmallVector<Value> order = grads.takeVector();
    llvm::stable_sort(
        order, [&](Value a, Value b) { return positionOf(a) < positionOf(b); });

    SmallVector<Bucket> buckets = makeBuckets(order);
    DenseMap<Value, Value> reduced;
    for (auto [index, bucket] : llvm::enumerate(buckets)) {
      Value last = bucket.grads.back();
      OpBuilder b(fn.getContext());
      if (Operation *def = last.getDefiningOp())
        b.setInsertionPointAfter(def);
      else
        b.setInsertionPointToStart(&body);
      emitBucket(b, fn.getLoc(), bucket, reduced);
      if (remarks)
        remarkBucket(fn, index, bucket);
    }
    for (OpOperand *use : gradUses)
      use->set(reduced.lookup(use->get()));
    for (UnscaleCheckOp check : checks)
      rewriteCheck(check);
    return success();
  }

  /// After loss scaling the average costs no pass over the grads: the
  /// check unscales the sums by 1 / (scale * N). Every rank must skip the
  /// same steps: found_inf is combined across ranks before the scale update
  /// and the optimizer read it.
  void rewriteCheck(UnscaleCheckOp check) const {
    OpBuilder b(check);
    Location loc = check.getLoc();
    if (worldSize != 1) {
      Value n = tensor::FromElementsOp::create(
          b, loc, RankedTensorType::get({}, b.getF32Type()),
          emitWorldSize(b, loc));
      check.getScaleMutable().assign(
          arith::MulFOp::create(b, loc, check.getScale(), n));
    }
    b.setInsertionPointAfter(check);
    Value found = check.getFoundInf();
    auto combined = shard::AllReduceOp::create(b, loc, found.getType(),
                                               gridName, gridAxes(), found,
                                               shard::ReductionKind::Max);
    found.replaceAllUsesExcept(combined.getResult(), combined);
  }

  static void remarkBucket(func::FuncOp fn, size_t index,
                           const Bucket &bucket) {
    Operation *def = bucket.grads.back().getDefiningOp();
    InFlightDiagnostic remark = emitRemark(def ? def->getLoc() : fn.getLoc());
    remark << "mpt-data-parallel: bucket " << index << ": "
           << bucket.grads.size() << " grad"
           << (bucket.grads.size() == 1 ? "" : "s") << ", ";
    if (bucket.bytes >= 0)
      remark << bucket.bytes << " bytes";
    else
      remark << "dynamic size";
    if (def)
      remark << ", after " << def->getName();
    else
      remark << ", at entry";
  }

  SmallVector<shard::GridAxis> gridAxes() const { return {0}; }

  /// Consecutive grads (in backward order) of one element type and static
  /// shapes share a bucket until it holds bucket-mb MiB; a grad of dynamic
  /// shape has a bucket of its own.
  SmallVector<Bucket> makeBuckets(ArrayRef<Value> order) const {
    int64_t limit = static_cast<int64_t>(bucketMb * 1024 * 1024);
    SmallVector<Bucket> buckets;
    for (Value g : order) {
      auto type = cast<RankedTensorType>(g.getType());
      int64_t bytes = type.hasStaticShape() ? staticBytes(type) : -1;
      bool fits =
          !buckets.empty() && bytes >= 0 && buckets.back().bytes >= 0 &&
          buckets.back().bytes < limit &&
          getElementTypeOrSelf(buckets.back().grads.front().getType()) ==
              type.getElementType();
      if (!fits)
        buckets.emplace_back();
      buckets.back().grads.push_back(g);
      buckets.back().bytes = bytes < 0 ? -1 : buckets.back().bytes + bytes;
    }
    return buckets;
  }

  /// The number of ranks in f32: a constant for a static world size, else
  /// the grid's size at run time.
  Value emitWorldSize(OpBuilder &b, Location loc) const {
    Type f32 = b.getF32Type();
    if (worldSize)
      return arith::ConstantOp::create(
          b, loc, b.getFloatAttr(f32, static_cast<double>(worldSize)));
    auto size = shard::GridShapeOp::create(b, loc, gridName,
                                           ArrayRef<shard::GridAxis>{0});
    Value n = arith::IndexCastUIOp::create(b, loc, b.getI64Type(),
                                           size.getResult()[0]);
    return arith::UIToFPOp::create(b, loc, f32, n);
  }

  /// 1 / (number of ranks) in f32.
  Value emitAverageFactor(OpBuilder &b, Location loc) const {
    Type f32 = b.getF32Type();
    if (worldSize)
      return arith::ConstantOp::create(
          b, loc, b.getFloatAttr(f32, 1.0 / static_cast<double>(worldSize)));
    Value one = arith::ConstantOp::create(b, loc, b.getFloatAttr(f32, 1.0));
    return arith::DivFOp::create(b, loc, one, emitWorldSize(b, loc));
  }

  /// The average factor in `type`, made once per function at its entry.
  Value averageFactor(OpBuilder &b, Location loc, FloatType type) {
    if (Value factor = factors.lookup(type))
      return factor;
    OpBuilder::InsertionGuard guard(b);
    Type f32 = b.getF32Type();
    Value base = factors.lookup(f32);
    if (!base) {
      b.setInsertionPointToStart(entry);
      base = factors[f32] = emitAverageFactor(b, loc);
    }
    if (type == f32)
      return base;
    b.setInsertionPointAfter(base.getDefiningOp());
    Value factor = type.getWidth() < 32
                       ? arith::TruncFOp::create(b, loc, type, base).getResult()
                       : arith::ExtFOp::create(b, loc, type, base).getResult();
    return factors[type] = factor;
  }

  /// value * factor, elementwise.
  static Value scale(OpBuilder &b, Location loc, Value value, Value factor) {
    return mapElements(b, loc, value, factor.getType(),
                       [&](OpBuilder &nb, Location nloc, Value v) {
                         return arith::MulFOp::create(nb, nloc, v, factor);
                       });
  }

  /// The 16-bit type grads travel in (reduce-type), or null.
  Type wireType(MLIRContext *ctx) const {
    if (reduceType == "bf16")
      return BFloat16Type::get(ctx);
    if (reduceType == "f16")
      return Float16Type::get(ctx);
    return nullptr;
  }

  /// Sum across ranks, then the average (unless there is one rank). With a
  /// 16-bit reduce-type, wider grads are rounded to it for the all-reduce
  /// and the sum comes back in their type.
  Value allReduceMean(OpBuilder &b, Location loc, Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    Value wire = value;
    if (Type narrow = wireType(b.getContext());
        narrow && type.getElementTypeBitWidth() > 16)
      wire = castElements(b, loc, value, type.clone(narrow));
    Value sum =
        shard::AllReduceOp::create(b, loc, wire.getType(), gridName, gridAxes(),
                                   wire, shard::ReductionKind::Sum)
            .getResult();
    sum = castElements(b, loc, sum, type);
    if (worldSize == 1 || averageInUnscale)
      return sum;
    auto elem = cast<FloatType>(getElementTypeOrSelf(value.getType()));
    return scale(b, loc, sum, averageFactor(b, loc, elem));
  }

  /// The function being rewritten: its entry block, the factors made, and
  /// whether mpt.unscale_check divides by the number of ranks (after loss
  /// scaling) instead of a pass over the reduced grads.
  Block *entry = nullptr;
  DenseMap<Type, Value> factors;
  bool averageInUnscale = false;

  void emitBucket(OpBuilder &b, Location loc, const Bucket &bucket,
                  DenseMap<Value, Value> &reduced) {
    if (bucket.grads.size() == 1) {
      reduced[bucket.grads.front()] =
          allReduceMean(b, loc, bucket.grads.front());
      return;
    }
    // Laid end to end in one flat tensor, reduced, and taken apart.
    Type elem = getElementTypeOrSelf(bucket.grads.front().getType());
    int64_t total = 0;
    for (Value g : bucket.grads)
      total += cast<RankedTensorType>(g.getType()).getNumElements();
    auto flatType = RankedTensorType::get({total}, elem);
    Value flat = tensor::EmptyOp::create(b, loc, flatType.getShape(), elem);
    int64_t offset = 0;
    for (Value g : bucket.grads) {
      auto type = cast<RankedTensorType>(g.getType());
      int64_t n = type.getNumElements();
      flat = tensor::InsertSliceOp::create(
          b, loc, flatten(b, loc, g), flat,
          ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      offset += n;
    }
    Value mean = allReduceMean(b, loc, flat);
    offset = 0;
    for (Value g : bucket.grads) {
      auto type = cast<RankedTensorType>(g.getType());
      int64_t n = type.getNumElements();
      Value part = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({n}, elem), mean,
          ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      reduced[g] = unflatten(b, loc, part, type);
      offset += n;
    }
  }

  /// `value` as a 1-D tensor (static shape).
  static Value flatten(OpBuilder &b, Location loc, Value value) {
    auto type = cast<RankedTensorType>(value.getType());
    auto flatType =
        RankedTensorType::get({type.getNumElements()}, type.getElementType());
    if (type.getRank() == 1)
      return value;
    if (type.getRank() == 0)
      return tensor::ExpandShapeOp::create(b, loc, flatType, value,
                                           ArrayRef<ReassociationIndices>{});
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    return tensor::CollapseShapeOp::create(b, loc, flatType, value,
                                           ArrayRef<ReassociationIndices>{all});
  }

  /// A 1-D tensor back in `type`'s shape.
  static Value unflatten(OpBuilder &b, Location loc, Value flat,
                         RankedTensorType type) {
    if (type.getRank() == 1)
      return flat;
    if (type.getRank() == 0)
      return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                             ArrayRef<ReassociationIndices>{});
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    return tensor::ExpandShapeOp::create(b, loc, type, flat,
                                         ArrayRef<ReassociationIndices>{all});
  }
};

} // namespace
