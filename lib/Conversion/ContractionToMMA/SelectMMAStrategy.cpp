//===- SelectMMAStrategy.cpp - Record the tiling of each contraction ------===//
//
// The one place where tile sizes, warps, stages and copy widths are chosen.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/ContractionToMMA/MMAStrategy.h"
#include "mpt/Conversion/ContractionToMMA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

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

/// The strategy of `c`: tiles and warps by the number of blocks, a K tile of
/// 32 elements (64-byte rows of 16-bit inputs; 128-byte rows of f32 for
/// TF32, which measured 9 % faster than 16 f32 at 8192^3 on the H100), as
/// many stages as fit up to 4 (3 for TF32: 144 KiB for the large tile, which
/// fits sm_80's 163 KiB too; 4 measured no faster), at least 2 (with a
/// shorter K tile if need be), the widest aligned copies.
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
  s.tf32 = c.inputType.isF32();
  s.tileK = 32;
  s.groupM = 8;
  for (s.stages = s.tf32 ? 3 : 4;
       s.stages > 2 && s.sharedMemoryBytes() > smemLimit;)
    --s.stages;
  // Under a small limit, shorter K tiles rather than more than allowed.
  while (s.sharedMemoryBytes() > smemLimit && s.tileK > s.mmaK())
    s.tileK /= 2;
  // At most 16 bytes a cp.async.
  int64_t widest = 16 / s.inputBytes();
  s.copyA =
      std::min(widest, mpt::maxCopyWidth(cast<MemRefType>(c.a.getType())));
  s.copyB =
      std::min(widest, mpt::maxCopyWidth(cast<MemRefType>(c.b.getType())));
  // Narrow copies must still divide evenly among the threads.
  for (int64_t *width : {&s.copyA, &s.copyB})
    while (*width > 1 &&
           (std::min(s.tileM, s.tileN) * s.tileK / *width) % s.numThreads() !=
               0)
      *width /= 2;
  return s;
}

/// Moves the first linalg.generic after `anchor` that reads one of `values`
/// up to right after `anchor` and returns it (null if there is none or the
/// move is illegal). For a contraction and its output C, that is the op
/// mpt-contraction-to-mma computes in the kernel's epilogue
/// (mpt::findMMAEpilogues); for an epilogue and its outputs, the next stage.
/// In a backward, the contraction of dX is often followed by that of dW
/// before the ReLU mask reads dX. The move is legal when every op in
/// between is an allocation, a pure host op, or a linalg op on buffers that
/// touches none of the moved op's buffers, and the moved op's operands
/// defined in between can move up too (before `insertBefore`).
Operation *hoistReader(Operation *anchor, ValueRange values,
                       Operation *insertBefore) {
  Operation *candidate = nullptr;
  for (Value out : values)
    for (Operation *user : out.getUsers())
      if (isa<linalg::GenericOp>(user) &&
          user->getBlock() == anchor->getBlock() &&
          anchor->isBeforeInBlock(user) &&
          (!candidate || user->isBeforeInBlock(candidate)))
        candidate = user;
  if (!candidate)
    return nullptr;
  if (candidate == anchor->getNextNode())
    return candidate;
  auto epilogue = cast<linalg::GenericOp>(candidate);
  llvm::SmallPtrSet<Value, 8> touched;
  for (Value operand : epilogue->getOperands())
    touched.insert(mpt::viewedBuffer(operand));
  // Values the epilogue needs (operands and captured scalars); walking
  // back, an op in between that defines one moves up, and so do the ops
  // that define its operands.
  SetVector<Value> needed;
  needed.insert(epilogue->getOperands().begin(), epilogue->getOperands().end());
  getUsedValuesDefinedAbove(epilogue->getRegions(), needed);
  SmallVector<Operation *> movedUp;
  for (Operation *op = candidate->getPrevNode(); op != anchor;
       op = op->getPrevNode()) {
    bool defines = llvm::any_of(op->getResults(),
                                [&](Value r) { return needed.contains(r); });
    if (isa<gpu::AllocOp>(op) || (isPure(op) && op->getNumRegions() == 0)) {
      if (defines) {
        movedUp.push_back(op);
        needed.insert(op->getOperands().begin(), op->getOperands().end());
      }
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (defines || !linalgOp || !linalgOp.hasPureBufferSemantics())
      return nullptr;
    for (Value operand : op->getOperands())
      if (isa<MemRefType>(operand.getType()) &&
          touched.contains(mpt::viewedBuffer(operand)))
        return nullptr;
  }
  for (Operation *op : llvm::reverse(movedUp))
    op->moveBefore(insertBefore);
  epilogue->moveAfter(anchor);
  return epilogue;
}

/// Hoists the epilogue stages of `contraction` next to it (hoistReader), so
/// that mpt::findMMAEpilogues finds them. Allocations move before the zero
/// fill of the output right before the contraction (which the kernel
/// absorbs, so nothing may come between).
void hoistEpilogue(linalg::LinalgOp contraction, int64_t stages) {
  if (contraction.getNumDpsInits() != 1 || stages == 0)
    return;
  Value out = contraction.getDpsInitOperand(0)->get();
  Operation *before = contraction;
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(contraction->getPrevNode()))
    if (fill.getDpsInitOperand(0)->get() == out)
      before = fill;
  Operation *stage = hoistReader(contraction, out, before);
  for (int64_t i = 1; stage && i < stages; ++i) {
    auto generic = cast<linalg::GenericOp>(stage);
    stage = hoistReader(stage, generic.getDpsInits(), stage);
  }
}

/// Why `c` cannot have a warpgroup strategy, or "" if it can: 16-bit
/// inputs without a batch loop, both read by TMA.
std::string noWarpgroupReason(const mpt::MMAContraction &c) {
  if (c.inputType.isF32())
    return "TF32 runs on mma.sync";
  if (c.batched)
    return "batch loop";
  for (auto [v, name] : {std::pair(c.a, "A"), std::pair(c.b, "B")})
    if (mpt::maxCopyWidth(cast<MemRefType>(v.getType())) < 8)
      return std::string("TMA needs static strides and offset of ") + name +
             " in multiples of 16 bytes";
  return "";
}

/// The remark of `s` on `op` (the option `remarks`).
void remarkStrategy(Operation *op, const mpt::MMAStrategy &s,
                    StringRef whyNotWarpgroup) {
  InFlightDiagnostic d = op->emitRemark();
  d << (s.wgmma  ? "wgmma"
        : s.tf32 ? "mma.sync (tf32)"
                 : "mma.sync")
    << " kernel: tile " << s.tileM << "x" << s.tileN << "x" << s.tileK
    << ", warps " << s.warpsM << "x" << s.warpsN << ", " << s.stages
    << " stages, " << s.sharedMemoryBytes() << " bytes of shared memory";
  if (!whyNotWarpgroup.empty())
    d << " (no wgmma: " << whyNotWarpgroup << ")";
}

/// The warpgroup strategy of `c` (mpt-select-mma-strategy's `wgmma`), if
/// it can have one: 16-bit inputs without a batch loop, both read by TMA.
/// Two consumer warpgroups of 64 rows, a 128x256 tile where that still
/// gives `numSMs` blocks (wgmma m64n256k16: 128 accumulators a thread;
/// measured 707 against 621 TFLOP/s for 128x128 at 8192^3 f16 on the H100),
/// else 128x128; a K tile of 64, as many stages as fit (at most 4).
std::optional<mpt::MMAStrategy>
chooseWarpgroup(linalg::LinalgOp op, const mpt::MMAContraction &c,
                int64_t numSMs, int64_t smemLimit, bool persistent) {
  if (!noWarpgroupReason(c).empty())
    return std::nullopt;
  linalg::ContractionDimensions dims = *linalg::inferContractionDims(op);
  int64_t m = extent(op, dims.m[0], 4096), n = extent(op, dims.n[0], 4096);
  mpt::MMAStrategy s;
  s.wgmma = true;
  s.tileM = 128;
  s.tileN = ceilDiv(m, 128) * ceilDiv(n, 256) >= numSMs ? 256 : 128;
  s.tileK = 64;
  // A persistent grid only where there are more tiles than blocks (with
  // fewer, its tile loop is pure overhead: measured 0.116 -> 0.130 ms on a
  // 128-tile dW GEMM of the MLP step).
  int64_t tiles = ceilDiv(m, s.tileM) * ceilDiv(n, s.tileN);
  s.persistent = persistent && tiles > numSMs ? numSMs : 0;
  s.warpsM = 8;
  s.warpsN = 1;
  s.groupM = 8;
  for (s.stages = 4; s.stages > 2 && s.sharedMemoryBytes() > smemLimit;)
    --s.stages;
  if (s.sharedMemoryBytes() > smemLimit)
    return std::nullopt;
  return s;
}

struct SelectMMAStrategyPass
    : public mpt::impl::SelectMMAStrategyBase<SelectMMAStrategyPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp op : ops) {
      if (!op->hasAttr(mpt::kMMAStrategyAttrName)) {
        std::string reason;
        FailureOr<mpt::MMAContraction> c =
            mpt::matchMMAContraction(op, reason, allowTF32);
        if (failed(c))
          continue;
        std::optional<mpt::MMAStrategy> warpgroup;
        if (wgmma)
          warpgroup =
              chooseWarpgroup(op, *c, numSMs, sharedMemoryLimit, persistent);
        mpt::MMAStrategy s =
            warpgroup ? *warpgroup : choose(op, *c, numSMs, sharedMemoryLimit);
        numWarpgroup += s.wgmma;
        s.epilogueStages = epilogueStages;
        if (remarks)
          remarkStrategy(op, s,
                         wgmma && !warpgroup ? noWarpgroupReason(*c) : "");
        op->setAttr(mpt::kMMAStrategyAttrName, mpt::toAttr(&getContext(), s));
        ++numSelected;
      }
      // A pinned strategy without the key gets one stage.
      FailureOr<mpt::MMAStrategy> s = mpt::readStrategy(op);
      if (failed(s))
        return signalPassFailure();
      hoistEpilogue(op, s->epilogueStages);
    }
  }
};
} // namespace
