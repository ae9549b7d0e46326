//===- ContractionToMMA.cpp - Contractions to mma.sync kernels ------------===//
//
// Applies the recorded `mma_strategy` of a contraction on memrefs: emits
// a gpu.launch whose body is a multistage cp.async / ldmatrix / mma.sync
// kernel. The body is emitted fully unrolled inside one K-loop iteration, so
// that fragments and accumulators stay in registers.
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/ContractionToMMA/MMAStrategy.h"
#include "mpt/Conversion/ContractionToMMA/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace mpt {
#define GEN_PASS_DEF_CONTRACTIONTOMMA
#include "mpt/Conversion/ContractionToMMA/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {
/// Index arithmetic on an OpBuilder, folded where both sides are constants.
struct IndexMath {
  OpBuilder &b;
  Location loc;

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, c(y)); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : arith::MulIOp::create(b, loc, x, c(y)).getResult();
  }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, int64_t y) {
    return y == 1 ? x : arith::DivUIOp::create(b, loc, x, c(y)).getResult();
  }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, int64_t y) {
    return arith::RemUIOp::create(b, loc, x, c(y));
  }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value ceilDiv(Value x, int64_t y) { return div(add(x, y - 1), y); }
  Value xori(Value x, Value y) { return arith::XOrIOp::create(b, loc, x, y); }
  Value minui(Value x, Value y) { return arith::MinUIOp::create(b, loc, x, y); }
  Value minsi(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value maxsi(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value ule(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, x, y);
  }
  Value sgt(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, x, y);
  }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
};

/// One operand's tile in shared memory: `rows` x `cols` elements per stage,
/// the 16-byte chunks of a row XOR-swizzled by the row.
struct SharedTile {
  Value buffer; // memref<stages x rows x cols x T, workgroup>
  int64_t rows, cols;
  /// Elements of a 16-byte chunk: 8 of 16 bits, 4 f32.
  int64_t chunk = 8;
  /// Read by 32-bit loads of TF32 fragments (4 consecutive rows, 2 chunks
  /// each) instead of by ldmatrix (8 consecutive rows, 1 chunk each).
  bool pairs = false;

  /// The swizzled column of element `col` (chunk-aligned runs stay
  /// contiguous). Eight rows that ldmatrix reads at one logical chunk land
  /// in eight different 16-byte bank groups; with `pairs`, the phases are
  /// even, so the aligned chunk pair (2j, 2j + 1) of four rows lands in
  /// four different pairs of bank groups. Either way, eight consecutive
  /// chunks that cp.async writes stay in eight bank groups.
  Value column(IndexMath &im, Value row, Value col) const {
    int64_t chunks = cols / chunk;
    int64_t rowsPerLine = std::max<int64_t>(1, 8 / chunks);
    int64_t period = std::min<int64_t>(chunks, 8);
    Value line = im.div(row, rowsPerLine);
    Value phase =
        pairs ? im.mul(im.rem(line, std::max<int64_t>(period / 2, 1)), 2)
              : im.rem(line, period);
    Value swizzled = im.xori(im.div(col, chunk), phase);
    return im.add(im.mul(swizzled, chunk), im.rem(col, chunk));
  }
};

/// A 2-D view of an operand in global memory with its extents.
struct GlobalMatrix {
  Value view;
  Value rows, cols;
};

class KernelEmitter {
public:
  /// `kernelName`: the GPU module and function the launch is outlined to.
  KernelEmitter(OpBuilder &b, Location loc, const mpt::MMAContraction &c,
                const mpt::MMAStrategy &s, bool accumulate,
                std::optional<std::pair<std::string, std::string>> kernelName,
                ArrayRef<linalg::GenericOp> epilogue, bool stageEpilogue)
      : b(b), loc(loc), im{b, loc}, c(c), s(s), accumulate(accumulate),
        kernelName(std::move(kernelName)), epilogue(epilogue) {
    warpTileM = s.tileM / s.warpsM;
    warpTileN = s.tileN / s.warpsN;
    fragsM = warpTileM / 16;
    fragsN = warpTileN / 8;
    isBF16 = c.inputType.isBF16();
    tf32 = s.tf32;
    // Columns 2j, 2j + 1 of a row are adjacent and the pair is aligned when
    // the output's strides and offset are even (the base is assumed aligned).
    pairedStores = mpt::maxCopyWidth(cast<MemRefType>(c.c.getType())) >= 2;
    for (linalg::GenericOp stage : epilogue)
      for (Value out : stage.getDpsInits())
        pairedStores &= mpt::maxCopyWidth(cast<MemRefType>(out.getType())) >= 2;
    collectEpilogueReads();
    staged = stageEpilogue && canStage();
    persistent = s.wgmma && s.persistent > 0 && !staged;
  }

  /// Emits the gpu.launch at the builder's position.
  void emit();

private:
  gpu::LaunchOp beginLaunch(Value &raw);
  void emitMMASync(Value raw);
  void emitWarpgroup(Value raw, Value descA, Value descB);
  Value createTensorMap(Value memref, ArrayRef<int64_t> box);
  Value useTensorMap(Value map);
  void emitProducer(Value raw, Value pad, Value barriers, Value descA,
                    Value descB);
  void emitConsumers(Value raw, Value pad, Value barriers);
  Value matrixDescriptor(Value address, int64_t leadingBytes,
                         int64_t strideBytes);
  void syncComputeThreads();
  void setTile(Value pid);
  void releaseStage(Value barriers, Value index);
  /// Emits `body(tile origin set, count)` once for this block's tile or, in
  /// a persistent kernel, in a loop over its tiles; `count` is the number
  /// of K tiles of the block's earlier tiles (for the ring's stages and
  /// phases), advanced by numK each tile.
  void forEachTile(llvm::function_ref<void(Value count)> body);
  GlobalMatrix view2D(Value memref, Value batch);
  void loadTile(const GlobalMatrix &g, Value r0, Value c0, const SharedTile &t,
                Value stage, int64_t width, SmallVector<Value> &tokens);
  SmallVector<Value> operandRegisters(Value fragment, int64_t first,
                                      int64_t count);
  Value toTF32(Value x);
  SmallVector<Value> loadFragment(const SharedTile &t, bool kContiguous,
                                  Value stage, Value warp, int64_t warpTile,
                                  int64_t index, int64_t kk, bool kHalfMajor);
  SmallVector<Value> loadFragmentTF32(const SharedTile &t, Value stage,
                                      Value base, int64_t kk, bool kHalfMajor);
  SmallVector<Value> loadA(Value stage, int64_t kk, int64_t mi);
  SmallVector<Value> loadB(Value stage, int64_t kk, int64_t nj);
  void issueLoads(Value kTile, Value stage, SmallVector<Value> &tokens);
  Value commit(SmallVector<Value> &tokens);
  SmallVector<Value> computeStage(Value stage, ArrayRef<Value> acc);
  void storeResults(ArrayRef<Value> acc);
  std::pair<Value, Value> fragmentRow(int64_t mi, int64_t ni, int64_t h);
  void storeFragmentRow(ArrayRef<Value> acc, int64_t mi, int64_t ni, int64_t h,
                        bool masked, ArrayRef<SmallVector<Value>> loaded = {});
  SmallVector<Value> outputIndices(Value row, Value col);
  void collectEpilogueReads();
  struct EpilogueRead;
  Value loadEpilogueRead(const EpilogueRead &read, Value row, Value col);
  SmallVector<Value> loadEpilogueInputs(Value row, Value col);
  SmallVector<Value> epilogueAt(Value v, Value row, Value col,
                                ArrayRef<Value> loaded);
  bool canStage() const;
  int64_t stagingRowStride() const { return s.tileN + kStagingPad; }
  void storeResultsStaged(ArrayRef<Value> acc);
  void storeFragmentRowGroup(
      ArrayRef<Value> acc, int64_t mi,
      DenseMap<std::tuple<int64_t, int64_t, int64_t>, Value> &cache);

  OpBuilder &b;
  Location loc;
  IndexMath im;
  const mpt::MMAContraction &c;
  const mpt::MMAStrategy &s;
  bool accumulate;
  std::optional<std::pair<std::string, std::string>> kernelName;
  /// Computed from each result instead of storing it (findMMAEpilogues).
  SmallVector<linalg::GenericOp> epilogue;
  /// The outputs of all stages, in order.
  SmallVector<Value> epilogueOutputs() const {
    SmallVector<Value> outs;
    for (linalg::GenericOp stage : epilogue)
      llvm::append_range(outs, stage.getDpsInits());
    return outs;
  }
  /// An operand of an epilogue stage that the epilogue loads from memory:
  /// an input that is neither C nor an earlier stage's output, or an output
  /// whose value the body reads. `usesRow` / `usesCol`: whether its indices
  /// depend on C's row / column.
  struct EpilogueRead {
    OpOperand *operand;
    bool usesRow, usesCol;
  };
  SmallVector<EpilogueRead> epilogueReads;
  /// Whether a thread may load the epilogue inputs of several elements
  /// before it stores any: no read goes through another point's view of a
  /// buffer that the epilogue writes.
  bool batchedReads = true;
  /// Whether full tiles store through shared memory (storeResultsStaged).
  bool staged = false;
  /// Elements a thread handles at once in a staged epilogue, and the f32
  /// padding of a staging row: with a row stride of 8 (mod 32) words, the
  /// four rows of a half-warp's 8-byte fragment writes hit 32 distinct banks.
  static constexpr int64_t kStagedWidth = 4, kStagingPad = 8;
  /// Columns of a TMA box of an M- or N-major tile (128 bytes of 16 bits).
  static constexpr int64_t kBoxWidth = 64;
  /// The suspend-time hint of an mbarrier wait (ns); the wait loops anyway.
  static constexpr int64_t kMaxWaitTicks = 10000000;
  bool isBF16;
  /// f32 inputs rounded to TF32, mma.sync m16n8k8 (the strategy's `tf32`).
  bool tf32;
  bool pairedStores;
  int64_t warpTileM, warpTileN, fragsM, fragsN;

  // Values of the launch body.
  Value tid, lane, warpM, warpN, m0, n0, numK, batchId, blockId, gridSize;
  /// A persistent warpgroup kernel: each block loops over tiles (the
  /// strategy's `persistent` blocks); only without a staged epilogue, which
  /// needs the ring that the producer fills for the next tile.
  bool persistent = false;
  GlobalMatrix ga, gb, gc;
  Value dimM, dimN, dimK;
  SharedTile sa, sb;
  Value anyToken;
};

GlobalMatrix KernelEmitter::view2D(Value memref, Value batch) {
  auto type = cast<MemRefType>(memref.getType());
  Value view = memref;
  if (c.batched) {
    SmallVector<OpFoldResult> offsets = {batch, b.getIndexAttr(0),
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
    for (int64_t d = 1; d < 3; ++d)
      sizes.push_back(memref::getMixedSize(b, loc, memref, d));
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    auto resultType = memref::SubViewOp::inferRankReducedResultType(
        {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes,
        strides);
    view = memref::SubViewOp::create(b, loc, cast<MemRefType>(resultType),
                                     memref, offsets, sizes, strides);
  }
  return {view, memref::DimOp::create(b, loc, view, 0),
          memref::DimOp::create(b, loc, view, 1)};
}

void KernelEmitter::loadTile(const GlobalMatrix &g, Value r0, Value c0,
                             const SharedTile &t, Value stage, int64_t width,
                             SmallVector<Value> &tokens) {
  int64_t perRow = t.cols / width;
  int64_t perThread = t.rows * perRow / s.numThreads();
  Value zero = im.c(0);
  for (int64_t i = 0; i < perThread; ++i) {
    Value v = im.add(tid, i * s.numThreads());
    Value r = im.div(v, perRow);
    Value col = im.mul(im.rem(v, perRow), width);
    Value gr = im.add(r0, r), gcol = im.add(c0, col);
    Value dcol = t.column(im, r, col);
    int64_t bytes = width * c.inputType.getIntOrFloatBitWidth() / 8;
    if (bytes < 4) {
      // Synchronous, element by element: the strides allow no access of
      // 4 bytes (cp.async's smallest).
      Value ok = im.andi(im.ult(gr, g.rows), im.ult(gcol, g.cols));
      auto ifOp = scf::IfOp::create(b, loc, c.inputType, ok, true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value x = memref::LoadOp::create(b, loc, g.view, ValueRange{gr, gcol});
      scf::YieldOp::create(b, loc, x);
      b.setInsertionPointToStart(ifOp.elseBlock());
      Value z = arith::ConstantOp::create(b, loc, b.getZeroAttr(c.inputType));
      scf::YieldOp::create(b, loc, z);
      b.setInsertionPointAfter(ifOp);
      memref::StoreOp::create(b, loc, ifOp.getResult(0), t.buffer,
                              ValueRange{stage, r, dcol});
      continue;
    }
    // Elements in bounds (the rest is zero-filled); an empty copy reads from
    // the matrix origin so that no address leaves the buffer.
    Value inRow = im.maxsi(im.minsi(im.sub(g.cols, gcol), im.c(width)), zero);
    Value n = im.select(im.ult(gr, g.rows), inRow, zero);
    Value any = im.sgt(n, zero);
    Value sr = im.select(any, gr, zero), sc = im.select(any, gcol, zero);
    UnitAttr bypassL1 = bytes == 16 ? b.getUnitAttr() : UnitAttr();
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), t.buffer,
        ValueRange{stage, r, dcol}, g.view, ValueRange{sr, sc},
        b.getIndexAttr(width), n, bypassL1));
  }
}

void KernelEmitter::issueLoads(Value kTile, Value stage,
                               SmallVector<Value> &tokens) {
  Value k0 = im.mul(kTile, s.tileK);
  if (c.aKContiguous)
    loadTile(ga, m0, k0, sa, stage, s.copyA, tokens);
  else
    loadTile(ga, k0, m0, sa, stage, s.copyA, tokens);
  if (c.bKContiguous)
    loadTile(gb, n0, k0, sb, stage, s.copyB, tokens);
  else
    loadTile(gb, k0, n0, sb, stage, s.copyB, tokens);
}

Value KernelEmitter::commit(SmallVector<Value> &tokens) {
  if (tokens.empty())
    return {};
  Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
  tokens.clear();
  return group;
}

/// The four (A) or two-per-n-tile (B) 32-bit registers of an ldmatrix.x4.
SmallVector<Value>
KernelEmitter::operandRegisters(Value fragment, int64_t first, int64_t count) {
  SmallVector<Value> regs;
  for (int64_t i = first; i < first + count; ++i) {
    Value pair = vector::ExtractOp::create(b, loc, fragment, i);
    if (tf32) {
      regs.push_back(toTF32(vector::ExtractOp::create(b, loc, pair, 0)));
      continue;
    }
    if (!isBF16) {
      regs.push_back(pair);
      continue;
    }
    // nvvm.mma.sync takes bf16 pairs as i32.
    auto i32x1 = VectorType::get({1}, b.getI32Type());
    Value word = vector::BitCastOp::create(b, loc, i32x1, pair);
    regs.push_back(vector::ExtractOp::create(b, loc, word, 0));
  }
  return regs;
}

/// f32 `x` rounded to TF32 (to nearest, ties away from zero, as cuBLAS
/// does), as the i32 register mma.sync takes.
Value KernelEmitter::toTF32(Value x) {
  return NVVM::ConvertFloatToTF32Op::create(b, loc, b.getI32Type(), x,
                                            NVVM::FPRoundingMode::RNA);
}

SmallVector<Value> KernelEmitter::loadFragment(const SharedTile &t,
                                               bool kContiguous, Value stage,
                                               Value warp, int64_t warpTile,
                                               int64_t index, int64_t kk,
                                               bool kHalfMajor) {
  // The four 8 x 8 pieces of a 16 (outer) x 16 (k) fragment, outer being m
  // for A and n for B (16 x 8 with TF32: pieces of 8 x 4 f32); A orders
  // them outer half first, B k half first (its registers are b0, b1 of one
  // n-tile, then of the next).
  Value base = im.add(im.mul(warp, warpTile), index * 16);
  if (tf32 && !kContiguous)
    return loadFragmentTF32(t, stage, base, kk, kHalfMajor);
  // An x4 ldmatrix: lane l gives the address of row l % 8 of matrix l / 8.
  // A piece is 8 rows of 16 bytes, and lane l receives the 32-bit word
  // l % 4 of row l / 4: two 16-bit elements, or one f32. For TF32 that is
  // element (g, t) of an 8 x 4 piece (g = lane / 4, t = lane % 4), which is
  // where m16n8k8's a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8,
  // t + 4) and b0 (k = t, n = g), b1 (k = t + 4, n = g) lie.
  Value q = im.div(lane, 8), r = im.rem(lane, 8);
  auto outerHalf = [&] { return kHalfMajor ? im.div(q, 2) : im.rem(q, 2); };
  auto kHalf = [&] { return kHalfMajor ? im.rem(q, 2) : im.div(q, 2); };
  Value row, col;
  if (kContiguous) {
    row = im.add(im.add(base, r), im.mul(outerHalf(), 8));
    col = im.add(im.mul(kHalf(), t.chunk), kk * s.mmaK());
  } else {
    row = im.add(im.add(r, im.mul(kHalf(), 8)), kk * 16);
    col = im.add(base, im.mul(outerHalf(), 8));
  }
  auto type = VectorType::get({4, 32 / c.inputType.getIntOrFloatBitWidth()},
                              c.inputType);
  Value frag = nvgpu::LdMatrixOp::create(
      b, loc, type, t.buffer, ValueRange{stage, row, t.column(im, row, col)},
      b.getBoolAttr(!kContiguous), b.getI32IntegerAttr(4));
  return operandRegisters(frag, 0, 4);
}

/// The registers of a TF32 fragment of an M- or N-contiguous operand (tile
/// [k][outer]), in the order of loadFragment: ldmatrix cannot transpose
/// 32-bit elements, so each lane loads its own four f32: piece q holds
/// (outer = g + 8 * outer half, k = t + 4 * k half) with g = lane / 4,
/// t = lane % 4. The four rows t of one load are conflict-free
/// (SharedTile::pairs).
SmallVector<Value> KernelEmitter::loadFragmentTF32(const SharedTile &t,
                                                   Value stage, Value base,
                                                   int64_t kk,
                                                   bool kHalfMajor) {
  Value g = im.div(lane, 4), tk = im.rem(lane, 4);
  SmallVector<Value> regs;
  for (int64_t q = 0; q < 4; ++q) {
    int64_t outerHalf = kHalfMajor ? q / 2 : q % 2;
    int64_t kHalf = kHalfMajor ? q % 2 : q / 2;
    Value row = im.add(tk, kk * 8 + kHalf * 4);
    Value col = im.add(base, im.add(g, outerHalf * 8));
    Value x = memref::LoadOp::create(
        b, loc, t.buffer, ValueRange{stage, row, t.column(im, row, col)});
    regs.push_back(toTF32(x));
  }
  return regs;
}

SmallVector<Value> KernelEmitter::loadA(Value stage, int64_t kk, int64_t mi) {
  return loadFragment(sa, c.aKContiguous, stage, warpM, warpTileM, mi, kk,
                      /*kHalfMajor=*/false);
}

SmallVector<Value> KernelEmitter::loadB(Value stage, int64_t kk, int64_t nj) {
  return loadFragment(sb, c.bKContiguous, stage, warpN, warpTileN, nj, kk,
                      /*kHalfMajor=*/true);
}

SmallVector<Value> KernelEmitter::computeStage(Value stage,
                                               ArrayRef<Value> acc) {
  SmallVector<Value> next(acc);
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  NVVM::MMATypes ptxType = tf32     ? NVVM::MMATypes::tf32
                           : isBF16 ? NVVM::MMATypes::bf16
                                    : NVVM::MMATypes::f16;
  for (int64_t kk = 0; kk < s.tileK / s.mmaK(); ++kk) {
    SmallVector<SmallVector<Value>> fa, fb;
    for (int64_t mi = 0; mi < fragsM; ++mi)
      fa.push_back(loadA(stage, kk, mi));
    for (int64_t nj = 0; nj < fragsN / 2; ++nj) {
      SmallVector<Value> regs = loadB(stage, kk, nj);
      fb.push_back({regs[0], regs[1]});
      fb.push_back({regs[2], regs[3]});
    }
    for (int64_t mi = 0; mi < fragsM; ++mi) {
      for (int64_t ni = 0; ni < fragsN; ++ni) {
        int64_t base = (mi * fragsN + ni) * 4;
        ArrayRef<Value> cIn = ArrayRef<Value>(next).slice(base, 4);
        Value d = NVVM::MmaOp::create(
            b, loc, resultType, fa[mi], fb[ni], cIn, {16, 8, s.mmaK()},
            std::nullopt, std::nullopt,
            std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int64_t i = 0; i < 4; ++i)
          next[base + i] = LLVM::ExtractValueOp::create(b, loc, d, i);
      }
    }
  }
  return next;
}

/// Element (row, col) of C where accumulator registers c(2h), c(2h+1) of
/// fragment (mi, ni) go: row lane / 4 (+ 8 for h = 1), column 2 * (lane % 4)
/// (and the next).
std::pair<Value, Value> KernelEmitter::fragmentRow(int64_t mi, int64_t ni,
                                                   int64_t h) {
  Value row = im.add(im.add(m0, im.mul(warpM, warpTileM)),
                     im.add(im.div(lane, 4), mi * 16 + h * 8));
  Value col = im.add(im.add(n0, im.mul(warpN, warpTileN)),
                     im.add(im.mul(im.rem(lane, 4), 2), ni * 8));
  return {row, col};
}

/// Stores accumulator registers c(2h), c(2h+1) of fragment (mi, ni). With an
/// epilogue, `loaded[j]` holds the epilogue's inputs at column j of the pair
/// (loadEpilogueInputs) when the caller loaded them; otherwise they are
/// loaded here.
void KernelEmitter::storeFragmentRow(ArrayRef<Value> acc, int64_t mi,
                                     int64_t ni, int64_t h, bool masked,
                                     ArrayRef<SmallVector<Value>> loaded) {
  auto [row, col] = fragmentRow(mi, ni, h);
  Type outType = c.outputType;
  auto finish = [&](Value v, Value r, Value cc) -> Value {
    if (accumulate) {
      Value old = memref::LoadOp::create(b, loc, gc.view, ValueRange{r, cc});
      if (!outType.isF32())
        old = arith::ExtFOp::create(b, loc, b.getF32Type(), old);
      v = arith::AddFOp::create(b, loc, v, old);
    }
    if (!outType.isF32())
      v = arith::TruncFOp::create(b, loc, outType, v);
    return v;
  };
  int64_t base = (mi * fragsN + ni) * 4 + 2 * h;
  if (!epilogue.empty()) {
    SmallVector<Value> outs = epilogueOutputs();
    auto at = [&](int64_t j, Value cc) {
      SmallVector<Value> in =
          loaded.empty() ? loadEpilogueInputs(row, cc) : loaded[j];
      return epilogueAt(finish(acc[base + j], row, cc), row, cc, in);
    };
    if (!masked && pairedStores) {
      Value next = im.add(col, 1);
      SmallVector<Value> first = at(0, col);
      SmallVector<Value> second = at(1, next);
      for (auto [out, x, y] : llvm::zip(outs, first, second)) {
        Type type = x.getType();
        Value pair = vector::FromElementsOp::create(
            b, loc, VectorType::get({2}, type), ValueRange{x, y});
        vector::StoreOp::create(
            b, loc, pair, out, outputIndices(row, col),
            /*nontemporal=*/false,
            llvm::Align(2 * type.getIntOrFloatBitWidth() / 8));
      }
      return;
    }
    for (int64_t j = 0; j < 2; ++j) {
      Value cc = im.add(col, j);
      OpBuilder::InsertionGuard guard(b);
      if (masked) {
        Value ok = im.andi(im.ult(row, gc.rows), im.ult(cc, gc.cols));
        b.setInsertionPointToStart(
            scf::IfOp::create(b, loc, ok, false).thenBlock());
      }
      SmallVector<Value> values = at(j, cc);
      for (auto [out, v] : llvm::zip(outs, values))
        memref::StoreOp::create(b, loc, v, out, outputIndices(row, cc));
    }
    return;
  }
  if (!masked && pairedStores) {
    // Both columns in one aligned 2-element store.
    Value next = im.add(col, 1);
    Value pair = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, outType),
        ValueRange{finish(acc[base], row, col),
                   finish(acc[base + 1], row, next)});
    int64_t bytes = 2 * outType.getIntOrFloatBitWidth() / 8;
    vector::StoreOp::create(b, loc, pair, gc.view, ValueRange{row, col},
                            /*nontemporal=*/false, llvm::Align(bytes));
    return;
  }
  for (int64_t j = 0; j < 2; ++j) {
    Value cc = im.add(col, j);
    Value v = acc[base + j];
    if (!masked) {
      memref::StoreOp::create(b, loc, finish(v, row, cc), gc.view,
                              ValueRange{row, cc});
      continue;
    }
    Value ok = im.andi(im.ult(row, gc.rows), im.ult(cc, gc.cols));
    auto ifOp = scf::IfOp::create(b, loc, ok, false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    memref::StoreOp::create(b, loc, finish(v, row, cc), gc.view,
                            ValueRange{row, cc});
  }
}

/// Indices of element (row, col) of C (of this block's batch) in an
/// operand indexed like C.
SmallVector<Value> KernelEmitter::outputIndices(Value row, Value col) {
  SmallVector<Value> ivs;
  if (c.batched)
    ivs.push_back(batchId);
  ivs.append({row, col});
  return ivs;
}

void KernelEmitter::collectEpilogueReads() {
  unsigned rowDim = c.batched ? 1 : 0;
  llvm::SmallPtrSet<Value, 4> computed = {c.c}, written;
  for (linalg::GenericOp stage : epilogue)
    for (Value out : stage.getDpsInits())
      written.insert(mpt::viewedBuffer(out));
  auto add = [&](OpOperand *operand, linalg::GenericOp stage) {
    AffineMap map = stage.getMatchingIndexingMap(operand);
    epilogueReads.push_back({operand, map.isFunctionOfDim(rowDim),
                             map.isFunctionOfDim(rowDim + 1)});
    if (!map.isIdentity() &&
        written.contains(mpt::viewedBuffer(operand->get())))
      batchedReads = false;
  };
  for (linalg::GenericOp stage : epilogue) {
    for (OpOperand *input : stage.getDpsInputOperands())
      if (!computed.contains(input->get()) &&
          isa<MemRefType>(input->get().getType()))
        add(input, stage);
    for (OpOperand &init : stage.getDpsInitsMutable())
      if (!stage.getMatchingBlockArgument(&init).use_empty())
        add(&init, stage);
    for (Value out : stage.getDpsInits())
      computed.insert(out);
  }
}

/// Loads `read` at C's element (row, col).
Value KernelEmitter::loadEpilogueRead(const EpilogueRead &read, Value row,
                                      Value col) {
  SmallVector<Value> ivs = outputIndices(row, col);
  auto stage = cast<linalg::GenericOp>(read.operand->getOwner());
  SmallVector<Value> indices;
  for (AffineExpr e : stage.getMatchingIndexingMap(read.operand).getResults())
    indices.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
  return memref::LoadOp::create(b, loc, read.operand->get(), indices);
}

/// The values of all epilogue reads at C's element (row, col), in the order
/// of `epilogueReads`.
SmallVector<Value> KernelEmitter::loadEpilogueInputs(Value row, Value col) {
  SmallVector<Value> values;
  for (const EpilogueRead &read : epilogueReads)
    values.push_back(loadEpilogueRead(read, row, col));
  return values;
}

/// The epilogue's stages at C's element (row, col) holding `v`: inputs
/// that are C or an earlier stage's output take that value, the others
/// come from `loaded` (loadEpilogueInputs at the same element); returns the
/// values of all stages' outputs.
SmallVector<Value> KernelEmitter::epilogueAt(Value v, Value row, Value col,
                                             ArrayRef<Value> loaded) {
  SmallVector<Value> ivs = outputIndices(row, col);
  DenseMap<OpOperand *, Value> fromMemory;
  for (auto [read, value] : llvm::zip_equal(epilogueReads, loaded))
    fromMemory[read.operand] = value;
  DenseMap<Value, Value> known;
  known[c.c] = v;
  SmallVector<Value> results;
  for (linalg::GenericOp stage : epilogue) {
    IRMapping mapping;
    for (OpOperand &operand : stage->getOpOperands()) {
      BlockArgument arg = stage.getMatchingBlockArgument(&operand);
      if (Value value = fromMemory.lookup(&operand))
        mapping.map(arg, value);
      else if (stage.isDpsInput(&operand))
        mapping.map(arg, known.lookup(operand.get())
                             ? known.lookup(operand.get())
                             : operand.get());
    }
    Block *body = stage.getBlock();
    for (Operation &op : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        mapping.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      b.clone(op, mapping);
    }
    for (auto [out, y] :
         llvm::zip(stage.getDpsInits(), body->getTerminator()->getOperands())) {
      Value value = mapping.lookupOrDefault(y);
      known[out] = value;
      results.push_back(value);
    }
  }
  return results;
}

/// The unmasked stores of fragment row `mi` with an epilogue: every
/// epilogue input of the row's elements is loaded first, then all are
/// computed and stored, so that the loads are in flight together instead of
/// each waiting behind the previous store (which may alias it as far as the
/// compiler knows). Inputs that do not depend on the row are loaded once
/// per kernel, through `cache` (key: read, row part, column part).
void KernelEmitter::storeFragmentRowGroup(
    ArrayRef<Value> acc, int64_t mi,
    DenseMap<std::tuple<int64_t, int64_t, int64_t>, Value> &cache) {
  SmallVector<SmallVector<SmallVector<Value>, 2>> loaded;
  for (int64_t ni = 0; ni < fragsN; ++ni) {
    for (int64_t h = 0; h < 2; ++h) {
      auto [row, col] = fragmentRow(mi, ni, h);
      SmallVector<SmallVector<Value>, 2> pair(2);
      for (int64_t j = 0; j < 2; ++j) {
        Value cc = j ? im.add(col, 1) : col;
        for (auto [k, read] : llvm::enumerate(epilogueReads)) {
          std::tuple<int64_t, int64_t, int64_t> key = {
              int64_t(k), read.usesRow ? mi * 2 + h : -1,
              read.usesCol ? ni * 2 + j : -1};
          Value &value = cache[key];
          if (!value)
            value = loadEpilogueRead(read, row, cc);
          pair[j].push_back(value);
        }
      }
      loaded.push_back(std::move(pair));
    }
  }
  for (int64_t ni = 0; ni < fragsN; ++ni)
    for (int64_t h = 0; h < 2; ++h)
      storeFragmentRow(acc, mi, ni, h, /*masked=*/false, loaded[ni * 2 + h]);
}

/// A staged epilogue needs an epilogue and nothing to accumulate; outputs
/// that take aligned vector stores of kStagedWidth elements of 8 bits or
/// more; reads that may be hoisted above stores (batchedReads); staging rows
/// for one fragment row of every warp within the ring's shared memory; and
/// threads that cover those rows evenly.
bool KernelEmitter::canStage() const {
  if (epilogue.empty() || accumulate || !batchedReads)
    return false;
  for (Value out : epilogueOutputs()) {
    auto type = cast<MemRefType>(out.getType());
    if (mpt::maxCopyWidth(type) < kStagedWidth ||
        type.getElementTypeBitWidth() < 8)
      return false;
  }
  int64_t rows = s.warpsM * 16;
  if (rows * stagingRowStride() * 4 > s.sharedMemoryBytes())
    return false;
  return (rows * s.tileN / kStagedWidth) % s.numThreads() == 0;
}

/// Full-tile stores through shared memory, one fragment row `mi` at a time:
/// every warp writes its accumulators of that row into a staging tile of
/// warps_m * 16 rows (f32, padded rows), then each thread takes
/// kStagedWidth consecutive columns of a staging row, loads the epilogue's
/// inputs there (one vector load where an input's innermost index is the
/// column), computes the epilogue and stores each output with one vector
/// store. A warp then writes whole 32-byte sectors of a row, not 16-byte
/// pieces of eight rows. The ring is free once every cp.async group has
/// landed and a barrier has seen the last ldmatrix reads.
void KernelEmitter::storeResultsStaged(ArrayRef<Value> acc) {
  MLIRContext *ctx = b.getContext();
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type f32 = b.getF32Type();
  int64_t rows = s.warpsM * 16, width = kStagedWidth;
  auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                               MemRefLayoutAttrInterface(), wg);
  Value raw = gpu::DynamicSharedMemoryOp::create(b, loc, bytes);
  Value staging =
      memref::ViewOp::create(b, loc,
                             MemRefType::get({rows, stagingRowStride()}, f32,
                                             MemRefLayoutAttrInterface(), wg),
                             raw, im.c(0), ValueRange{});
  int64_t perRow = s.tileN / width;
  int64_t sweeps = rows * perRow / s.numThreads();
  int64_t rowDim = c.batched ? 1 : 0;
  // Whether `read` can be one vector load: its innermost index is the column
  // alone, and the buffer's layout keeps kStagedWidth elements aligned.
  auto vectorizable = [&](const EpilogueRead &read) {
    auto stage = cast<linalg::GenericOp>(read.operand->getOwner());
    AffineMap map = stage.getMatchingIndexingMap(read.operand);
    auto type = cast<MemRefType>(read.operand->get().getType());
    if (map.getNumResults() == 0 || type.getElementTypeBitWidth() < 8 ||
        mpt::maxCopyWidth(type) < width)
      return false;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!last || last.getPosition() != rowDim + 1)
      return false;
    return llvm::count_if(map.getResults(), [&](AffineExpr e) {
             return e.isFunctionOfDim(rowDim + 1);
           }) == 1;
  };
  // The kStagedWidth values of `read` from (row, col) on.
  auto loadRead = [&](const EpilogueRead &read, Value row, Value col) {
    SmallVector<Value> values;
    if (!read.usesCol) {
      values.assign(width, loadEpilogueRead(read, row, col));
    } else if (vectorizable(read)) {
      auto stage = cast<linalg::GenericOp>(read.operand->getOwner());
      SmallVector<Value> ivs = outputIndices(row, col), indices;
      for (AffineExpr e :
           stage.getMatchingIndexingMap(read.operand).getResults())
        indices.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
      Value memref = read.operand->get();
      Type elem = cast<MemRefType>(memref.getType()).getElementType();
      Value v = vector::LoadOp::create(
          b, loc, VectorType::get({width}, elem), memref, indices,
          /*nontemporal=*/false,
          llvm::Align(width * elem.getIntOrFloatBitWidth() / 8));
      for (int64_t e = 0; e < width; ++e)
        values.push_back(vector::ExtractOp::create(b, loc, v, e));
    } else {
      for (int64_t e = 0; e < width; ++e)
        values.push_back(loadEpilogueRead(read, row, im.add(col, e)));
    }
    return values;
  };
  Value laneRow = im.div(lane, 4), laneCol = im.mul(im.rem(lane, 4), 2);
  // Reads that do not depend on the row are loaded once: (read, column
  // class of the sweep) -> values. A thread's column in sweep k is fixed by
  // its id and (k * threads) % perRow.
  DenseMap<std::pair<int64_t, int64_t>, SmallVector<Value>> rowInvariant;
  for (int64_t mi = 0; mi < fragsM; ++mi) {
    syncComputeThreads();
    for (int64_t ni = 0; ni < fragsN; ++ni) {
      for (int64_t h = 0; h < 2; ++h) {
        int64_t base = (mi * fragsN + ni) * 4 + 2 * h;
        Value pair = vector::FromElementsOp::create(
            b, loc, VectorType::get({2}, f32),
            ValueRange{acc[base], acc[base + 1]});
        Value sr = im.add(im.mul(warpM, 16), im.add(laneRow, h * 8));
        Value sc = im.add(im.mul(warpN, warpTileN), im.add(laneCol, ni * 8));
        vector::StoreOp::create(b, loc, pair, staging, ValueRange{sr, sc},
                                /*nontemporal=*/false, llvm::Align(8));
      }
    }
    syncComputeThreads();
    // Where each sweep's elements are, then all their loads, then the
    // epilogue and the stores.
    SmallVector<std::array<Value, 4>> at; // staging row, column; C row, col
    SmallVector<SmallVector<SmallVector<Value>>> loaded; // sweep, read, elt
    for (int64_t k = 0; k < sweeps; ++k) {
      Value item = im.add(tid, k * s.numThreads());
      Value sr = im.div(item, perRow);
      Value sc = im.mul(im.rem(item, perRow), width);
      Value row = im.add(im.add(m0, im.mul(im.div(sr, 16), warpTileM)),
                         im.add(im.rem(sr, 16), mi * 16));
      Value col = im.add(n0, sc);
      at.push_back({sr, sc, row, col});
      SmallVector<SmallVector<Value>> values;
      for (auto [r, read] : llvm::enumerate(epilogueReads)) {
        if (read.usesRow) {
          values.push_back(loadRead(read, row, col));
          continue;
        }
        auto key = std::make_pair(int64_t(r), (k * s.numThreads()) % perRow);
        auto it = rowInvariant.find(key);
        if (it == rowInvariant.end())
          it = rowInvariant.try_emplace(key, loadRead(read, row, col)).first;
        values.push_back(it->second);
      }
      loaded.push_back(std::move(values));
    }
    for (int64_t k = 0; k < sweeps; ++k) {
      auto [sr, sc, row, col] = at[k];
      Value v = vector::LoadOp::create(
          b, loc, VectorType::get({width}, f32), staging, ValueRange{sr, sc},
          /*nontemporal=*/false, llvm::Align(4 * width));
      SmallVector<SmallVector<Value>> results; // output, element
      for (int64_t e = 0; e < width; ++e) {
        Value x = vector::ExtractOp::create(b, loc, v, e);
        if (!c.outputType.isF32())
          x = arith::TruncFOp::create(b, loc, c.outputType, x);
        SmallVector<Value> in;
        for (const SmallVector<Value> &read : loaded[k])
          in.push_back(read[e]);
        SmallVector<Value> outs = epilogueAt(x, row, im.add(col, e), in);
        results.resize(outs.size());
        for (auto [i, y] : llvm::enumerate(outs))
          results[i].push_back(y);
      }
      for (auto [out, values] : llvm::zip(epilogueOutputs(), results)) {
        Type elem = values.front().getType();
        Value vec = vector::FromElementsOp::create(
            b, loc, VectorType::get({width}, elem), values);
        vector::StoreOp::create(
            b, loc, vec, out, outputIndices(row, col), /*nontemporal=*/false,
            llvm::Align(width * elem.getIntOrFloatBitWidth() / 8));
      }
    }
  }
}

void KernelEmitter::storeResults(ArrayRef<Value> acc) {
  // Full tiles store without masks; edge tiles check every element.
  Value full = im.andi(im.ule(im.add(m0, s.tileM), dimM),
                       im.ule(im.add(n0, s.tileN), dimN));
  auto ifOp = scf::IfOp::create(b, loc, full, true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  if (staged) {
    storeResultsStaged(acc);
  } else if (!epilogue.empty() && batchedReads) {
    DenseMap<std::tuple<int64_t, int64_t, int64_t>, Value> cache;
    for (int64_t mi = 0; mi < fragsM; ++mi)
      storeFragmentRowGroup(acc, mi, cache);
  } else {
    for (int64_t mi = 0; mi < fragsM; ++mi)
      for (int64_t ni = 0; ni < fragsN; ++ni)
        for (int64_t h = 0; h < 2; ++h)
          storeFragmentRow(acc, mi, ni, h, /*masked=*/false);
  }
  b.setInsertionPointToStart(ifOp.elseBlock());
  for (int64_t mi = 0; mi < fragsM; ++mi)
    for (int64_t ni = 0; ni < fragsN; ++ni)
      for (int64_t h = 0; h < 2; ++h)
        storeFragmentRow(acc, mi, ni, h, /*masked=*/true);
}

/// The gpu.launch of the kernel at the builder's position, one block per
/// tile of C (z: the batch), and at the start of its body (where it leaves
/// the builder) the operand views, thread and tile indices, and `raw`, the
/// dynamic shared memory.
gpu::LaunchOp KernelEmitter::beginLaunch(Value &raw) {
  MLIRContext *ctx = b.getContext();
  // Launch configuration, computed on the host.
  Value hostA = c.a, hostB = c.b, hostC = c.c;
  // With an epilogue and nothing to accumulate, C is never read or
  // written: the shape comes from the epilogue's first output (same shape).
  if (!epilogue.empty() && !accumulate)
    hostC = epilogue.front().getDpsInits().front();
  int64_t lead = c.batched ? 1 : 0;
  Value hostM = memref::DimOp::create(b, loc, hostC, lead);
  Value hostN = memref::DimOp::create(b, loc, hostC, lead + 1);
  Value tiles = im.mul(im.ceilDiv(hostM, s.tileM), im.ceilDiv(hostN, s.tileN));
  if (persistent)
    tiles = im.minui(tiles, im.c(s.persistent));
  Value batches =
      c.batched ? memref::DimOp::create(b, loc, hostC, 0).getResult() : im.c(1);
  Value one = im.c(1);
  Value smem = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                            s.sharedMemoryBytes());
  // Named like the generic kernels and in the same GPU module, so that a
  // step loads one binary and a profile names the op.
  auto launch = gpu::LaunchOp::create(
      b, loc, tiles, one, batches, im.c(s.launchThreads()), one, one, smem,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{},
      /*workgroupAttributions=*/{}, /*privateAttributions=*/{},
      /*clusterSizeX=*/nullptr, /*clusterSizeY=*/nullptr,
      /*clusterSizeZ=*/nullptr,
      kernelName ? SymbolRefAttr::get(ctx, kernelName->first) : nullptr,
      kernelName ? SymbolRefAttr::get(ctx, kernelName->second) : nullptr);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);

  // Operand views first, in the order A, B, C: kernel outlining then passes
  // them as the kernel's arguments in this order.
  Value batch = launch.getBlockIds().z;
  batchId = batch;
  ga = view2D(hostA, batch);
  gb = view2D(hostB, batch);
  gc = view2D(hostC, batch);
  dimM = gc.rows;
  dimN = gc.cols;
  dimK = c.aKContiguous ? ga.cols : ga.rows;

  tid = launch.getThreadIds().x;
  lane = im.rem(tid, 32);
  Value warp = im.div(tid, 32);
  warpM = im.div(warp, s.warpsN);
  warpN = im.rem(warp, s.warpsN);

  blockId = launch.getBlockIds().x;
  if (persistent)
    gridSize = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
  setTile(blockId);
  numK = im.ceilDiv(dimK, s.tileK);

  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                               MemRefLayoutAttrInterface(), wg);
  raw = gpu::DynamicSharedMemoryOp::create(b, loc, bytes);
  return launch;
}

/// The origin (m0, n0) of tile `pid` of C. Grouped rasterisation:
/// consecutive tiles walk `group_m` tile rows down a column of tiles, so
/// that blocks running together share B tiles (and A tiles) in L2.
void KernelEmitter::setTile(Value pid) {
  Value tilesM = im.ceilDiv(dimM, s.tileM), tilesN = im.ceilDiv(dimN, s.tileN);
  Value perGroup = im.mul(tilesN, s.groupM);
  Value firstM = im.mul(im.div(pid, perGroup), s.groupM);
  Value groupRows = im.minui(im.sub(tilesM, firstM), im.c(s.groupM));
  Value inGroup = im.rem(pid, perGroup);
  m0 = im.mul(im.add(firstM, im.rem(inGroup, groupRows)), s.tileM);
  n0 = im.mul(im.div(inGroup, groupRows), s.tileN);
}

void KernelEmitter::forEachTile(llvm::function_ref<void(Value)> body) {
  if (!persistent) {
    body(im.c(0));
    return;
  }
  Value tiles = im.mul(im.ceilDiv(dimM, s.tileM), im.ceilDiv(dimN, s.tileN));
  auto loop =
      scf::ForOp::create(b, loc, blockId, tiles, gridSize, ValueRange{im.c(0)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  setTile(loop.getInductionVar());
  Value count = loop.getRegionIterArgs().front();
  body(count);
  scf::YieldOp::create(b, loc, ValueRange{im.add(count, numK)});
}

void KernelEmitter::emit() {
  OpBuilder::InsertionGuard guard(b);
  Value descA, descB;
  if (s.wgmma) {
    // The TMA boxes: a tile row of 64 elements (128 bytes, the swizzle's
    // width) along K, or 64 along M or N for a transposed operand.
    descA = createTensorMap(c.a, c.aKContiguous
                                     ? ArrayRef<int64_t>{s.tileM, s.tileK}
                                     : ArrayRef<int64_t>{s.tileK, kBoxWidth});
    descB = createTensorMap(c.b, c.bKContiguous
                                     ? ArrayRef<int64_t>{s.tileN, s.tileK}
                                     : ArrayRef<int64_t>{s.tileK, kBoxWidth});
  }
  Value raw;
  beginLaunch(raw);
  if (s.wgmma)
    emitWarpgroup(raw, descA, descB);
  else
    emitMMASync(raw);
  gpu::TerminatorOp::create(b, loc);
}

void KernelEmitter::emitMMASync(Value raw) {
  MLIRContext *ctx = b.getContext();
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  // Shared memory: the A ring, then the B ring.
  // A K-contiguous tile is [outer][k], the other [k][outer].
  auto ring = [&](int64_t outer, bool kContiguous, int64_t offset) {
    int64_t rows = kContiguous ? outer : s.tileK;
    int64_t cols = kContiguous ? s.tileK : outer;
    auto type = MemRefType::get({s.stages, rows, cols}, c.inputType,
                                MemRefLayoutAttrInterface(), wg);
    Value view =
        memref::ViewOp::create(b, loc, type, raw, im.c(offset), ValueRange{});
    return SharedTile{view, rows, cols, 16 / s.inputBytes(),
                      /*pairs=*/tf32 && !kContiguous};
  };
  sa = ring(s.tileM, c.aKContiguous, 0);
  sb = ring(s.tileN, c.bKContiguous,
            s.stages * s.tileM * s.tileK * s.inputBytes());

  // Prologue: K tiles 0 .. stages - 2, one commit group each.
  SmallVector<Value> tokens;
  for (int64_t st = 0; st < s.stages - 1; ++st) {
    issueLoads(im.c(st), im.c(st), tokens);
    if (Value g = commit(tokens))
      anyToken = g;
  }

  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  SmallVector<Value> init(fragsM * fragsN * 4, zero);
  auto loop = scf::ForOp::create(b, loc, im.c(0), numK, im.c(1), init);
  {
    OpBuilder::InsertionGuard loopGuard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    // Tile kt has landed once at most stages - 2 groups are pending; the
    // barrier also tells that every warp is done with the stage refilled next.
    if (anyToken)
      nvgpu::DeviceAsyncWaitOp::create(b, loc, anyToken,
                                       b.getI32IntegerAttr(s.stages - 2));
    gpu::BarrierOp::create(b, loc);
    Value nextTile = im.add(kt, s.stages - 1);
    issueLoads(nextTile, im.rem(nextTile, s.stages), tokens);
    commit(tokens);
    SmallVector<Value> acc =
        computeStage(im.rem(kt, s.stages),
                     SmallVector<Value>(loop.getRegionIterArgs().begin(),
                                        loop.getRegionIterArgs().end()));
    scf::YieldOp::create(b, loc, acc);
  }
  if (anyToken)
    nvgpu::DeviceAsyncWaitOp::create(b, loc, anyToken, b.getI32IntegerAttr(0));
  SmallVector<Value> acc(loop.getResults().begin(), loop.getResults().end());
  storeResults(acc);
}

//===----------------------------------------------------------------------===//
// Warpgroup (wgmma) kernels
//===----------------------------------------------------------------------===//
//
// Block: warps_m / 4 consumer warpgroups (threads 0 .. 32 * warps_m - 1),
// then one producer warpgroup. Shared memory: a ring of `stages` A tiles,
// then `stages` B tiles, aligned to 1024 bytes, each stored as TMA writes
// it with the 128-byte swizzle; 2 * stages mbarriers: full[i] (the
// producer's expect_tx, completed by TMA's bytes) and empty[i] (an arrival
// of every consumer thread once its wgmmas reading stage i are done).
//
// A K-major operand tile is one box [rows][64 of K]; an M- or N-major one
// is tile / 64 boxes [64 of K][64 of M or N], one after the other. Either
// way the rows of warpgroup g start 8 KiB * g into the A tile, and a K
// step of 16 is 32 bytes into a K-major tile, 16 rows (2 KiB) into the
// other.
//
// Each consumer warpgroup computes 64 rows x tile_n with wgmma
// m64n<tile_n>k16 into tile_n / 2 f32 registers a thread, in the layout of
// tile_n / 8 mma.sync m16n8 accumulators of the warp's 16 rows: the
// epilogue of the mma.sync kernel (warps [warps_m, 1]) stores them as is.

/// The TMA descriptor of a 2-D operand, made on the host (the runtime
/// encodes it once per distinct map and keeps the device copy).
Value KernelEmitter::createTensorMap(Value memref, ArrayRef<int64_t> box) {
  MLIRContext *ctx = b.getContext();
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto type = nvgpu::TensorMapDescriptorType::get(
      ctx, MemRefType::get(box, c.inputType, MemRefLayoutAttrInterface(), wg),
      nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
  auto memrefType = cast<MemRefType>(memref.getType());
  Value unranked = memref::CastOp::create(
      b, loc, UnrankedMemRefType::get(c.inputType, memrefType.getMemorySpace()),
      memref);
  SmallVector<Value> dims = {im.c(box[0]), im.c(box[1])};
  Value desc =
      nvgpu::TmaCreateDescriptorOp::create(b, loc, type, unranked, dims);
  // The kernel takes the map's device address as a pointer (what the
  // descriptor lowers to): gpu.func arguments of nvgpu types have no
  // lowering. useTensorMap casts it back inside the kernel.
  return UnrealizedConversionCastOp::create(
             b, loc, LLVM::LLVMPointerType::get(ctx), desc)
      .getResult(0);
}

/// The descriptor of `map` (createTensorMap's pointer) inside the kernel.
Value KernelEmitter::useTensorMap(Value map) {
  Type type =
      map.getDefiningOp<UnrealizedConversionCastOp>().getOperand(0).getType();
  return UnrealizedConversionCastOp::create(b, loc, type, map).getResult(0);
}

/// A wgmma shared-memory matrix descriptor: start address, leading and
/// stride byte offsets (each >> 4, 14 bits), 128-byte swizzle. The ring is
/// 1024-byte aligned, so the base offset is 0.
Value KernelEmitter::matrixDescriptor(Value address, int64_t leadingBytes,
                                      int64_t strideBytes) {
  Type i64 = b.getI64Type();
  auto constant = [&](uint64_t v) {
    return arith::ConstantIntOp::create(b, loc, i64, int64_t(v));
  };
  Value a = arith::IndexCastUIOp::create(b, loc, i64, address);
  a = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, a, constant(4)), constant(0x3FFF));
  uint64_t fixed = (uint64_t((leadingBytes >> 4) & 0x3FFF) << 16) |
                   (uint64_t((strideBytes >> 4) & 0x3FFF) << 32) |
                   (uint64_t(1) << 62);
  return arith::OrIOp::create(b, loc, a, constant(fixed));
}

/// A barrier of the threads that store the tile: the block, or with wgmma
/// the consumer warpgroups (named barrier 1; the producer has left).
void KernelEmitter::syncComputeThreads() {
  if (!s.wgmma) {
    gpu::BarrierOp::create(b, loc);
    return;
  }
  Type i32 = b.getI32Type();
  Value id = arith::ConstantIntOp::create(b, loc, i32, 1);
  Value count = arith::ConstantIntOp::create(b, loc, i32, s.numThreads());
  NVVM::BarrierOp::create(b, loc, /*res=*/Type(), id, count,
                          /*reductionOp=*/nullptr,
                          /*reductionPredicate=*/Value());
}

void KernelEmitter::emitWarpgroup(Value raw, Value descA, Value descB) {
  MLIRContext *ctx = b.getContext();
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  // The ring starts at the first 1024-byte boundary of dynamic shared
  // memory (sharedMemoryBytes has room for it).
  int64_t align = mpt::MMAStrategy::kSwizzleAlign;
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, raw);
  Value pad = im.rem(im.sub(im.c(align), im.rem(base, align)), align);
  auto groupType = nvgpu::MBarrierGroupType::get(ctx, wg, 2 * s.stages);
  Value barriers = nvgpu::MBarrierCreateOp::create(b, loc, groupType);
  auto first = scf::IfOp::create(b, loc, im.ult(tid, im.c(1)), false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(first.thenBlock());
    for (int64_t i = 0; i < s.stages; ++i) {
      nvgpu::MBarrierInitOp::create(b, loc, barriers, im.c(1), im.c(i),
                                    Value());
      nvgpu::MBarrierInitOp::create(b, loc, barriers, im.c(s.numThreads()),
                                    im.c(s.stages + i), Value());
    }
    NVVM::FenceMbarrierInitOp::create(b, loc);
  }
  gpu::BarrierOp::create(b, loc);
  auto roles = scf::IfOp::create(b, loc, im.ule(im.c(s.numThreads()), tid),
                                 /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(roles.thenBlock());
    emitProducer(raw, pad, barriers, useTensorMap(descA), useTensorMap(descB));
    b.setInsertionPointToStart(roles.elseBlock());
    emitConsumers(raw, pad, barriers);
  }
}

/// One thread of the producer warpgroup: for each K tile, waits until the
/// consumers have released its stage, then has TMA load the A and B tiles.
void KernelEmitter::emitProducer(Value raw, Value pad, Value barriers,
                                 Value descA, Value descB) {
  MLIRContext *ctx = b.getContext();
  auto wg = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto leader =
      scf::IfOp::create(b, loc, im.ult(tid, im.c(s.numThreads() + 1)), false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(leader.thenBlock());
  int64_t tileBytesA = s.tileM * s.tileK * 2,
          tileBytesB = s.tileN * s.tileK * 2;
  forEachTile([&](Value count) {
    auto loop = scf::ForOp::create(b, loc, im.c(0), numK, im.c(1));
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value kt = loop.getInductionVar();
    // The ring position of this K tile among all the block's K tiles.
    Value index = im.add(count, kt);
    Value stage = im.rem(index, s.stages), round = im.div(index, s.stages);
    // Round r of a stage waits for the consumers' release of round r - 1.
    auto refill =
        scf::IfOp::create(b, loc, im.ule(im.c(s.stages), index), false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(refill.thenBlock());
      Value parity = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           im.rem(round, 2), im.c(0));
      nvgpu::MBarrierTryWaitParityOp::create(b, loc, barriers, parity,
                                             im.c(kMaxWaitTicks),
                                             im.add(stage, s.stages));
    }
    nvgpu::MBarrierArriveExpectTxOp::create(
        b, loc, barriers, im.c(tileBytesA + tileBytesB), stage, Value());
    Value k0 = im.mul(kt, s.tileK);
    auto load = [&](Value desc, Value offset, ArrayRef<int64_t> box, Value col,
                    Value row) {
      auto type =
          MemRefType::get(box, c.inputType, MemRefLayoutAttrInterface(), wg);
      Value dst =
          memref::ViewOp::create(b, loc, type, raw, offset, ValueRange{});
      nvgpu::TmaAsyncLoadOp::create(b, loc, dst, barriers, desc,
                                    ValueRange{col, row}, stage, Value(),
                                    Value());
    };
    // K-major: one box; M- or N-major: one box per 64 columns.
    auto loadTile = [&](Value desc, Value offset, int64_t rows, bool kMajor,
                        Value r0) {
      if (kMajor) {
        load(desc, offset, {rows, s.tileK}, k0, r0);
        return;
      }
      for (int64_t j = 0; j < rows / kBoxWidth; ++j)
        load(desc, im.add(offset, j * kBoxWidth * s.tileK * 2),
             {s.tileK, kBoxWidth}, im.add(r0, j * kBoxWidth), k0);
    };
    Value offsetA = im.add(pad, im.mul(stage, tileBytesA));
    Value offsetB =
        im.add(im.add(pad, s.stages * tileBytesA), im.mul(stage, tileBytesB));
    loadTile(descA, offsetA, s.tileM, c.aKContiguous, m0);
    loadTile(descB, offsetB, s.tileN, c.bKContiguous, n0);
  });
}

/// The consumer warpgroups: per K tile, wait for its stage, issue the
/// tile_k / 16 wgmmas as one group, wait for the previous tile's group and
/// release that tile's stage. Then the epilogue.
void KernelEmitter::emitConsumers(Value raw, Value pad, Value barriers) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  int64_t accCount = s.tileN / 2;
  auto accType =
      LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(accCount, f32));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value init = LLVM::PoisonOp::create(b, loc, accType);
  for (int64_t i = 0; i < accCount; ++i)
    init = LLVM::InsertValueOp::create(b, loc, init, zero, i);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, raw);
  Value group = im.div(tid, mpt::MMAStrategy::kWarpgroupThreads);
  int64_t tileBytesA = s.tileM * s.tileK * 2,
          tileBytesB = s.tileN * s.tileK * 2;
  int64_t rowsBytes = kBoxWidth * s.tileK * 2; // 64 rows of a K-major tile
  // K-major: a K step of 16 is 32 bytes; M/N-major: 16 rows of 128 bytes.
  int64_t kStepA = c.aKContiguous ? 32 : 16 * 128;
  int64_t kStepB = c.bKContiguous ? 32 : 16 * 128;
  // Leading byte offset: unused for K-major, the next 64 columns for the
  // other; stride byte offset: the next 8 rows (K-major) or 8 K (other).
  int64_t lboA = c.aKContiguous ? 16 : rowsBytes;
  int64_t lboB = c.bKContiguous ? 16 : rowsBytes;
  NVVM::WGMMATypes type =
      isBF16 ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
  forEachTile([&](Value count) {
    auto loop = scf::ForOp::create(b, loc, im.c(0), numK, im.c(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kt = loop.getInductionVar();
      // The ring position of this K tile among all the block's K tiles.
      Value index = im.add(count, kt);
      Value stage = im.rem(index, s.stages);
      Value parity =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                im.rem(im.div(index, s.stages), 2), im.c(0));
      nvgpu::MBarrierTryWaitParityOp::create(b, loc, barriers, parity,
                                             im.c(kMaxWaitTicks), stage);
      Value addrA = im.add(im.add(base, pad), im.add(im.mul(stage, tileBytesA),
                                                     im.mul(group, rowsBytes)));
      Value addrB =
          im.add(im.add(base, pad), im.add(im.c(s.stages * tileBytesA),
                                           im.mul(stage, tileBytesB)));
      NVVM::WgmmaFenceAlignedOp::create(b, loc);
      Value acc = loop.getRegionIterArgs().front();
      for (int64_t kk = 0; kk < s.tileK / 16; ++kk) {
        Value da = matrixDescriptor(im.add(addrA, kk * kStepA), lboA, 1024);
        Value db = matrixDescriptor(im.add(addrB, kk * kStepB), lboB, 1024);
        acc = NVVM::WgmmaMmaAsyncOp::create(
            b, loc, accType, acc, da, db,
            NVVM::MMAShapeAttr::get(ctx, 64, s.tileN, 16), type, type,
            NVVM::WGMMATypes::f32, NVVM::WGMMAScaleOut::one,
            NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
            c.aKContiguous ? NVVM::MMALayout::row : NVVM::MMALayout::col,
            c.bKContiguous ? NVVM::MMALayout::col : NVVM::MMALayout::row,
            /*satfinite=*/nullptr);
      }
      NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
      // The group of K tile kt - 1 is done: its stage may be refilled.
      NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
      auto release = scf::IfOp::create(b, loc, im.ult(im.c(0), kt), false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(release.thenBlock());
        releaseStage(barriers, im.add(index, s.stages - 1));
      }
      scf::YieldOp::create(b, loc, acc);
    }
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    // In a persistent kernel the producer goes on into the next tile: the
    // last K tile's stage is released too.
    if (persistent) {
      auto release = scf::IfOp::create(b, loc, im.ult(im.c(0), numK), false);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(release.thenBlock());
      releaseStage(barriers, im.add(count, im.add(numK, s.stages - 1)));
    }
    SmallVector<Value> acc;
    for (int64_t i = 0; i < accCount; ++i)
      acc.push_back(LLVM::ExtractValueOp::create(b, loc, loop.getResult(0), i));
    storeResults(acc);
  });
}

/// Every consumer thread arrives on the `empty` barrier of the stage of
/// ring position `index` - stages (an index offset by `stages`, so that
/// it stays unsigned).
void KernelEmitter::releaseStage(Value barriers, Value index) {
  nvgpu::MBarrierArriveOp::create(
      b, loc, nvgpu::MBarrierTokenType::get(b.getContext()), barriers,
      im.add(im.rem(index, s.stages), s.stages));
}

/// A zero fill of exactly `output`, right before `op`: the kernel can write
/// the output without reading it.
linalg::FillOp zeroFillBefore(Operation *op, Value output) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || !fill.hasPureBufferSemantics() ||
      fill.getDpsInitOperand(0)->get() != output)
    return {};
  Attribute value;
  if (!matchPattern(fill.getDpsInputOperand(0)->get(), m_Constant(&value)))
    return {};
  auto f = dyn_cast<FloatAttr>(value);
  return f && f.getValue().isZero() ? fill : linalg::FillOp();
}

struct ContractionToMMAPass
    : public mpt::impl::ContractionToMMABase<ContractionToMMAPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(mpt::kMMAStrategyAttrName))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      if (failed(rewrite(op)))
        return signalPassFailure();
  }

  /// `<fn>_kernels::<fn>_mma<n>_<op>` inside a function (the module that
  /// mpt-linalg-to-gpu-launch puts the other kernels of the function in).
  std::optional<std::pair<std::string, std::string>>
  kernelName(linalg::LinalgOp op) {
    auto fn = op->getParentOfType<func::FuncOp>();
    if (!fn)
      return std::nullopt;
    std::string name = (fn.getName() + "_mma" + Twine(counter++) + "_" +
                        op->getName().stripDialect())
                           .str();
    llvm::replace(name, '.', '_');
    return std::make_pair((fn.getName() + "_kernels").str(), name);
  }

  int64_t counter = 0;

  LogicalResult rewrite(linalg::LinalgOp op) {
    // f32 inputs match; verifyStrategy then asks for `tf32` in the strategy.
    std::string reason;
    FailureOr<mpt::MMAContraction> c =
        mpt::matchMMAContraction(op, reason, /*allowF32=*/true);
    if (failed(c))
      return op->emitError() << "carries '" << mpt::kMMAStrategyAttrName
                             << "' but cannot run on tensor cores: " << reason;
    FailureOr<mpt::MMAStrategy> s = mpt::readStrategy(op);
    if (failed(s) || failed(mpt::verifyStrategy(op, *s, *c, sharedMemoryLimit)))
      return failure();
    linalg::FillOp fill = zeroFillBefore(op, c->c);
    // With an epilogue, the kernel goes where the epilogue was (its
    // outputs may be allocated between the two; nothing between has an
    // effect on the contraction's operands).
    SmallVector<linalg::GenericOp> epilogue = mpt::findMMAEpilogues(op);
    OpBuilder b(epilogue.empty() ? op.getOperation()
                                 : epilogue.back().getOperation());
    KernelEmitter(b, op.getLoc(), *c, *s, /*accumulate=*/!fill, kernelName(op),
                  epilogue, stageEpilogue)
        .emit();
    if (fill) {
      fill->erase();
      ++numFillsDropped;
    }
    op->erase();
    if (!epilogue.empty()) {
      for (linalg::GenericOp stage : epilogue)
        stage->erase();
      numEpilogues += epilogue.size();
      // C is never written now: drop it.
      if (llvm::all_of(c->c.getUsers(), [](Operation *user) {
            return isa<gpu::DeallocOp>(user);
          })) {
        for (Operation *user : llvm::make_early_inc_range(c->c.getUsers()))
          user->erase();
        c->c.getDefiningOp()->erase();
      }
    }
    ++numRewritten;
    return success();
  }
};
} // namespace
