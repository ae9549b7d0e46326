//===- Passes.td - A training step onto the GPU -------------*- tablegen -*-===//

#ifndef MPT_CONVERSION_STEPTOGPU_PASSES_TD
#define MPT_CONVERSION_STEPTOGPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CollectivesToRuntime : Pass<"mpt-collectives-to-runtime",
                                "::mlir::ModuleOp"> {
  let summary = "Lower shard collectives of a data-parallel step to the "
                "runtime's NCCL calls";
  let description = [{
    The first pass of `mpt-lower-to-nvvm`. On tensors, before bufferization:

    * `shard.all_reduce` (sum, product, max, min) becomes a call of the
      runtime's `mptAllReduce(send, recv, count, ncclDataType, ncclRedOp)`:
      the input is read through `bufferization.to_buffer` (read-only), the
      result is a new buffer (`memref.alloc`, a device buffer after
      `mpt-device-buffers`) turned back into a tensor
      (`bufferization.to_tensor restrict writable`). NCCL reduces in the
      result's element type: a widening all-reduce converts its input
      first; flags (i1) travel as bytes (max of 0/1). The runtime enqueues
      `ncclAllReduce` on the step's stream (`mpt-gpu-async-region` keeps the
      call on it without a host wait), or copies in a world of one;
    * `shard.grid_shape` is `mptDistributedWorldSize()` and
      `shard.process_linear_index` is `mptDistributedRank()`, the
      communicator's (1 and 0 without one).

    Grids of several axes, other shard ops, other reductions and element
    types NCCL does not reduce are errors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def SpeculateDeviceBranches : Pass<"mpt-speculate-device-branches"> {
  let summary = "Turn scf.if on a device value into both branches and a select";
  let description = [{
    On the GPU a condition read from a tensor (`tensor.extract` of the
    `found_inf` flag, say) lives in device memory; branching on it in host
    code would need a device-to-host copy and a synchronisation in the middle
    of the step. This pass evaluates both branches of such an `scf.if` (their
    ops must be free of side effects: tensor ops are) and selects each result
    elementwise, like fused optimizers that skip an update on Inf/NaN. Scalar
    results become `arith.select`s; tensor results become a `linalg.generic`
    that reads the condition as a 0-d tensor. An `scf.if` on a host value
    (a function argument, a shape) is left alone.

    ```mlir
    // before
    %c = tensor.extract %found_inf[] : tensor<i1>
    %r = scf.if %c -> tensor<4xf32> { scf.yield %w } else { ...; scf.yield %new }
    // after
    ...
    %r = linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, #id, #id, #id], ...}
           ins(%found_inf, %w, %new : tensor<i1>, tensor<4xf32>, tensor<4xf32>) ... {
      ^bb0(%c: i1, %a: f32, %b: f32, %out: f32):
        %s = arith.select %c, %a, %b : f32
        linalg.yield %s : f32
    }
    ```

    A branch with side effects is an error that names the op.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numSpeculated", "num-speculated",
              "Number of scf.if ops turned into selects">
  ];
}

def DeviceScalars : Pass<"mpt-device-scalars"> {
  let summary = "Move scalar computations on tensor elements into linalg ops";
  let description = [{
    A scalar read from a tensor (`tensor.extract`) and the arith/math ops on
    it are host code after bufferization, reading device memory. This pass
    moves each such computation into the op that consumes it, so that it runs
    in a kernel:

    * a use inside a `linalg` op's region (a captured scalar) gets the whole
      chain cloned at the top of that region (the `tensor.extract` reads the
      captured tensor from the kernel);
    * `tensor.from_elements` (of device or host scalars) becomes a
      `linalg.generic` that yields element *i* of the list at linear index
      *i*, the chains cloned into its body;
    * a scalar `ins` operand of a linalg op (`linalg.fill` of a device
      value) is generalized the same way.

    Any other use of a device scalar (a host loop bound, a branch condition,
    a returned scalar, a data-dependent shape) is an error that names the op.

    ```mlir
    // before
    %s = tensor.extract %scale[] : tensor<f32>
    %inv = arith.divf %one, %s : f32
    %g = linalg.generic ... { ^bb0(%x: f32, %o: f32):
      %y = arith.mulf %x, %inv : f32 ... }
    // after
    %g = linalg.generic ... { ^bb0(%x: f32, %o: f32):
      %s = tensor.extract %scale[] : tensor<f32>
      %inv = arith.divf %one, %s : f32
      %y = arith.mulf %x, %inv : f32 ... }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let statistics = [
    Statistic<"numSinks", "num-sinks",
              "Number of ops given their device scalars">
  ];
}

def DeviceBuffers : Pass<"mpt-device-buffers", "::mlir::func::FuncOp"> {
  let summary = "Allocate a bufferized step's buffers on the device and free them";
  let description = [{
    Runs after one-shot bufferization on a function whose body is one block
    (no host control flow). Every `memref.alloc`/`memref.alloca` becomes a
    `gpu.alloc`; every allocation that does not flow (through views) into
    `func.return` gets a `gpu.dealloc` just before the return; results are
    owned by the caller. `memref.copy` becomes `linalg.copy` (a kernel, later)
    and constant tensors (`memref.get_global`) stay globals that kernels read
    (`mpt-linalg-to-gpu-launch` sinks them into the kernel).

    ```mlir
    // before
    %a = memref.alloc(%n) : memref<?x4xf32>
    ...
    return %r : memref<f32>
    // after
    %a = gpu.alloc (%n) : memref<?x4xf32>
    ...
    gpu.dealloc %a : memref<?x4xf32>
    return %r : memref<f32>
    ```

    An allocation in a nested region, or an existing `memref.dealloc`, is an
    error (run it without upstream deallocation passes).
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::linalg::LinalgDialect"
  ];
  let statistics = [
    Statistic<"numAllocs", "num-allocs", "Number of device allocations">,
    Statistic<"numFreed", "num-freed",
              "Number of allocations freed at the end of the step">
  ];
}

def LinalgToGPULaunch : Pass<"mpt-linalg-to-gpu-launch", "::mlir::func::FuncOp"> {
  let summary = "Run each linalg op on memrefs as one gpu.launch";
  let description = [{
    Each linalg op on buffers outside a `gpu.launch` becomes a launch with a
    one-dimensional grid over its parallel iteration space (linearized, the
    innermost dimension fastest, so that neighbouring threads touch
    neighbouring elements) and `block-size` threads per block. An op
    without reductions (elementwise, broadcast, transpose, fill) gives each
    thread `elements-per-thread` points, `block-size` apart: the thread
    loads and computes all of them before it stores any, so that its loads
    are in flight together; blocks inside the iteration space skip the
    bounds checks. With `vectorize`, where the innermost parallel dimension
    has a static size and every output and some input are contiguous along
    it (unit innermost stride, static offset and outer strides that keep a
    vector aligned), a thread instead takes ceil(`elements-per-thread` / W)
    vectors of W consecutive points (W: 16 bytes of the widest element,
    halved until it divides that size), `block-size` vectors apart: one
    aligned vector load per such input (one scalar load per vector for an
    input that does not depend on that dimension, a load per point for a
    transposed one), one vector store per output, one delinearization per
    vector. Blocks wholly inside whose vector operands' base addresses are
    aligned (checked in the kernel: a view of a caller's buffer may not
    be) take this path, the others the scalar one over the same points.
    Otherwise the thread with linear id `i < P` computes one
    point of the parallel space and loops over the reduction dimensions
    sequentially (the op's scalar implementation). A reduction whose outputs each combine with one
    commutative op that has a neutral element (a sum, a max, an or: column
    sums of bias gradients, softmax and loss rows, the Inf/NaN check and
    sums of squares of gradients), with `block-reductions`, runs instead as
    a block of 256 threads per group of outputs: 32 outputs x 8 lanes when
    the innermost dimension of its first input is a parallel one (column
    sums: neighbouring threads read neighbouring columns), 8 outputs x 32
    lanes otherwise (row sums), 256 lanes for a full reduction. Each lane
    folds a strided part of its output's reduction with the op's own body
    into `reduction-unroll` sets of accumulators (that many loads in
    flight), then a tree in
    shared memory combines the lanes. When the outputs give fewer than eight
    blocks per SM (`num-sms`), the reduction is also split along grid y into
    partial results in a device buffer that a second launch combines, each
    thread keeping at least 32 elements. Summation is pairwise, in an order
    fixed by the shapes, so it differs from a sequential loop's but not from
    run to run. A contraction with both an m and an n dimension (an f32
    matmul; a row dot product is a reduction like the others) and a
    reduction over fewer static elements than lanes keep one thread per
    output. An op with no parallel dimension otherwise runs in one thread.
    Constant globals read by the op are sunk into the kernel.

    ```mlir
    // before
    linalg.generic {iterator_types = ["parallel"]} ins(%a : memref<?xf32>) outs(%b : memref<?xf32>) ...
    // after
    %n = memref.dim %a, %c0 : memref<?xf32>
    %g = arith.ceildivui %n, %c256 ...
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %g, ...) threads(%tx, %ty, %tz) in (%bx2 = %c256, ...) {
      %i = ... %bx * 256 + %tx
      scf.if %i < %n { ... memref.load, arith, memref.store ... }
      gpu.terminator
    }
    ```
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">,
    Option<"blockReductions", "block-reductions", "bool", /*default=*/"true",
           "Run a reduction with commutative combiners that have a neutral "
           "element on many lanes per output with a shared-memory tree "
           "(split across blocks when it has few outputs) instead of one "
           "thread per output">,
    Option<"elementsPerThread", "elements-per-thread", "int64_t",
           /*default=*/"8",
           "Points each thread of an op without reductions computes (1: "
           "one point a thread, checked against the bounds)">,
    Option<"vectorize", "vectorize", "bool", /*default=*/"true",
           "An elementwise op whose outputs and some input are contiguous "
           "along its innermost parallel dimension (static size) loads and "
           "stores vectors of up to 16 bytes there: one delinearization "
           "and one access a vector instead of a point">,
    Option<"reductionUnroll", "reduction-unroll", "int64_t", /*default=*/"8",
           "Accumulators each lane of a block reduction keeps (one load "
           "in flight each)">,
    Option<"fuseRows", "fuse-rows", "bool", /*default=*/"true",
           "Run a chain of row reductions and elementwise ops over the rows "
           "of one static iteration space (a softmax, its backward, a layer "
           "norm) as one kernel, a block per row; buffers only the chain "
           "reads stay on chip">,
    Option<"fuseReductions", "fuse-reductions", "bool", /*default=*/"true",
           "Consecutive full reductions of different tensors into the same "
           "scalars (the loss-scaling check of every gradient) run as two "
           "kernels in all: partial results of chunks of every tensor, "
           "then their total">,
    Option<"mergeElementwise", "merge-elementwise", "bool",
           /*default=*/"true",
           "Consecutive elementwise ops over the same static iteration space "
           "that mpt-fuse-elementwise left apart (a multi-result producer "
           "whose results each have a consumer: the optimizer's update and "
           "the selects of a skipped step) are merged into one kernel; "
           "buffers only they read are not written">,
    Option<"numSMs", "num-sms", "int64_t", /*default=*/"132",
           "Streaming multiprocessors of the target GPU: a reduction with "
           "few outputs is split until it has eight blocks per SM">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
  let statistics = [
    Statistic<"numRowGroups", "row-groups", "Chains of row ops fused into one kernel">,
    Statistic<"numRowFusedOps", "row-fused-ops", "Ops in those chains">,
    Statistic<"numMultiReductions", "multi-reductions",
              "Groups of full reductions into the same scalars fused">,
    Statistic<"numMultiReducedOps", "multi-reduced-ops", "Ops in those groups">,
    Statistic<"numChains", "elementwise-chains",
              "Chains of elementwise ops merged into one">,
    Statistic<"numChainedOps", "chained-ops", "Ops in those chains">,
    Statistic<"numLaunches", "num-launches", "Number of gpu.launch ops made">
  ];
}

def VerifyDeviceStep : Pass<"mpt-verify-device-step", "::mlir::ModuleOp"> {
  let summary = "Check that a step's host code only allocates, launches and returns";
  let description = [{
    Runs at the end of the host-side part of `mpt-lower-to-nvvm`, before
    kernel outlining. Host code (everything outside `gpu.launch` and
    `gpu.module`) may allocate and free device buffers, build views of them,
    compute shapes and launch; an op that reads or writes buffer contents,
    a linalg/vector/tensor op or a loop left on the host is an error naming
    the op, since it would run on the host (on device memory). Nothing is
    rewritten.
  }];
}

def GPUAsyncRegion : Pass<"mpt-gpu-async-region", "::mlir::func::FuncOp"> {
  let summary = "Make a host function's GPU ops asynchronous on one stream, "
                "synchronising only where the host touches shared memory";
  let description = [{
    Threads an async token through the GPU ops of each block (`gpu.alloc`,
    `gpu.launch_func`, `gpu.dealloc`, `gpu.memcpy`, ...), as upstream's
    `gpu-async-region` does, so that they run in order on one stream while
    the host goes ahead; a `gpu.wait` synchronises the host before the
    block's terminator and before any op whose side effects the device could
    observe or be observed by.

    Unlike upstream's pass, host-local work does not synchronise: ops free
    of memory effects, `llvm.alloca`, loads and stores whose address derives
    from an `llvm.alloca` of the function, calls of the TMA descriptor
    encoder `mgpuTensorMapEncodeTiledMemref` (it reads a descriptor the host
    built on its stack and only the address of the buffer; the runtime's
    device copy of the map goes to a slot no launched kernel reads) and
    calls of the functions named in `host-local-callees`, and calls of those
    named in `stream-ordered-callees`, which enqueue work on the current
    stream themselves (the stream is started before them if the block has
    none yet). Upstream's pass
    stops the stream before each such call: a Hopper step with 36 tensor-core
    contractions ran as 37 streams, each synchronised by the host before the
    next one could start (14 ms of a 21 ms step waiting in
    `mgpuStreamSynchronize`).

    The input must not contain async GPU ops yet (as for upstream's pass);
    an un-outlined `gpu.launch` is an error.
  }];
  let options = [
    ListOption<"hostLocalCallees", "host-local-callees", "std::string",
               "More callees (llvm.call or func.call) that only touch host "
               "memory the caller owns: calling them needs no "
               "synchronisation",
               "llvm::cl::ZeroOrMore">,
    ListOption<"streamOrderedCallees", "stream-ordered-callees",
               "std::string",
               "Callees that enqueue their work on the step's current "
               "stream (the runtime's mptAllReduce: the last stream "
               "mgpuStreamCreate made on the thread): the block's stream is "
               "started before such a call if need be, and the host does not "
               "wait",
               "llvm::cl::ZeroOrMore">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
  let statistics = [
    Statistic<"numWaits", "host-waits",
              "Host synchronisations (gpu.wait without a token) inserted">,
    Statistic<"numAsyncOps", "async-ops", "GPU ops made asynchronous">,
  ];
}

#endif // MPT_CONVERSION_STEPTOGPU_PASSES_TD
