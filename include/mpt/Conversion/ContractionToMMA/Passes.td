//===- Passes.td - Contractions on tensor cores (mma.sync) -*- tablegen -*-===//

#ifndef MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_TD
#define MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_TD

include "mlir/Pass/PassBase.td"

def SelectMMAStrategy : Pass<"mpt-select-mma-strategy"> {
  let summary = "Choose the tensor-core tiling of each 16-bit contraction "
                "(and FP32 ones as TF32 on request)";
  let description = [{
    The decision half of the tensor-core lowering: for every contraction on
    memrefs that `mpt-contraction-to-mma` can map (f16 or bf16 inputs, f32,
    f16 or bf16 output; `linalg.matmul`, `linalg.batch_matmul`, the
    `indexing_maps` forms with transposed operands, contraction-shaped
    `linalg.generic`), records the tile sizes, the warp grid, the number of
    pipeline stages, the block rasterisation and the width of each
    operand's asynchronous copies as the attribute `mma_strategy`.
    An op that already carries the attribute keeps it, so that a user or a
    test can pin a strategy.

    FP32 contractions (f32 inputs and output) are left to the generic path
    unless `allow-tf32` is set: then they get a strategy with the unit key
    `tf32`, and the kernel rounds the inputs to TF32 (10-bit mantissa,
    `cvt.rna.tf32.f32`) and accumulates in f32 with mma.sync m16n8k8.
    The tiles are those of 16-bit inputs (K tile 32: 128-byte rows of
    f32), so a stage takes twice the shared memory, with at most 3 stages
    (144 KiB for the large tile).

    The elementwise `linalg.generic` that reads the contraction's output
    (the bias add and cast of a forward layer, the ReLU mask of a backward
    one) moves up to right after it when that is legal (everything in
    between is an allocation, a pure host op, or a linalg op that touches
    none of its buffers), so that `mpt-contraction-to-mma` computes it in
    the kernel's epilogue; with `epilogue-stages` > 1, so do the next
    elementwise readers of its outputs (the ReLU after the bias add). The
    number is recorded in the strategy as `epilogue_stages`.

    The tile is the largest of 128x256, 128x128, 64x128, 64x64 (M x N) that
    still gives at least `num-sms` blocks, with a K tile of 32 and as many
    stages (at most 4) as fit in `shared-memory-limit`.
    With `wgmma` (Hopper, sm_90a), a 16-bit contraction without a batch
    loop whose A and B have static strides and offsets in multiples of 16
    bytes (what TMA needs) gets the unit key `wgmma` instead: a 128x256
    tile where that gives at least `num-sms` blocks, else 128x128, computed
    by two warpgroups (warps = [8, 1], each 64 rows with wgmma m64nNk16), a
    K tile of 64 (one 128-byte swizzle row), as many stages as fit up to 4.
    Other contractions keep mma.sync.
    The copy width is the largest of 16, 8, 4 bytes (8, 4, 2 16-bit
    elements; 4, 2, 1 f32) that the operand's static strides and offset
    keep aligned, else 1 (16-bit: synchronous loads).

    ```mlir
    linalg.matmul ins(%a, %b : memref<8192x8192xf16>, memref<8192x8192xf16>)
                  outs(%c : memref<8192x8192xf32>)
    // becomes
    linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64,
                   stages = 4 : i64, tile = array<i64: 128, 256, 32>,
                   warps = array<i64: 2, 4>}} ins(...) outs(...)

    // with wgmma (an sm_90a target), when A and B suit TMA:
    linalg.matmul {mma_strategy = {copy = array<i64: 8, 8>, group_m = 8 : i64,
                   stages = 4 : i64, tile = array<i64: 128, 256, 64>,
                   warps = array<i64: 8, 1>, wgmma}} ins(...) outs(...)

    // f32 x f32 -> f32 with allow-tf32:
    linalg.matmul {mma_strategy = {copy = array<i64: 4, 4>, group_m = 8 : i64,
                   stages = 3 : i64, tf32, tile = array<i64: 128, 256, 32>,
                   warps = array<i64: 2, 4>}} ins(...) outs(...)
    ```
  }];
  let options = [
    Option<"numSMs", "num-sms", "int64_t", /*default=*/"132",
           "Multiprocessors of the target (132 on the H100 SXM)">,
    Option<"epilogueStages", "epilogue-stages", "int64_t", /*default=*/"2",
           "Elementwise ops after a contraction that its kernel computes "
           "in the epilogue (0 to 4; recorded as epilogue_stages): by "
           "default the bias add and cast, and the activation after them">,
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t",
           /*default=*/"232448",
           "Dynamic shared memory one block may use, in bytes (227 KiB on "
           "sm_90, 163 KiB on sm_80)">,
    Option<"allowTF32", "allow-tf32", "bool", /*default=*/"false",
           "Also map FP32 contractions (f32 inputs and output), as TF32: "
           "inputs rounded to 10-bit mantissas (cvt.rna.tf32.f32), products "
           "accumulated in f32; off: FP32 stays exact FP32">,
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "Give 16-bit contractions that TMA can load a Hopper warpgroup "
           "strategy (key wgmma: TMA, mbarriers, wgmma; needs sm_90a)">,
    Option<"persistent", "persistent", "bool", /*default=*/"false",
           "Warpgroup strategies with more tiles than num-sms get a "
           "persistent grid of num-sms blocks (key persistent), used by "
           "kernels whose epilogue is not staged">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark on each contraction given a strategy: the kernel "
           "kind, tile, warps and stages chosen, and why not wgmma where "
           "it was asked for">
  ];
  let statistics = [
    Statistic<"numSelected", "num-selected",
              "Contractions given a tensor-core strategy">,
    Statistic<"numWarpgroup", "num-warpgroup",
              "Contractions given a warpgroup (wgmma) strategy">
  ];
}

def ContractionToMMA : Pass<"mpt-contraction-to-mma"> {
  let summary = "Rewrite 16-bit (and TF32) contractions on memrefs into "
                "mma.sync kernels";
  let description = [{
    The mechanism half: every linalg op carrying `mma_strategy` (see
    `mpt-select-mma-strategy`) becomes a `gpu.launch` (not outlined) of a
    tiled tensor-core kernel, following the recorded strategy exactly:

    * grid x: the M x N tiles, rasterised in groups of `group_m` tile rows
      for L2 reuse; grid z: the batch; one block of `warps[0] * warps[1]`
      warps;
    * a `stages`-deep ring of shared-memory tiles filled by
      `nvgpu.device_async_copy` (cp.async, 16/8/4 bytes, zero-filled past
      the edges of M, N and K through the source size) with one commit
      group per K tile; the 16-byte chunks of each tile row are XOR-swizzled
      so that `ldmatrix` and the copies are free of bank conflicts;
    * `nvgpu.ldmatrix` (`.trans` for an M-contiguous A or an N-contiguous
      B, so A^T·B and A·B^T need no transpose kernel) and `nvvm.mma.sync`
      m16n8k16 row.col with f32 accumulators, for f16 and bf16 (NVVM is
      emitted directly: upstream's nvgpu lowering rejects bf16);
    * with `tf32` in the strategy (f32 inputs): f32 tiles, `nvgpu.ldmatrix`
      (b16, not transposed) for K-contiguous operands and 32-bit shared
      loads for M- or N-contiguous ones (ldmatrix cannot transpose 32-bit
      elements), each element rounded by `nvvm.convert.float.to.tf32`
      (`cvt.rna.tf32.f32`), and `nvvm.mma.sync` m16n8k8 tf32. A strategy
      on an f32 contraction without `tf32` is an error: TF32 is never
      implied;
    * an epilogue that adds the old output unless a zero `linalg.fill` of
      the same buffer right before the op can be dropped, rounds to the
      output type, and stores with vector stores in full tiles and masked
      stores at the edges;
    * when the contraction's output is a device buffer that only an
      elementwise `linalg.generic` right after it reads (the bias add and
      cast of a forward layer, the ReLU mask of a backward one; see
      `findMMAEpilogues`), that op's body runs on each result in registers
      instead: its other inputs are loaded through their maps, its outputs
      stored, and the f32 output is never written nor allocated. With
      `stage-epilogue`, full tiles go through shared memory one fragment
      row at a time: the warps write their accumulators into a padded f32
      staging tile (reusing the ring), then each thread computes 4
      consecutive columns of a row, loading inputs whose innermost index is
      the column with one vector load and storing each output with one
      vector store; edge tiles, and outputs whose rows do not keep 4
      elements aligned, store from the fragments (pairs where aligned).
      The inputs of a fragment row are loaded before its results are
      stored, so that the loads are in flight together.

    The kernel needs `shared memory = stages * (tile_m + tile_n) * tile_k *
    (2, or 4 with tf32)` bytes of dynamic shared memory; the launcher must
    raise the function's limit above 48 KiB.
  }];
  let options = [
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t",
           /*default=*/"232448",
           "Dynamic shared memory one block may use, in bytes">,
    Option<"stageEpilogue", "stage-epilogue", "bool", /*default=*/"true",
           "Store the epilogue's results of full tiles through shared "
           "memory, as whole row segments">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
  let statistics = [
    Statistic<"numRewritten", "num-rewritten",
              "Contractions rewritten into mma.sync kernels">,
    Statistic<"numFillsDropped", "num-fills-dropped",
              "Zero fills of an output folded into a kernel">,
    Statistic<"numEpilogues", "num-epilogues",
              "Elementwise ops computed in a kernel's epilogue">
  ];
}

#endif // MPT_CONVERSION_CONTRACTIONTOMMA_PASSES_TD
