//===- MMAStrategy.h - Which contractions go to mma.sync, and how -*- C++ -*-=//
//
// Shared by the strategy pass (decide, record) and the rewrite (apply): the
// analysis of a contraction on memrefs, and the `mma_strategy` attribute.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_CONVERSION_CONTRACTIONTOMMA_MMASTRATEGY_H
#define MPT_CONVERSION_CONTRACTIONTOMMA_MMASTRATEGY_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <string>

namespace mpt {

/// Name of the strategy attribute on a contraction.
inline constexpr llvm::StringLiteral kMMAStrategyAttrName = "mma_strategy";

/// A contraction C[b, m, n] (+)= A * B that the mma.sync kernel computes.
struct MMAContraction {
  mlir::Value a, b, c;
  /// One batch loop, the outermost dimension of all three operands.
  bool batched = false;
  /// A is stored [M][K] (else [K][M]); B is stored [N][K] (else [K][N]).
  bool aKContiguous = true;
  bool bKContiguous = false;
  /// f16 or bf16; f32 only where TF32 was allowed (see matchMMAContraction).
  mlir::Type inputType;
  /// f32, f16 or bf16.
  mlir::Type outputType;
};

/// Matches a linalg op with buffer semantics whose loops are (batch?, m, n, k)
/// and whose body multiplies and adds, with 16-bit inputs, or with
/// `allowF32` also f32 inputs and output (computed as TF32). On failure,
/// `reason` says why.
mlir::FailureOr<MMAContraction> matchMMAContraction(mlir::linalg::LinalgOp op,
                                                    std::string &reason,
                                                    bool allowF32 = false);

/// What the kernel does; see mpt-select-mma-strategy.
struct MMAStrategy {
  int64_t tileM = 128, tileN = 128, tileK = 32;
  int64_t warpsM = 2, warpsN = 2;
  int64_t stages = 3;
  int64_t groupM = 8;
  /// Elementwise ops after the contraction computed in its epilogue (0: the
  /// kernel stores C); see findMMAEpilogues.
  int64_t epilogueStages = 1;
  /// Elements per asynchronous copy for A and B (16, 8 or 4 bytes: 8, 4, 2
  /// elements of 16 bits, 4, 2, 1 of f32), or 1 for 16-bit inputs
  /// (synchronous element loads).
  int64_t copyA = 8, copyB = 8;
  /// f32 inputs rounded to TF32 (cvt.rna) for mma.sync m16n8k8; recorded as
  /// the unit key `tf32` so that FP32 steps change numerics only on request.
  bool tf32 = false;
  /// Hopper warpgroup kernel (key `wgmma`): TMA loads into a ring of
  /// 128-byte-swizzled tiles guarded by mbarriers, filled by a producer
  /// warpgroup, consumed by `warps_m / 4` warpgroups issuing wgmma
  /// m64n<tile_n>k16; see mpt-contraction-to-mma.
  bool wgmma = false;
  /// With wgmma: blocks of a persistent grid (key `persistent`; each block
  /// loops over tiles, its producer filling the next tile's stages during
  /// the epilogue), or 0 for a block a tile. Used only by kernels whose
  /// epilogue does not stage its results through the ring.
  int64_t persistent = 0;

  /// Threads that compute (and store) the tile.
  int64_t numThreads() const { return warpsM * warpsN * 32; }
  /// Threads of a block: with wgmma, a producer warpgroup after them.
  int64_t launchThreads() const {
    return numThreads() + (wgmma ? kWarpgroupThreads : 0);
  }
  static constexpr int64_t kWarpgroupThreads = 128;
  /// With wgmma, room to align the ring to the 1024-byte period of the
  /// 128-byte swizzle.
  static constexpr int64_t kSwizzleAlign = 1024;
  /// Bytes of one input element in shared memory.
  int64_t inputBytes() const { return tf32 ? 4 : 2; }
  /// K of one mma.sync: m16n8k16 for 16-bit inputs, m16n8k8 for TF32.
  int64_t mmaK() const { return tf32 ? 8 : 16; }
  int64_t sharedMemoryBytes() const {
    return stages * (tileM + tileN) * tileK * inputBytes() +
           (wgmma ? kSwizzleAlign : 0);
  }
};

mlir::DictionaryAttr toAttr(mlir::MLIRContext *ctx, const MMAStrategy &s);

/// Reads the attribute of `op`; emits an error on `op` if it is malformed.
mlir::FailureOr<MMAStrategy> readStrategy(mlir::Operation *op);

/// Checks a strategy against the contraction and the shared-memory limit;
/// emits an error on `op` naming what is wrong.
mlir::LogicalResult verifyStrategy(mlir::Operation *op, const MMAStrategy &s,
                                   const MMAContraction &c,
                                   int64_t sharedMemoryLimit);

/// The widest access (8, 4, 2 elements, else 1) along the unit-stride
/// innermost dimension of `type` that its static strides and offset keep
/// aligned to its own size (the base pointer is assumed 16-byte aligned).
int64_t maxCopyWidth(mlir::MemRefType type);

/// The buffer `v` views (through any chain of view-like ops), or `v`.
mlir::Value viewedBuffer(mlir::Value v);

/// Most elementwise ops one tensor-core kernel computes in its epilogue.
inline constexpr size_t kMaxEpilogueStages = 4;

/// The elementwise ops that the tensor-core kernel of `contraction` (on
/// buffers) computes in its epilogue, in order, or none. The first is the
/// first linalg op after the contraction, with only allocations and
/// side-effect-free host ops between, that reads the contraction's output C
/// with an identity map and writes its own outputs with identity maps,
/// where C is a gpu.alloc that nothing else reads or writes (but the
/// contraction, a zero fill and a gpu.dealloc): the kernel then never
/// writes C. Each further one is the next linalg op, elementwise likewise,
/// reading an output of an earlier one at the same point (identity map), no
/// other view of what the chain writes, and writing nothing the chain
/// touches. Inputs are read through maps whose results are plain loop
/// dims. Every output of every stage is stored. At most the strategy's
/// `epilogue_stages` (of the `mma_strategy` attribute; 1 if absent).
llvm::SmallVector<mlir::linalg::GenericOp>
findMMAEpilogues(mlir::linalg::LinalgOp contraction);

} // namespace mpt

#endif // MPT_CONVERSION_CONTRACTIONTOMMA_MMASTRATEGY_H
