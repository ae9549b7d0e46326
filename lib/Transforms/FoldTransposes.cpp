//===- FoldTransposes.cpp - Transposes into contraction indexing maps -----===//
//
// A backward reads weights and activations transposed (dX = dY W^T,
// dW = X^T dY). Written with linalg.transpose, each costs a kernel that
// writes a transposed copy; folded into the contraction's indexing map, the
// contraction reads the original (tensor-core kernels load either layout).
// The other data-movement named ops (broadcast, transpose, reduce) become
// linalg.generic so that mpt-fuse-elementwise can fuse them with their
// elementwise neighbours.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mpt {
#define GEN_PASS_DEF_FOLDTRANSPOSES
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The map that reads the input of `transpose` where `map` read its result:
/// result dim j of a transpose is input dim permutation[j].
AffineMap readThroughTranspose(AffineMap map, linalg::TransposeOp transpose) {
  ArrayRef<int64_t> perm = transpose.getPermutation();
  SmallVector<AffineExpr> results(perm.size());
  for (auto [j, p] : llvm::enumerate(perm))
    results[p] = map.getResult(j);
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

/// contraction(transpose(x), ...) -> linalg.generic reading x through the
/// composed map, with the contraction's own body (casts included).
struct FoldIntoContraction
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  FoldIntoContraction(MLIRContext *ctx, llvm::Statistic &count)
      : OpInterfaceRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumRegions() != 1 ||
        !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a contraction on tensors");
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    SmallVector<Value> inputs;
    unsigned folded = 0;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose || !transpose.hasPureTensorSemantics()) {
        inputs.push_back(input->get());
        continue;
      }
      unsigned index = input->getOperandNumber();
      maps[index] = readThroughTranspose(maps[index], transpose);
      inputs.push_back(transpose.getInput());
      ++folded;
    }
    if (!folded)
      return rewriter.notifyMatchFailure(op, "reads no transpose");
    auto generic = linalg::GenericOp::create(
        rewriter, op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits(),
        maps, op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op->getRegion(0), generic.getRegion(),
                                generic.getRegion().end());
    // Discardable attributes (a recorded strategy, say) stay with the op.
    for (NamedAttribute attr : op->getDiscardableAttrs())
      generic->setAttr(attr.getName(), attr.getValue());
    rewriter.replaceOp(op, generic->getResults());
    count += folded;
    return success();
  }

  llvm::Statistic &count;
};

/// The kind of float cast `op` is (arith.truncf or arith.extf, alone or as
/// the only op of an elementwise linalg.generic with identity maps), or
/// nullopt.
static std::optional<OperationName> castKind(Operation *op) {
  if (isa<arith::TruncFOp, arith::ExtFOp>(op))
    return op->getName();
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureTensorSemantics() ||
      generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }) ||
      generic.payloadUsesValueFromOperand(generic.getDpsInitOperand(0)))
    return std::nullopt;
  Block *body = generic.getBlock();
  if (body->getOperations().size() != 2)
    return std::nullopt;
  Operation &castOp = body->front();
  if (!isa<arith::TruncFOp, arith::ExtFOp>(castOp) ||
      castOp.getOperand(0) != body->getArgument(0) ||
      body->getTerminator()->getOperand(0) != castOp.getResult(0))
    return std::nullopt;
  return castOp.getName();
}

/// The transpose that `op`, a float cast of one tensor (arith.truncf or
/// arith.extf on tensors, or an elementwise linalg.generic with identity
/// maps whose body is only that cast of its input), reads, if every user of
/// the cast is a contraction on tensors.
static linalg::TransposeOp castOfTransposeForContractions(Operation *op) {
  if (op->getNumResults() != 1 ||
      !llvm::all_of(op->getUsers(), [](Operation *user) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
        return linalgOp && linalgOp.hasPureTensorSemantics() &&
               linalg::isaContractionOpInterface(linalgOp);
      }))
    return nullptr;
  if (!castKind(op))
    return nullptr;
  Value input = op->getOperand(0);
  auto transpose = input.getDefiningOp<linalg::TransposeOp>();
  return transpose && transpose.hasPureTensorSemantics() ? transpose : nullptr;
}

/// cast(transpose(x)) -> transpose(cast(x)) where only contractions read
/// the cast: they then read the new transpose through their maps
/// (FoldIntoContraction). A backward casts saved activations transposed
/// that its forward already cast as they are (attention's P in
/// dV = P^T dO): swapped, the moved cast is the forward's (reused when it
/// comes before in the same block), and no kernel writes a transposed
/// copy.
struct CastBeforeTranspose : public RewritePattern {
  CastBeforeTranspose(MLIRContext *ctx, llvm::Statistic &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx), count(count) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    linalg::TransposeOp transpose = castOfTransposeForContractions(op);
    if (!transpose)
      return rewriter.notifyMatchFailure(op, "not a cast of a transpose "
                                             "read by contractions");
    Location loc = op->getLoc();
    Value x = transpose.getInput();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Type element = resultType.getElementType();
    // The same cast of x before op (the forward's), if there is one.
    Value casted;
    for (Operation *user : x.getUsers()) {
      if (user == op || user->getBlock() != op->getBlock() ||
          !user->isBeforeInBlock(op) || user->getNumResults() != 1 ||
          user->getOperand(0) != x || castKind(user) != castKind(op) ||
          cast<RankedTensorType>(user->getResult(0).getType())
                  .getElementType() != element)
        continue;
      casted = user->getResult(0);
      break;
    }
    if (casted) {
      // Reused as is.
    } else if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      Value init = tensor::EmptyOp::create(
          rewriter, loc, tensor::getMixedSizes(rewriter, loc, x), element);
      auto moved = linalg::GenericOp::create(
          rewriter, loc, TypeRange{init.getType()}, ValueRange{x},
          ValueRange{init}, generic.getIndexingMapsArray(),
          generic.getIteratorTypesArray());
      rewriter.cloneRegionBefore(generic.getRegion(), moved.getRegion(),
                                 moved.getRegion().end());
      casted = moved.getResult(0);
    } else {
      auto type = cast<RankedTensorType>(x.getType()).clone(element);
      OperationState state(loc, op->getName().getStringRef(), ValueRange{x},
                           TypeRange{type}, op->getAttrs());
      casted = rewriter.create(state)->getResult(0);
    }
    Value init = tensor::EmptyOp::create(
        rewriter, loc,
        tensor::getMixedSizes(rewriter, loc, transpose.getInit()), element);
    auto moved = linalg::TransposeOp::create(rewriter, loc, casted, init,
                                             transpose.getPermutation());
    rewriter.replaceOp(op, moved->getResults());
    ++count;
    return success();
  }

  llvm::Statistic &count;
};

/// broadcast, transpose and reduce on tensors -> linalg.generic.
struct GeneralizeDataMovement
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  GeneralizeDataMovement(MLIRContext *ctx, llvm::Statistic &count)
      : OpInterfaceRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<linalg::BroadcastOp, linalg::TransposeOp, linalg::ReduceOp>(
            op.getOperation()) ||
        !op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not data movement on tensors");
    // A transpose that a contraction still reads is folded first, and one
    // whose cast is moved before it (for contractions) is left to that.
    if (isa<linalg::TransposeOp>(op.getOperation()) &&
        llvm::any_of(op->getUsers(), [](Operation *user) {
          auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
          return (linalgOp && linalg::isaContractionOpInterface(linalgOp)) ||
                 castOfTransposeForContractions(user);
        }))
      return rewriter.notifyMatchFailure(op, "read by a contraction");
    if (failed(linalg::generalizeNamedOp(rewriter, op)))
      return failure();
    ++count;
    return success();
  }

  llvm::Statistic &count;
};

struct FoldTransposesPass
    : public mpt::impl::FoldTransposesBase<FoldTransposesPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoContraction>(&getContext(), numFolded);
    patterns.add<CastBeforeTranspose>(&getContext(), numCastsMoved);
    if (generalize)
      patterns.add<GeneralizeDataMovement>(&getContext(), numGeneralized);
    // Nothing is folded or simplified otherwise: bodies stay as they are.
    if (failed(mpt::applyPatternsOnly(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
