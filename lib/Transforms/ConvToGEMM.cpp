//===- ConvToGEMM.cpp - Window contractions as im2col + 2-D contraction ---===//
//
// Tensor cores take plain contractions: 2-D operands whose rows and columns
// are loop dimensions. A convolution reads its input through a window
// (x[n, oh + kh, ow + kw, c]), and so do the backward's weight and input
// gradients. This pass gathers such an operand into a tensor indexed by the
// loop dimensions themselves (im2col), collapses both operands and the
// output to matrices, and states the op as a 2-D contraction with the
// original body, which mpt-select-mma-strategy then maps to mma.sync.
//
//===----------------------------------------------------------------------===//

#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mpt {
#define GEN_PASS_DEF_CONVTOGEMM
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

/// The loop dimensions an indexing map reads, in order of first use.
SmallVector<unsigned> dimsOf(AffineMap map) {
  SmallVector<unsigned> dims;
  llvm::SmallBitVector seen(map.getNumDims());
  map.walkExprs([&](AffineExpr e) {
    if (auto d = dyn_cast<AffineDimExpr>(e))
      if (!seen.test(d.getPosition())) {
        seen.set(d.getPosition());
        dims.push_back(d.getPosition());
      }
  });
  return dims;
}

/// The map's results when each is a distinct dimension, else nothing.
std::optional<SmallVector<unsigned>> permutationOf(AffineMap map) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults())
    dims.push_back(cast<AffineDimExpr>(e).getPosition());
  return dims;
}

SmallVector<unsigned> concat(ArrayRef<unsigned> a, ArrayRef<unsigned> b) {
  SmallVector<unsigned> out(a);
  llvm::append_range(out, b);
  return out;
}

/// How an op with a window operand becomes a 2-D contraction. `rows` and
/// `cols` are the output's two groups of dimensions (in its layout); `lhs`
/// is the input that reads `rows` (and the reduction dimensions `red`),
/// `rhs` the other.
struct WindowContraction {
  linalg::LinalgOp op;
  unsigned lhs, rhs; // input numbers
  SmallVector<unsigned> rows, cols, red;
};

/// Matches a contraction on tensors (body: a sum of products, casts
/// allowed) with two inputs and one output, at least one input read
/// through a window (a map result that is not a single dimension), an
/// output indexed by its loop dimensions, and every loop dimension either
/// an output dimension of exactly one input or a reduction of both.
/// The output must hold one input's dimensions first, then the other's.
FailureOr<WindowContraction> match(linalg::LinalgOp op, bool allTypes,
                                   std::string &why) {
  auto fail = [&](const Twine &reason) {
    why = reason.str();
    return failure();
  };
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getNumRegions() != 1)
    return fail("not a two-input, one-output op on tensors");
  if (!linalg::detail::isContractionBody(
          *op.getBlock(), [](Operation *mul, Operation *add) {
            return isa<arith::MulFOp>(mul) && isa<arith::AddFOp>(add);
          }))
    return fail("the body is not a sum of products");
  if (!op.getBlock()->getOps<linalg::IndexOp>().empty())
    return fail("the body reads linalg.index");
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!llvm::any_of(ArrayRef(maps).take_front(2), [](AffineMap m) {
        return !m.isProjectedPermutation(/*allowZeroInResults=*/false);
      }))
    return fail("no input is read through a window");
  if (!allTypes)
    for (OpOperand *input : op.getDpsInputOperands()) {
      Type elem = getElementTypeOrSelf(input->get().getType());
      if (!elem.isF16() && !elem.isBF16())
        return fail("inputs are not f16 or bf16");
    }
  std::optional<SmallVector<unsigned>> out = permutationOf(maps[2]);
  if (!out || out->size() != op.getNumLoops() - op.getNumReductionLoops())
    return fail("the output is not indexed by its loop dimensions");
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  llvm::SmallBitVector inA(op.getNumLoops()), inB(op.getNumLoops()),
      inOut(op.getNumLoops());
  for (unsigned d : dimsOf(maps[0]))
    inA.set(d);
  for (unsigned d : dimsOf(maps[1]))
    inB.set(d);
  for (unsigned d : *out)
    inOut.set(d);
  WindowContraction w;
  w.op = op;
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    bool parallel = iterators[d] == utils::IteratorType::parallel;
    if (parallel != inOut.test(d))
      return fail("a parallel dimension is not an output dimension");
    if (!parallel) {
      if (!inA.test(d) || !inB.test(d))
        return fail("a reduction dimension is not read by both inputs");
      w.red.push_back(d);
    } else if (inA.test(d) == inB.test(d)) {
      return fail("an output dimension is read by both inputs or neither "
                  "(batch dimensions are not supported)");
    }
  }
  // The output's first group belongs to one input, the rest to the other.
  unsigned split = 0;
  bool firstInA = inA.test((*out)[0]);
  while (split < out->size() && inA.test((*out)[split]) == firstInA)
    ++split;
  if (split == out->size() ||
      llvm::any_of(ArrayRef(*out).drop_front(split),
                   [&](unsigned d) { return inA.test(d) == firstInA; }))
    return fail("the output does not hold one input's dimensions, then the "
                "other's");
  if (w.red.empty())
    return fail("no reduction");
  w.lhs = firstInA ? 0 : 1;
  w.rhs = 1 - w.lhs;
  w.rows.assign(out->begin(), out->begin() + split);
  w.cols.assign(out->begin() + split, out->end());
  // The reduction order: that of an input read without a window (so that
  // it needs no copy), else the loop order.
  for (unsigned input : {w.rhs, w.lhs})
    if (std::optional<SmallVector<unsigned>> dims =
            permutationOf(maps[input])) {
      w.red.clear();
      for (unsigned d : *dims)
        if (iterators[d] == utils::IteratorType::reduction)
          w.red.push_back(d);
      break;
    }
  return w;
}

struct Rewriter {
  OpBuilder &b;
  Location loc;
  SmallVector<OpFoldResult> loopSizes;

  /// `value` read through `map` (over the op's loops), as a tensor indexed
  /// by `dims` in this order: `value` itself when `map` reads exactly
  /// that, otherwise a gather (im2col) into a new tensor.
  Value gather(Value value, AffineMap map, ArrayRef<unsigned> dims) {
    if (std::optional<SmallVector<unsigned>> perm = permutationOf(map))
      if (ArrayRef<unsigned>(*perm) == dims)
        return value;
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineExpr> replacements(map.getNumDims(),
                                         getAffineConstantExpr(0, ctx));
    SmallVector<OpFoldResult> sizes;
    for (auto [i, d] : llvm::enumerate(dims)) {
      replacements[d] = getAffineDimExpr(i, ctx);
      sizes.push_back(loopSizes[d]);
    }
    AffineMap read = map.replaceDimsAndSymbols(replacements, {}, dims.size(),
                                               map.getNumSymbols());
    Type elem = getElementTypeOrSelf(value.getType());
    Value init = tensor::EmptyOp::create(b, loc, sizes, elem);
    SmallVector<utils::IteratorType> parallel(dims.size(),
                                              utils::IteratorType::parallel);
    auto copy = linalg::GenericOp::create(
        b, loc, init.getType(), ValueRange{value}, ValueRange{init},
        ArrayRef<AffineMap>{read, b.getMultiDimIdentityMap(dims.size())},
        parallel, [](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, args[0]);
        });
    return copy.getResult(0);
  }

  /// `value` (indexed by first ++ second) as a matrix.
  Value collapse(Value value, size_t first) {
    auto type = cast<RankedTensorType>(value.getType());
    ReassociationIndices a, c;
    for (int64_t i = 0; i < type.getRank(); ++i)
      (i < int64_t(first) ? a : c).push_back(i);
    return tensor::CollapseShapeOp::create(
        b, loc, value, SmallVector<ReassociationIndices>{a, c});
  }
};

void rewrite(const WindowContraction &w) {
  linalg::LinalgOp op = w.op;
  OpBuilder b(op);
  Location loc = op.getLoc();
  Rewriter r{b, loc, {}};
  for (Range range : op.createLoopRanges(b, loc))
    r.loopSizes.push_back(range.size);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Value inputs[2];
  // lhs as (rows, red), rhs as (red, cols) or, when already laid out so,
  // (cols, red): tensor-core kernels read either.
  bool rhsTransposed = false;
  if (std::optional<SmallVector<unsigned>> perm = permutationOf(maps[w.rhs]))
    rhsTransposed = *perm == concat(w.cols, w.red);
  SmallVector<unsigned> lhsDims = concat(w.rows, w.red);
  SmallVector<unsigned> rhsDims =
      rhsTransposed ? concat(w.cols, w.red) : concat(w.red, w.cols);
  inputs[w.lhs] = r.collapse(
      r.gather(op.getDpsInputOperand(w.lhs)->get(), maps[w.lhs], lhsDims),
      w.rows.size());
  inputs[w.rhs] = r.collapse(
      r.gather(op.getDpsInputOperand(w.rhs)->get(), maps[w.rhs], rhsDims),
      rhsTransposed ? w.cols.size() : w.red.size());
  Value init = op.getDpsInitOperand(0)->get();
  Value out = r.collapse(init, w.rows.size());

  // The 2-D contraction over (m, n, k) with the op's own body.
  MLIRContext *ctx = b.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> newMaps(3);
  newMaps[w.lhs] = AffineMap::get(3, 0, {m, k}, ctx);
  newMaps[w.rhs] = rhsTransposed ? AffineMap::get(3, 0, {n, k}, ctx)
                                 : AffineMap::get(3, 0, {k, n}, ctx);
  newMaps[2] = AffineMap::get(3, 0, {m, n}, ctx);
  auto gemm = linalg::GenericOp::create(
      b, loc, out.getType(), ValueRange{inputs[0], inputs[1]}, ValueRange{out},
      newMaps,
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel,
                                    utils::IteratorType::reduction});
  IRMapping mapping;
  op->getRegion(0).cloneInto(&gemm.getRegion(), mapping);
  // Discardable attributes (precision decisions) stay, but not linalg's
  // own (a named op's memoized maps describe the old loops).
  for (NamedAttribute attr : op->getDiscardableAttrs())
    if (!attr.getName().strref().starts_with("linalg."))
      gemm->setAttr(attr.getName(), attr.getValue());

  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    groups[i < int64_t(w.rows.size()) ? 0 : 1].push_back(i);
  Value result = tensor::ExpandShapeOp::create(
      b, loc, resultType, gemm.getResult(0), groups,
      tensor::getMixedSizes(b, loc, init));
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

struct ConvToGEMMPass : public mpt::impl::ConvToGEMMBase<ConvToGEMMPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<WindowContraction> matches;
    getOperation()->walk([&](linalg::LinalgOp op) {
      std::string why;
      FailureOr<WindowContraction> w = match(op, allTypes, why);
      if (succeeded(w))
        matches.push_back(*w);
    });
    for (const WindowContraction &w : matches) {
      rewrite(w);
      ++numRewritten;
    }
  }
};

} // namespace
