//===- MMAStrategy.cpp - Which contractions go to mma.sync, and how -------===//

#include "mpt/Conversion/ContractionToMMA/MMAStrategy.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <algorithm>

using namespace mlir;

namespace mpt {
namespace {
bool is16BitFloat(Type t) { return t.isF16() || t.isBF16(); }

/// The dims of `map`'s results, or failure if one is not a plain dim.
FailureOr<SmallVector<unsigned>> resultDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return failure();
    dims.push_back(d.getPosition());
  }
  return dims;
}

bool hasUnitInnerStride(MemRefType type) {
  int64_t offset;
  SmallVector<int64_t> strides;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty())
    return false;
  return strides.back() == 1;
}

bool isPowerOf2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }
} // namespace

FailureOr<MMAContraction>
matchMMAContraction(linalg::LinalgOp op, std::string &reason, bool allowF32) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1) {
    reason = "not a two-input contraction on memrefs";
    return failure();
  }
  if (!linalg::isaContractionOpInterface(op)) {
    reason = "body is not a multiply-accumulate";
    return failure();
  }
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || dims->batch.size() > 1 ||
      op.getNumLoops() != 3 + dims->batch.size()) {
    reason = "loops are not (batch?, m, n, k)";
    return failure();
  }
  unsigned m = dims->m[0], n = dims->n[0], k = dims->k[0];
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto da = resultDims(maps[0]), db = resultDims(maps[1]),
       dc = resultDims(maps[2]);
  if (failed(da) || failed(db) || failed(dc)) {
    reason = "an indexing map is not a permutation of loops";
    return failure();
  }
  MMAContraction c;
  c.batched = !dims->batch.empty();
  SmallVector<unsigned> lead;
  if (c.batched)
    lead.push_back(dims->batch[0]);
  auto is = [&](ArrayRef<unsigned> got, unsigned x, unsigned y) {
    SmallVector<unsigned> want(lead);
    want.append({x, y});
    return ArrayRef<unsigned>(want) == got;
  };
  if (!is(*dc, m, n)) {
    reason = "output is not indexed [batch?][m][n]";
    return failure();
  }
  if (is(*da, m, k))
    c.aKContiguous = true;
  else if (is(*da, k, m))
    c.aKContiguous = false;
  else {
    reason = "A is not indexed [batch?][m][k] or [batch?][k][m]";
    return failure();
  }
  if (is(*db, n, k))
    c.bKContiguous = true;
  else if (is(*db, k, n))
    c.bKContiguous = false;
  else {
    reason = "B is not indexed [batch?][k][n] or [batch?][n][k]";
    return failure();
  }
  c.a = op.getDpsInputOperand(0)->get();
  c.b = op.getDpsInputOperand(1)->get();
  c.c = op.getDpsInitOperand(0)->get();
  auto ta = cast<MemRefType>(c.a.getType());
  auto tb = cast<MemRefType>(c.b.getType());
  auto tc = cast<MemRefType>(c.c.getType());
  c.inputType = ta.getElementType();
  c.outputType = tc.getElementType();
  if (tb.getElementType() != c.inputType ||
      !(is16BitFloat(c.inputType) || c.inputType.isF32())) {
    reason = "inputs are not both f16, both bf16 or both f32";
    return failure();
  }
  if (c.inputType.isF32() && !allowF32) {
    reason = "f32 inputs run on tensor cores only as TF32, which is off";
    return failure();
  }
  if (!c.outputType.isF32() && c.outputType != c.inputType) {
    reason = "output is neither f32 nor the input type";
    return failure();
  }
  if (!hasUnitInnerStride(ta) || !hasUnitInnerStride(tb)) {
    reason = "an input's innermost stride is not 1";
    return failure();
  }
  return c;
}

DictionaryAttr toAttr(MLIRContext *ctx, const MMAStrategy &s) {
  Builder b(ctx);
  SmallVector<NamedAttribute> entries = {
      b.getNamedAttr("copy", b.getDenseI64ArrayAttr({s.copyA, s.copyB})),
      b.getNamedAttr("epilogue_stages", b.getI64IntegerAttr(s.epilogueStages)),
      b.getNamedAttr("group_m", b.getI64IntegerAttr(s.groupM)),
      b.getNamedAttr("stages", b.getI64IntegerAttr(s.stages)),
      b.getNamedAttr("tile",
                     b.getDenseI64ArrayAttr({s.tileM, s.tileN, s.tileK})),
      b.getNamedAttr("warps", b.getDenseI64ArrayAttr({s.warpsM, s.warpsN}))};
  if (s.tf32)
    entries.push_back(b.getNamedAttr("tf32", b.getUnitAttr()));
  if (s.wgmma)
    entries.push_back(b.getNamedAttr("wgmma", b.getUnitAttr()));
  if (s.persistent)
    entries.push_back(
        b.getNamedAttr("persistent", b.getI64IntegerAttr(s.persistent)));
  return b.getDictionaryAttr(entries);
}

FailureOr<MMAStrategy> readStrategy(Operation *op) {
  auto dict = op->getAttrOfType<DictionaryAttr>(kMMAStrategyAttrName);
  if (!dict)
    return op->emitError() << "'" << kMMAStrategyAttrName
                           << "' must be a dictionary";
  auto array = [&](StringRef name, int64_t size) -> ArrayRef<int64_t> {
    auto a = dict.getAs<DenseI64ArrayAttr>(name);
    if (!a || a.size() != size)
      return {};
    return a.asArrayRef();
  };
  auto integer = [&](StringRef name) -> std::optional<int64_t> {
    if (auto a = dict.getAs<IntegerAttr>(name))
      return a.getInt();
    return std::nullopt;
  };
  ArrayRef<int64_t> tile = array("tile", 3), warps = array("warps", 2),
                    copy = array("copy", 2);
  std::optional<int64_t> stages = integer("stages"),
                         groupM = integer("group_m");
  if (tile.empty() || warps.empty() || copy.empty() || !stages || !groupM)
    return op->emitError()
           << "'" << kMMAStrategyAttrName
           << "' needs tile = array<i64: m, n, k>, warps = array<i64: m, n>, "
              "copy = array<i64: a, b>, stages and group_m";
  MMAStrategy s;
  s.tileM = tile[0];
  s.tileN = tile[1];
  s.tileK = tile[2];
  s.warpsM = warps[0];
  s.warpsN = warps[1];
  s.copyA = copy[0];
  s.copyB = copy[1];
  s.stages = *stages;
  s.groupM = *groupM;
  if (std::optional<int64_t> stagesAfter = integer("epilogue_stages"))
    s.epilogueStages = *stagesAfter;
  if (std::optional<int64_t> blocks = integer("persistent"))
    s.persistent = *blocks;
  for (auto [key, field] : {std::pair<StringRef, bool *>("tf32", &s.tf32),
                            std::pair<StringRef, bool *>("wgmma", &s.wgmma)}) {
    Attribute value = dict.get(key);
    if (!value)
      continue;
    auto flag = dyn_cast<BoolAttr>(value);
    if (!isa<UnitAttr>(value) && !flag)
      return op->emitError() << "'" << kMMAStrategyAttrName << "' key " << key
                             << " must be a unit or bool attribute";
    *field = !flag || flag.getValue();
  }
  return s;
}

int64_t maxCopyWidth(MemRefType type) {
  int64_t offset;
  SmallVector<int64_t> strides;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty() ||
      strides.back() != 1 || ShapedType::isDynamic(offset))
    return 1;
  for (int64_t width : {8, 4, 2}) {
    bool aligned = offset % width == 0;
    for (int64_t stride : ArrayRef<int64_t>(strides).drop_back())
      aligned &= !ShapedType::isDynamic(stride) && stride % width == 0;
    if (aligned)
      return width;
  }
  return 1;
}

namespace {
LogicalResult verifyCopies(const MMAStrategy &s, int64_t maxA, int64_t maxB,
                           llvm::function_ref<InFlightDiagnostic()> fail);
LogicalResult
verifyWarpgroupStrategy(const MMAStrategy &s, const MMAContraction &c,
                        int64_t maxA, int64_t maxB,
                        llvm::function_ref<InFlightDiagnostic()> fail);
} // namespace

LogicalResult verifyStrategy(Operation *op, const MMAStrategy &s,
                             const MMAContraction &c,
                             int64_t sharedMemoryLimit) {
  auto fail = [&]() {
    return op->emitError() << "invalid '" << kMMAStrategyAttrName << "': ";
  };
  // TF32 changes the numerics of an FP32 contraction: only on request.
  if (c.inputType.isF32() && !s.tf32)
    return fail() << "f32 inputs run on tensor cores only as TF32 (inputs "
                     "rounded to 10-bit mantissas): add the key tf32 to ask "
                     "for it";
  if (s.tf32 && !c.inputType.isF32())
    return fail() << "tf32 needs f32 inputs, not " << c.inputType;
  if (!isPowerOf2(s.tileM) || !isPowerOf2(s.tileN) || !isPowerOf2(s.tileK) ||
      s.tileK < s.mmaK() || !isPowerOf2(s.warpsM) || !isPowerOf2(s.warpsN))
    return fail() << "tile sizes and warps must be powers of 2, tile k >= 16 "
                     "(8 with tf32)";
  if (s.tileM % (16 * s.warpsM) != 0 || s.tileN % (16 * s.warpsN) != 0)
    return fail() << "each warp needs a multiple of 16 rows and 16 columns";
  if (s.launchThreads() > 1024)
    return fail() << "more than 1024 threads per block";
  if (s.stages < 2 || s.groupM < 1)
    return fail() << "stages must be >= 2 and group_m >= 1";
  if (s.persistent < 0 || (s.persistent && !s.wgmma))
    return fail() << "persistent (blocks of a persistent grid) must be >= 0 "
                     "and needs wgmma";
  if (s.epilogueStages < 0 || s.epilogueStages > int64_t(kMaxEpilogueStages))
    return fail() << "epilogue_stages must be in [0, " << kMaxEpilogueStages
                  << "]";
  int64_t maxA = maxCopyWidth(cast<MemRefType>(c.a.getType()));
  int64_t maxB = maxCopyWidth(cast<MemRefType>(c.b.getType()));
  if (s.wgmma) {
    if (failed(verifyWarpgroupStrategy(s, c, maxA, maxB, fail)))
      return failure();
  } else if (failed(verifyCopies(s, maxA, maxB, fail))) {
    return failure();
  }
  if (s.sharedMemoryBytes() > sharedMemoryLimit)
    return fail() << "needs " << s.sharedMemoryBytes()
                  << " bytes of shared memory, more than the limit of "
                  << sharedMemoryLimit;
  return success();
}

namespace {
/// The cp.async copies of an mma.sync kernel.
LogicalResult verifyCopies(const MMAStrategy &s, int64_t maxA, int64_t maxB,
                           llvm::function_ref<InFlightDiagnostic()> fail) {
  // cp.async moves 4, 8 or 16 bytes; 16-bit elements one at a time are
  // loaded synchronously.
  int64_t widest = 16 / s.inputBytes();
  for (auto [width, max, name] :
       {std::tuple(s.copyA, maxA, "A"), std::tuple(s.copyB, maxB, "B")}) {
    if (width < 1 || width > widest || !isPowerOf2(width) || width > max)
      return fail() << "copy width " << width << " of " << name << " is not "
                    << (s.tf32 ? "1, 2 or 4" : "1, 2, 4 or 8")
                    << ", or exceeds the alignment of its strides (" << max
                    << ")";
  }
  int64_t perThreadA = s.tileM * s.tileK / s.copyA;
  int64_t perThreadB = s.tileN * s.tileK / s.copyB;
  if (perThreadA % s.numThreads() != 0 || perThreadB % s.numThreads() != 0)
    return fail() << "the threads of a block do not evenly share the copies "
                     "of a tile";
  return success();
}

/// A warpgroup kernel: TMA boxes of 64 16-bit elements (one 128-byte
/// swizzle row) along K, and along M or N for a transposed operand; each
/// warpgroup 64 rows of the tile; wgmma's N at most 256.
LogicalResult
verifyWarpgroupStrategy(const MMAStrategy &s, const MMAContraction &c,
                        int64_t maxA, int64_t maxB,
                        llvm::function_ref<InFlightDiagnostic()> fail) {
  if (c.inputType.isF32())
    return fail() << "wgmma takes f16 or bf16 inputs here (TF32 runs on "
                     "mma.sync)";
  if (c.batched)
    return fail() << "wgmma kernels take no batch loop yet";
  if (maxA < 8 || maxB < 8)
    return fail() << "wgmma needs TMA: static strides and offsets of A and B "
                     "in multiples of 16 bytes";
  if (s.tileK != 64 || s.warpsN != 1 || s.tileM != 16 * s.warpsM ||
      s.tileM % 64 != 0 || s.tileN % 64 != 0 || s.tileN > 256)
    return fail() << "wgmma needs tile k = 64, warps = [tile m / 16, 1], tile "
                     "m a multiple of 64 and tile n one of 64, 128, 256";
  return success();
}
} // namespace

namespace {
/// The next linalg op after `op`, past allocations and pure host ops only.
Operation *nextLinalgOp(Operation *op) {
  Operation *next = op->getNextNode();
  while (next && !isa<linalg::LinalgOp>(next) &&
         (isa<gpu::AllocOp>(next) || isPure(next)) &&
         next->getNumRegions() == 0)
    next = next->getNextNode();
  return next;
}

/// An elementwise generic on buffers over `rank` loops whose outputs are
/// written through identity maps and whose inputs are read through plain
/// dims.
linalg::GenericOp asStage(Operation *op, int64_t rank) {
  auto stage = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!stage || !stage.hasPureBufferSemantics() ||
      stage.getNumLoops() != stage.getNumParallelLoops() ||
      int64_t(stage.getNumLoops()) != rank)
    return {};
  for (OpOperand &init : stage.getDpsInitsMutable())
    if (!stage.getMatchingIndexingMap(&init).isIdentity())
      return {};
  for (OpOperand *input : stage.getDpsInputOperands())
    if (!llvm::all_of(stage.getMatchingIndexingMap(input).getResults(),
                      [](AffineExpr e) { return isa<AffineDimExpr>(e); }))
      return {};
  return stage;
}
} // namespace

Value viewedBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

SmallVector<linalg::GenericOp> findMMAEpilogues(linalg::LinalgOp contraction) {
  int64_t most = 1;
  if (auto dict =
          contraction->getAttrOfType<DictionaryAttr>(kMMAStrategyAttrName))
    if (auto n = dict.getAs<IntegerAttr>("epilogue_stages"))
      most = std::clamp<int64_t>(n.getInt(), 0, kMaxEpilogueStages);
  if (contraction.getNumDpsInits() != 1 || most == 0)
    return {};
  Value out = contraction.getDpsInitOperand(0)->get();
  auto alloc = out.getDefiningOp<gpu::AllocOp>();
  if (!alloc || alloc->getBlock() != contraction->getBlock())
    return {};
  int64_t rank = cast<MemRefType>(out.getType()).getRank();
  linalg::GenericOp first = asStage(nextLinalgOp(contraction), rank);
  if (!first)
    return {};
  // C: read once, through the identity map, and never written.
  unsigned reads = 0;
  for (OpOperand *input : first.getDpsInputOperands())
    if (input->get() == out) {
      ++reads;
      if (!first.getMatchingIndexingMap(input).isIdentity())
        return {};
    }
  if (reads != 1 || llvm::is_contained(first.getDpsInits(), out))
    return {};
  // Nothing else touches C.
  for (Operation *user : out.getUsers()) {
    if (user == contraction.getOperation() || user == first.getOperation() ||
        isa<gpu::DeallocOp>(user))
      continue;
    auto fill = dyn_cast<linalg::FillOp>(user);
    if (fill && fill->getNextNode() == contraction.getOperation())
      continue;
    return {};
  }
  SmallVector<linalg::GenericOp> stages = {first};
  // Later stages: the next elementwise op when it reads an earlier stage's
  // output at the same point (the ReLU of a biased pre-activation). It may
  // read no other view of what the chain writes, nor write what the chain
  // reads or writes.
  llvm::SmallPtrSet<Value, 8> produced, written, touched;
  written.insert(viewedBuffer(out));
  touched.insert(viewedBuffer(out));
  auto note = [&](linalg::GenericOp stage) {
    for (Value v : stage.getDpsInits()) {
      produced.insert(v);
      written.insert(viewedBuffer(v));
      touched.insert(viewedBuffer(v));
    }
    for (Value v : stage.getDpsInputs())
      if (isa<MemRefType>(v.getType()))
        touched.insert(viewedBuffer(v));
  };
  note(first);
  while (int64_t(stages.size()) < most) {
    linalg::GenericOp stage = asStage(nextLinalgOp(stages.back()), rank);
    if (!stage)
      break;
    bool readsChain = false, legal = true;
    for (OpOperand *input : stage.getDpsInputOperands()) {
      Value v = input->get();
      if (produced.contains(v)) {
        readsChain = true;
        legal &= stage.getMatchingIndexingMap(input).isIdentity();
      } else if (isa<MemRefType>(v.getType())) {
        legal &= !written.contains(viewedBuffer(v));
      }
    }
    for (Value v : stage.getDpsInits())
      legal &= !touched.contains(viewedBuffer(v));
    if (!readsChain || !legal)
      break;
    stages.push_back(stage);
    note(stage);
  }
  return stages;
}

} // namespace mpt
