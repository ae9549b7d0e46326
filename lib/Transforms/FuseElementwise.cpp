//===- FuseElementwise.cpp - Fuse elementwise chains before bufferizing ---===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mpt {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
bool isElementwise(linalg::GenericOp op) {
  return op.hasPureTensorSemantics() &&
         op.getNumLoops() == op.getNumParallelLoops();
}

/// Gives an elementwise generic whose payload ignores its `outs` values a
/// fresh `tensor.empty` destination, so that its result does not join the
/// alias set of the value it used to overwrite. Block arguments stay: a
/// writable function argument is a buffer that costs nothing.
struct FreshDestination : public OpRewritePattern<linalg::GenericOp> {
  FreshDestination(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!isElementwise(op))
      return rewriter.notifyMatchFailure(op, "not elementwise on tensors");
    SmallVector<OpOperand *> replaced;
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!op.payloadUsesValueFromOperand(&init) &&
          !init.get().getDefiningOp<tensor::EmptyOp>() &&
          !isa<BlockArgument>(init.get()))
        replaced.push_back(&init);
    if (replaced.empty())
      return rewriter.notifyMatchFailure(op, "destinations already fresh");
    rewriter.modifyOpInPlace(op, [&] {
      for (OpOperand *init : replaced) {
        auto type = cast<RankedTensorType>(init->get().getType());
        SmallVector<OpFoldResult> sizes =
            tensor::getMixedSizes(rewriter, op.getLoc(), init->get());
        init->set(tensor::EmptyOp::create(rewriter, op.getLoc(), sizes,
                                          type.getElementType()));
      }
    });
    count += replaced.size();
    return success();
  }

  llvm::Statistic &count;
};

/// Fuses the only use of an elementwise producer into its consumer, while the
/// fused payload stays small.
struct FuseProducer : public OpRewritePattern<linalg::GenericOp> {
  FuseProducer(MLIRContext *ctx, unsigned maxBodyOps, llvm::Statistic &count)
      : OpRewritePattern(ctx), maxBodyOps(maxBodyOps), count(count) {}

  static size_t bodySize(linalg::GenericOp op) {
    return op.getRegion().front().getOperations().size();
  }

  /// The consumer's destination when it is the producer's result and
  /// unread (as `convert-elementwise-to-linalg` makes it), else null.
  static OpOperand *inheritableInit(linalg::GenericOp consumer,
                                    Value producerResult) {
    for (OpOperand &init : consumer.getDpsInitsMutable())
      if (init.get() == producerResult &&
          !consumer.payloadUsesValueFromOperand(&init))
        return &init;
    return nullptr;
  }

  /// Every use of the producer is this input, or this input and the
  /// consumer's unread destination.
  bool worthFusing(OpOperand &operand) const {
    auto producer = operand.get().getDefiningOp<linalg::GenericOp>();
    if (!producer || producer->getNumResults() != 1 || !isElementwise(producer))
      return false;
    auto consumer = cast<linalg::GenericOp>(operand.getOwner());
    // A contraction would recompute the producer for every point of the
    // other operand (and lose its tensor-core form on the GPU).
    if (linalg::isaContractionOpInterface(consumer))
      return false;
    size_t uses = llvm::range_size(producer->getUses());
    if (uses != 1 && !(uses == 2 && inheritableInit(consumer, operand.get())))
      return false;
    return bodySize(producer) + bodySize(consumer) <= maxBodyOps + 1 &&
           linalg::areElementwiseOpsFusable(&operand);
  }

  /// The fused op writes where the producer wrote: the consumer takes over
  /// the producer's destination (when the producer does not read it).
  static bool inheritDestination(linalg::GenericOp consumer, OpOperand &operand,
                                 PatternRewriter &rewriter, bool &changed) {
    OpOperand *init = inheritableInit(consumer, operand.get());
    if (!init)
      return true;
    auto producer = operand.get().getDefiningOp<linalg::GenericOp>();
    OpOperand &producerInit = producer.getDpsInitsMutable()[0];
    if (producer.payloadUsesValueFromOperand(&producerInit))
      return false;
    rewriter.modifyOpInPlace(consumer, [&] { init->set(producerInit.get()); });
    changed = true;
    return true;
  }

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not on tensors");
    bool changed = false;
    for (OpOperand *operand : op.getDpsInputOperands()) {
      if (!worthFusing(*operand) ||
          !inheritDestination(op, *operand, rewriter, changed))
        continue;
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, operand);
      if (failed(fused)) {
        if (changed)
          return success(); // The destination moved; try again later.
        continue;
      }
      for (auto [from, to] : fused->replacements)
        if (from.getDefiningOp() == op.getOperation())
          rewriter.replaceAllUsesWith(from, to);
      rewriter.eraseOp(op);
      ++count;
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no single-use producer to fuse");
  }

  unsigned maxBodyOps;
  llvm::Statistic &count;
};

/// A fused generic reads a value once per op of the chain that read it:
/// `x * x + x` fused has three inputs `%x`. Bufferization analyses every use
/// of a tensor against the others (a 1000-op chain reading its argument at
/// each step: 0.6 s), and the loops load each copy. One input per value and
/// indexing map is enough; the payload computes the same.
struct DeduplicateInputs : public OpRewritePattern<linalg::GenericOp> {
  DeduplicateInputs(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  static bool hasDuplicateInput(linalg::GenericOp op) {
    llvm::SmallDenseSet<std::pair<Value, AffineMap>, 8> seen;
    for (OpOperand *input : op.getDpsInputOperands())
      if (!seen.insert({input->get(), op.getMatchingIndexingMap(input)}).second)
        return true;
    return false;
  }

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || !hasDuplicateInput(op))
      return rewriter.notifyMatchFailure(op, "no input read twice");
    if (failed(linalg::deduplicateOperandsAndRemoveDeadResults(
            rewriter, op, /*removeOutputs=*/false)))
      return rewriter.notifyMatchFailure(op, "could not deduplicate");
    ++count;
    return success();
  }

  llvm::Statistic &count;
};

/// A splat constant tensor read by a generic becomes that scalar in its body:
/// no tensor of copies is materialized (on the GPU, a global as large as
/// the tensor). The value read is the same.
struct InlineSplatInput : public OpRewritePattern<linalg::GenericOp> {
  InlineSplatInput(MLIRContext *ctx, llvm::Statistic &count)
      : OpRewritePattern(ctx), count(count) {}

  static TypedAttr splatValue(Value v) {
    auto cst = v.getDefiningOp<arith::ConstantOp>();
    auto dense =
        cst ? dyn_cast<DenseElementsAttr>(cst.getValue()) : DenseElementsAttr();
    if (!dense || !dense.isSplat())
      return {};
    return dense.getSplatValue<TypedAttr>();
  }

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not on tensors");
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    SmallVector<std::pair<unsigned, TypedAttr>> splats;
    for (OpOperand *input : op.getDpsInputOperands()) {
      if (TypedAttr value = splatValue(input->get())) {
        splats.emplace_back(input->getOperandNumber(), value);
        continue;
      }
      inputs.push_back(input->get());
      maps.push_back(op.getMatchingIndexingMap(input));
    }
    if (splats.empty())
      return rewriter.notifyMatchFailure(op, "no splat constant input");
    for (OpOperand &init : op.getDpsInitsMutable())
      maps.push_back(op.getMatchingIndexingMap(&init));
    auto generic = linalg::GenericOp::create(
        rewriter, op.getLoc(), op->getResultTypes(), inputs, op.getDpsInits(),
        maps, op.getIteratorTypesArray());
    generic->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.inlineRegionBefore(op.getRegion(), generic.getRegion(),
                                generic.getRegion().end());
    Block &body = generic.getRegion().front();
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(&body);
    for (auto [index, value] : llvm::reverse(splats)) {
      BlockArgument arg = body.getArgument(index);
      rewriter.replaceAllUsesWith(
          arg, arith::ConstantOp::create(rewriter, op.getLoc(), value));
      body.eraseArgument(index);
    }
    rewriter.replaceOp(op, generic->getResults());
    count += splats.size();
    return success();
  }

  llvm::Statistic &count;
};

struct FuseElementwisePass
    : public mpt::impl::FuseElementwiseBase<FuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    if (freshDestinations)
      patterns.add<FreshDestination>(&getContext(), numFreshDest);
    patterns.add<FuseProducer>(&getContext(), maxBodyOps, numFused);
    patterns.add<InlineSplatInput>(&getContext(), numSplats);
    patterns.add<DeduplicateInputs>(&getContext(), numDeduplicated);
    // The sizes of a fresh destination are `tensor.dim`s of the value it
    // replaces; asking the producers for them instead keeps single uses
    // single (dynamic shapes).
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    // No folding: the payloads must compute what they computed before.
    if (failed(mpt::applyPatternsOnly(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

LogicalResult mpt::applyPatternsOnly(Operation *op,
                                     RewritePatternSet &&patterns) {
  GreedyRewriteConfig config;
  config.setUseTopDownTraversal(true)
      .enableFolding(false)
      .enableConstantCSE(false)
      .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  return applyPatternsGreedily(op, std::move(patterns), config);
}
