//===- LinalgToGPULaunch.cpp - One gpu.launch per linalg op on buffers ----===//
//
// The simplest correct mapping of any linalg op onto the GPU: one thread per
// point of the op's parallel iteration space, a sequential loop over its
// reduction dimensions, the body being the op's own scalar implementation.
// Contractions meant for tensor cores are converted before this pass (it
// skips ops already inside a gpu.launch).
//
//===----------------------------------------------------------------------===//

#include "mpt/Conversion/ContractionToMMA/MMAStrategy.h"
#include "mpt/Conversion/StepToGPU/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mpt {
#define GEN_PASS_DEF_LINALGTOGPULAUNCH
#include "mpt/Conversion/StepToGPU/Passes.h.inc"
} // namespace mpt

using namespace mlir;

namespace {

struct LinalgToGPULaunchPass
    : public mpt::impl::LinalgToGPULaunchBase<LinalgToGPULaunchPass> {
  using Base::Base;
  int64_t counter = 0;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    SmallVector<linalg::LinalgOp> ops;
    fn.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (!leftToTensorCores(linalgOp))
          ops.push_back(linalgOp);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    if (blockSize <= 0 || blockSize > 1024) {
      fn.emitError("block-size must be in [1, 1024]");
      return signalPassFailure();
    }
    for (linalg::LinalgOp op : ops)
      if (failed(convert(op)))
        return signalPassFailure();
  }

  /// Ops that mpt-contraction-to-mma lowers after this pass: those carrying
  /// a strategy, and the zero fill of such an op's output right before it
  /// (the tensor-core kernel then writes without reading). Running the
  /// canonicalizer on a tensor-core kernel before it is outlined makes
  /// ptxas spill (4x slower in a step), so those kernels are made last.
  static bool leftToTensorCores(linalg::LinalgOp op) {
    if (op->hasAttr(mpt::kMMAStrategyAttrName))
      return true;
    auto fill = dyn_cast<linalg::FillOp>(op.getOperation());
    if (!fill || !fill.hasPureBufferSemantics())
      return false;
    auto next = dyn_cast_or_null<linalg::LinalgOp>(fill->getNextNode());
    if (!next || !next->hasAttr(mpt::kMMAStrategyAttrName) ||
        next.getNumDpsInits() != 1 ||
        next.getDpsInitOperand(0)->get() != fill.getDpsInitOperand(0)->get())
      return false;
    Attribute value;
    auto zero =
        matchPattern(fill.getDpsInputOperand(0)->get(), m_Constant(&value))
            ? dyn_cast<FloatAttr>(value)
            : FloatAttr();
    return zero && zero.getValue().isZero();
  }

  LogicalResult convert(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return op->emitOpError("is still on tensors; mpt-linalg-to-gpu-launch "
                             "runs after bufferization");
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<Value> sizes;
    for (Range range : op.createLoopRanges(b, loc))
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
    SmallVector<unsigned> parallel, reduction;
    for (auto [i, iter] : llvm::enumerate(op.getIteratorTypesArray()))
      (iter == utils::IteratorType::parallel ? parallel : reduction)
          .push_back(i);
    if (blockReductions)
      if (std::optional<SmallVector<Operation *>> combiners =
              matchFullReduction(op))
        return convertFullReduction(op, *combiners, sizes);

    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    // An op without parallel dimension runs in a single thread.
    Value threads = arith::ConstantIndexOp::create(
        b, loc, parallel.empty() ? int64_t(1) : int64_t(blockSize));
    Value total = one;
    for (unsigned d : parallel)
      total = arith::MulIOp::create(b, loc, total, sizes[d]);
    // At least one block: a launch of zero blocks is an error in CUDA.
    Value blocks = arith::MaxUIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, total, threads), one);
    auto launch = createLaunch(b, loc, op, blocks, threads, {});
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value linear = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, threads),
        launch.getThreadIds().x);
    Value inBounds =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, linear, total);
    auto guard = scf::IfOp::create(b, loc, inBounds, /*withElse=*/false);
    b.setInsertionPointToStart(guard.thenBlock());

    SmallVector<Value> ivs(sizes.size());
    // The innermost parallel dimension varies fastest across threads.
    for (unsigned d : llvm::reverse(parallel)) {
      if (d == parallel.front()) {
        ivs[d] = linear;
        break;
      }
      ivs[d] = arith::RemUIOp::create(b, loc, linear, sizes[d]);
      linear = arith::DivUIOp::create(b, loc, linear, sizes[d]);
    }
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    for (unsigned d : reduction) {
      auto loop = scf::ForOp::create(b, loc, zero, sizes[d], one);
      ivs[d] = loop.getInductionVar();
      b.setInsertionPoint(loop.getBody()->getTerminator());
    }
    auto tiling = cast<TilingInterface>(op.getOperation());
    if (failed(tiling.generateScalarImplementation(b, loc, ivs)))
      return op->emitOpError("has no scalar implementation to run in a "
                             "kernel");
    op->erase();
    sinkGlobals(launch);
    ++numLaunches;
    return success();
  }

  /// A launch of `blocks` x `threads` (x only); all kernels of a function
  /// go into one GPU module (one binary to load), each named after its op.
  gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, linalg::LinalgOp op,
                             Value blocks, Value threads, TypeRange workgroup) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto fn = op->getParentOfType<func::FuncOp>();
    std::string name = (fn.getName() + "_" + Twine(counter++) + "_" +
                        op->getName().stripDialect())
                           .str();
    llvm::replace(name, '.', '_');
    return gpu::LaunchOp::create(
        b, loc, blocks, one, one, threads, one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, workgroup,
        /*privateAttributions=*/{}, /*clusterSizeX=*/nullptr,
        /*clusterSizeY=*/nullptr, /*clusterSizeZ=*/nullptr,
        SymbolRefAttr::get(b.getContext(), (fn.getName() + "_kernels").str()),
        SymbolRefAttr::get(b.getContext(), name));
  }

  /// The combiner of each output of a full reduction into 0-d outputs, when
  /// every one is a commutative op with a neutral element (sum, max, or, …).
  static std::optional<SmallVector<Operation *>>
  matchFullReduction(linalg::LinalgOp op) {
    if (op.getNumParallelLoops() != 0 || op.getNumReductionLoops() == 0 ||
        op->getNumRegions() != 1)
      return std::nullopt;
    Block *body = op.getBlock();
    SmallVector<BlockArgument> outs;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto type = dyn_cast<MemRefType>(init.get().getType());
      if (!type || type.getRank() != 0)
        return std::nullopt;
      outs.push_back(op.getMatchingBlockArgument(&init));
    }
    SmallVector<Operation *> combiners;
    for (unsigned i = 0; i < outs.size(); ++i) {
      SmallVector<Operation *> ops;
      if (!matchReduction(outs, i, ops) || ops.size() != 1 ||
          !ops[0]->hasTrait<OpTrait::IsCommutative>() ||
          !arith::getNeutralElement(ops[0]))
        return std::nullopt;
      combiners.push_back(ops[0]);
    }
    (void)body;
    return combiners;
  }

  /// A full reduction in one block of `kReductionThreads` threads: each
  /// thread folds a strided part of the iteration space into registers with
  /// the op's own body (starting from the neutral elements), then a tree in
  /// shared memory combines the partial results and thread 0 combines the
  /// total into the output. The summation order differs from a sequential
  /// loop's (it is pairwise across threads).
  LogicalResult convertFullReduction(linalg::LinalgOp op,
                                     ArrayRef<Operation *> combiners,
                                     ArrayRef<Value> sizes) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    constexpr int64_t kThreads = 1024;
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (Value size : sizes)
      total = arith::MulIOp::create(b, loc, total, size);
    SmallVector<Type> shared;
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    for (Operation *combiner : combiners)
      shared.push_back(MemRefType::get({kThreads},
                                       combiner->getResult(0).getType(),
                                       MemRefLayoutAttrInterface{}, workgroup));
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value threads = arith::ConstantIndexOp::create(b, loc, kThreads);
    auto launch = createLaunch(b, loc, op, one, threads, shared);
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value tid = launch.getThreadIds().x;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);

    // Each thread folds elements tid, tid + T, tid + 2T, ...
    SmallVector<Value> inits;
    for (Operation *combiner : combiners)
      inits.push_back(arith::ConstantOp::create(
          b, loc, *arith::getNeutralElement(combiner)));
    auto loop = scf::ForOp::create(b, loc, tid, total, threads, inits);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> ivs(sizes.size());
      Value linear = loop.getInductionVar();
      for (int64_t d = sizes.size() - 1; d >= 0; --d) {
        if (d == 0) {
          ivs[d] = linear;
          break;
        }
        ivs[d] = arith::RemUIOp::create(b, loc, linear, sizes[d]);
        linear = arith::DivUIOp::create(b, loc, linear, sizes[d]);
      }
      SmallVector<Value> next =
          foldBody(b, loc, op, ivs, loop.getRegionIterArgs());
      scf::YieldOp::create(b, loc, next);
    }

    // Tree in shared memory.
    SmallVector<Value> buffers(launch.getWorkgroupAttributions());
    for (auto [buffer, partial] : llvm::zip(buffers, loop.getResults()))
      memref::StoreOp::create(b, loc, partial, buffer, tid);
    gpu::BarrierOp::create(b, loc);
    for (int64_t half = kThreads / 2; half >= 1; half /= 2) {
      Value h = arith::ConstantIndexOp::create(b, loc, half);
      Value active =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tid, h);
      auto ifOp = scf::IfOp::create(b, loc, active, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value other = arith::AddIOp::create(b, loc, tid, h);
        for (auto [buffer, combiner] : llvm::zip(buffers, combiners)) {
          Value x = memref::LoadOp::create(b, loc, buffer, tid);
          Value y = memref::LoadOp::create(b, loc, buffer, other);
          memref::StoreOp::create(b, loc, combine(b, combiner, x, y), buffer,
                                  tid);
        }
      }
      gpu::BarrierOp::create(b, loc);
    }
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, zero);
    auto last = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    b.setInsertionPointToStart(last.thenBlock());
    for (auto [i, init] : llvm::enumerate(op.getDpsInits())) {
      Value acc = memref::LoadOp::create(b, loc, init, ValueRange{});
      Value sum = memref::LoadOp::create(b, loc, buffers[i], zero);
      memref::StoreOp::create(b, loc, combine(b, combiners[i], acc, sum), init,
                              ValueRange{});
    }
    op->erase();
    sinkGlobals(launch);
    ++numLaunches;
    return success();
  }

  /// The combiner applied to two values (a clone with new operands).
  static Value combine(OpBuilder &b, Operation *combiner, Value x, Value y) {
    IRMapping mapping;
    mapping.map(combiner->getOperand(0), x);
    mapping.map(combiner->getOperand(1), y);
    return b.clone(*combiner, mapping)->getResult(0);
  }

  /// The op's body at `ivs` with the outputs' block arguments bound to
  /// `accs`; returns the yielded values.
  static SmallVector<Value> foldBody(OpBuilder &b, Location loc,
                                     linalg::LinalgOp op, ValueRange ivs,
                                     ValueRange accs) {
    Block *body = op.getBlock();
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      Value arg = op.getMatchingBlockArgument(input);
      if (!isa<MemRefType>(v.getType())) {
        mapping.map(arg, v);
        continue;
      }
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<Value> indices;
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        indices.push_back(
            affine::AffineApplyOp::create(b, loc, map.getSubMap({r}), ivs));
      mapping.map(arg, memref::LoadOp::create(b, loc, v, indices));
    }
    for (auto [init, acc] : llvm::zip(op.getDpsInitsMutable(), accs))
      mapping.map(op.getMatchingBlockArgument(&init), acc);
    SmallVector<Value> results;
    for (Operation &inner : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        mapping.map(index.getResult(), ivs[index.getDim()]);
        continue;
      }
      b.clone(inner, mapping);
    }
    for (Value v : body->getTerminator()->getOperands())
      results.push_back(mapping.lookupOrDefault(v));
    return results;
  }

  /// Constants (memref.get_global, and views of one) are read inside the
  /// kernel: outlining then copies the global into the GPU module.
  static void sinkGlobals(gpu::LaunchOp launch) {
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(launch.getBody(), captured);
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    for (Value v : captured) {
      SetVector<Operation *> chain;
      if (!collectGlobalChain(v, chain))
        continue;
      IRMapping mapping;
      for (Operation *op : topologicalSort(chain))
        b.clone(*op, mapping);
      replaceAllUsesInRegionWith(v, mapping.lookup(v), launch.getBody());
    }
  }

  /// A global, or views of one with constant offsets and sizes.
  static bool collectGlobalChain(Value v, SetVector<Operation *> &chain) {
    Operation *def = v.getDefiningOp();
    if (!def)
      return false;
    if (isa<memref::GetGlobalOp>(def) || matchPattern(def, m_Constant())) {
      chain.insert(def);
      return true;
    }
    if (!isa<ViewLikeOpInterface>(def) || !isPure(def))
      return false;
    for (Value operand : def->getOperands())
      if (!collectGlobalChain(operand, chain))
        return false;
    chain.insert(def);
    return true;
  }
};
} // namespace
