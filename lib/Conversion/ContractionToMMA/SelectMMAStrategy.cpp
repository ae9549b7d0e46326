//===- SelectMMAStrategy.cpp - Record the tiling of each contraction ------===//
//
// The one place where tile sizes, warps, stages and copy widths are chosen.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/ContractionToMMA/MMAStrategy.h"
#include "mpt/Conversion/ContractionToMMA/Passes.h"

namespace mpt {
#define GEN_PASS_DEF_SELECTMMASTRATEGY
#include "mpt/Conversion/ContractionToMMA/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
/// Static extent of a loop, or `guess` when it is dynamic.
int64_t extent(linalg::LinalgOp op, unsigned loop, int64_t guess) {
  int64_t size = op.getStaticLoopRanges()[loop];
  return ShapedType::isDynamic(size) ? guess : size;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

mpt::MMAStrategy choose(linalg::LinalgOp op, const mpt::MMAContraction &c,
                        int64_t numSMs, int64_t smemLimit) {
  linalg::ContractionDimensions dims = *linalg::inferContractionDims(op);
  // A dynamic extent is taken to be large: the kernel is correct anyway.
  int64_t m = extent(op, dims.m[0], 4096), n = extent(op, dims.n[0], 4096);
  int64_t batch = c.batched ? extent(op, dims.batch[0], 1) : 1;
  // {tile m, tile n, warps m, warps n}, largest first. Warp tiles are 64x64
  // for the two large tiles (128 accumulators a thread), 32x64 and 32x32
  // below.
  static const int64_t candidates[][4] = {
      {128, 256, 2, 4}, {128, 128, 2, 2}, {64, 128, 2, 2}, {64, 64, 2, 2}};
  const int64_t *pick = candidates[3];
  for (const int64_t *cand : candidates) {
    if (ceilDiv(m, cand[0]) * ceilDiv(n, cand[1]) * batch >= numSMs) {
      pick = cand;
      break;
    }
  }
  mpt::MMAStrategy s;
  s.tileM = pick[0];
  s.tileN = pick[1];
  s.warpsM = pick[2];
  s.warpsN = pick[3];
  s.tileK = 32;
  s.groupM = 8;
  s.copyA = mpt::maxCopyWidth(cast<MemRefType>(c.a.getType()));
  s.copyB = mpt::maxCopyWidth(cast<MemRefType>(c.b.getType()));
  // Narrow copies must still divide evenly among the threads.
  for (int64_t *width : {&s.copyA, &s.copyB})
    while (*width > 1 &&
           (std::min(s.tileM, s.tileN) * s.tileK / *width) % s.numThreads() !=
               0)
      *width /= 2;
  for (s.stages = 4; s.stages > 2 && s.sharedMemoryBytes() > smemLimit;)
    --s.stages;
  return s;
}

struct SelectMMAStrategyPass
    : public mpt::impl::SelectMMAStrategyBase<SelectMMAStrategyPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(mpt::kMMAStrategyAttrName))
        return;
      std::string reason;
      FailureOr<mpt::MMAContraction> c = mpt::matchMMAContraction(op, reason);
      if (failed(c))
        return;
      mpt::MMAStrategy s = choose(op, *c, numSMs, sharedMemoryLimit);
      op->setAttr(mpt::kMMAStrategyAttrName, mpt::toAttr(&getContext(), s));
      ++numSelected;
    });
  }
};
} // namespace
