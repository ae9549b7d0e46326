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
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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
  llvm::SmallPtrSet<Operation *, 8> epilogues;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    // Elementwise ops that tensor-core kernels compute in their epilogue.
    fn.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(mpt::kMMAStrategyAttrName))
        for (linalg::GenericOp stage : mpt::findMMAEpilogues(op))
          epilogues.insert(stage);
    });
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
    if (elementsPerThread < 1 || elementsPerThread > 64) {
      fn.emitError("elements-per-thread must be in [1, 64]");
      return signalPassFailure();
    }
    if (reductionUnroll < 1 || reductionUnroll > 64) {
      fn.emitError("reduction-unroll must be in [1, 64]");
      return signalPassFailure();
    }
    // Fused groups first (their members are not converted one by one).
    SmallVector<Block *> blocks;
    fn.walk([&](Block *block) {
      if (!isa<linalg::LinalgOp>(block->getParentOp()))
        blocks.push_back(block);
    });
    for (Block *block : blocks) {
      if (fuseRows)
        for (RowGroup &group : findRowGroups(*block))
          emitRowGroup(group);
      if (fuseReductions)
        for (MultiReduction &group : findMultiReductions(*block))
          emitMultiReduction(group);
      if (mergeElementwise)
        for (ElementwiseChain &chain : findElementwiseChains(*block))
          mergeElementwiseChain(chain);
    }
    if (fuseRows || fuseReductions || mergeElementwise) {
      ops.clear();
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
    }
    for (linalg::LinalgOp op : ops)
      if (failed(convert(op)))
        return signalPassFailure();
  }

  /// Ops that mpt-contraction-to-mma lowers after this pass: those carrying
  /// a strategy, their epilogues, and the zero fill of such an op's output
  /// right before it
  /// (the tensor-core kernel then writes without reading). Running the
  /// canonicalizer on a tensor-core kernel before it is outlined makes
  /// ptxas spill (4x slower in a step), so those kernels are made last.
  bool leftToTensorCores(linalg::LinalgOp op) const {
    if (op->hasAttr(mpt::kMMAStrategyAttrName) || epilogues.contains(op))
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

  //===--------------------------------------------------------------------===//
  // Row groups
  //===--------------------------------------------------------------------===//

  /// The most elements of a row a thread keeps (in registers): rows of up to
  /// kMaxRowThreads * kMaxRowElements elements are fused.
  static constexpr int64_t kMaxRowElements = 32;
  static constexpr int64_t kMaxRowThreads = 256;

  /// What a member of a row group does to a row.
  enum class RowKind { Fill, Map, Reduce };

  /// A chain of consecutive ops over the rows of one static iteration space
  /// (outer dims, then the row): fills and reductions of a row to a value,
  /// and elementwise ops over the row that may read those values (a
  /// softmax: max, exp(x - max), sum, divide, cast; its backward; a layer
  /// norm). One block per row runs them all: a row's elements stay in the
  /// registers of its threads, its reductions go through shuffles and
  /// shared memory, and a buffer that only the chain reads is never
  /// written to device memory.
  /// The buffers (roots of views) that the members of a group read and
  /// write, kept as members join (not recomputed for each candidate).
  struct GroupBuffers {
    /// Root -> the member's output value that writes it.
    DenseMap<Value, Value> written;
    /// Roots the members read through their inputs.
    DenseSet<Value> read;
    /// Roots of every buffer operand of a member.
    DenseSet<Value> touched;

    void add(linalg::LinalgOp op) {
      for (Value init : op.getDpsInits())
        written[rootBuffer(init)] = init;
      for (OpOperand *input : op.getDpsInputOperands())
        if (isa<MemRefType>(input->get().getType()))
          read.insert(rootBuffer(input->get()));
      for (Value v : op->getOperands())
        if (isa<MemRefType>(v.getType()))
          touched.insert(rootBuffer(v));
    }
  };

  struct RowGroup {
    SmallVector<linalg::LinalgOp> members;
    SmallVector<RowKind> kinds;
    GroupBuffers buffers;

    void add(linalg::LinalgOp op, RowKind kind) {
      members.push_back(op);
      kinds.push_back(kind);
      buffers.add(op);
    }
    /// The loop ranges; the last one is the row.
    SmallVector<int64_t> shape;
    /// Per member output (by SSA value): its combiner, for reductions.
    DenseMap<Value, Operation *> combiners;
    /// Frees met between members, moved after the group's launch.
    SmallVector<Operation *> deferred;
  };

  /// The buffer a view is taken of.
  static Value rootBuffer(Value v) {
    while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
      v = view.getViewSource();
    return v;
  }

  /// Whether `map` of a row-space op is the identity (the operand is a row
  /// element) or the identity without its last result (a row's value).
  static bool isRowIdentity(AffineMap map, unsigned rank) {
    return map.isIdentity() && map.getNumDims() == rank;
  }
  static bool isRowValue(AffineMap map, unsigned rank) {
    if (map.getNumDims() != rank || map.getNumResults() != rank - 1)
      return false;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      if (!dim || dim.getPosition() != i)
        return false;
    }
    return true;
  }

  /// The kind of `op` as a member of a row group over `shape` (set from
  /// the op when empty), if it can be one.
  std::optional<RowKind> rowKind(linalg::LinalgOp op,
                                 SmallVectorImpl<int64_t> &shape,
                                 DenseMap<Value, Operation *> &combiners) {
    if (!op.hasPureBufferSemantics() || leftToTensorCores(op))
      return std::nullopt;
    if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation())) {
      auto type =
          dyn_cast<MemRefType>(fill.getDpsInitOperand(0)->get().getType());
      if (shape.empty() || !type || !type.hasStaticShape() ||
          type.getShape() != ArrayRef(shape).drop_back())
        return std::nullopt;
      return RowKind::Fill;
    }
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || op.getNumLoops() < 2)
      return std::nullopt;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return std::nullopt;
    if (shape.empty())
      shape.assign(ranges.begin(), ranges.end());
    if (ArrayRef(ranges) != ArrayRef(shape))
      return std::nullopt;
    unsigned rank = shape.size();
    int64_t row = shape.back();
    if (row > kMaxRowThreads * kMaxRowElements)
      return std::nullopt;
    SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
    for (unsigned i = 0; i + 1 < rank; ++i)
      if (iters[i] != utils::IteratorType::parallel)
        return std::nullopt;
    bool reduce = iters.back() == utils::IteratorType::reduction;
    for (OpOperand *input : op.getDpsInputOperands()) {
      if (!isa<MemRefType>(input->get().getType()))
        continue; // a scalar
      AffineMap map = op.getMatchingIndexingMap(input);
      if (!isRowIdentity(map, rank) && !isRowValue(map, rank) &&
          map.getNumResults() != 0)
        return std::nullopt;
    }
    SmallVector<BlockArgument> outs;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      AffineMap map = op.getMatchingIndexingMap(&init);
      if (reduce ? !isRowValue(map, rank) : !isRowIdentity(map, rank))
        return std::nullopt;
      outs.push_back(op.getMatchingBlockArgument(&init));
    }
    if (!reduce)
      return RowKind::Map;
    // Each output folds with one commutative op that has a neutral element,
    // of 32 bits (a warp shuffle moves it).
    for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
      SmallVector<Operation *> ops;
      if (!matchReduction(outs, i, ops) || ops.size() != 1 ||
          !ops[0]->hasTrait<OpTrait::IsCommutative>() ||
          !arith::getNeutralElement(ops[0]) ||
          ops[0]->getResult(0).getType().getIntOrFloatBitWidth() != 32)
        return std::nullopt;
      combiners[init.get()] = ops[0];
    }
    return RowKind::Reduce;
  }

  /// Whether `op` may join `group` after its members: what it reads that a
  /// member writes is that member's output as is (the same view), what it
  /// writes no member reads or writes (but the fill of a reduction's
  /// output).
  static bool fitsAfter(RowGroup &group, linalg::LinalgOp op, RowKind kind) {
    const DenseMap<Value, Value> &written = group.buffers.written;
    const DenseSet<Value> &touched = group.buffers.touched;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      if (!isa<MemRefType>(v.getType()))
        continue;
      auto it = written.find(rootBuffer(v));
      if (it != written.end() && it->second != v)
        return false;
    }
    for (OpOperand &init : op.getDpsInitsMutable()) {
      Value root = rootBuffer(init.get());
      if (!touched.contains(root))
        continue;
      // A reduction may fold into what a fill of the group wrote, when
      // nothing else of the group touched it.
      if (kind != RowKind::Reduce)
        return false;
      bool onlyFilled = true;
      for (auto [member, memberKind] : llvm::zip(group.members, group.kinds))
        for (Value v : member->getOperands())
          if (isa<MemRefType>(v.getType()) && rootBuffer(v) == root &&
              (memberKind != RowKind::Fill || v != init.get()))
            onlyFilled = false;
      if (!onlyFilled)
        return false;
    }
    return true;
  }

  /// Host ops that may sit between the members of a group: they do not
  /// touch buffer contents.
  static bool isNeutralBetween(Operation *op) {
    return isa<gpu::AllocOp, arith::ConstantOp, ViewLikeOpInterface>(op) ||
           isPure(op);
  }

  /// Walks `block` in order for one kind of group: a free met while a group
  /// is open is deferred to after it, a host op that does not touch buffer
  /// contents is stepped over, any other op that is not a linalg op closes
  /// the group; linalg ops go to `visit`.
  static void scanBlock(Block &block, function_ref<bool()> isOpen,
                        function_ref<void(Operation *)> defer,
                        function_ref<void()> close,
                        function_ref<void(linalg::LinalgOp)> visit) {
    for (Operation &op : block) {
      auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      if (linalgOp) {
        visit(linalgOp);
        continue;
      }
      if (isa<gpu::DeallocOp>(op) && isOpen()) {
        defer(&op);
        continue;
      }
      if (!isNeutralBetween(&op))
        close();
    }
  }

  /// Finds the row groups of `block`, in order.
  std::vector<RowGroup> findRowGroups(Block &block) {
    std::vector<RowGroup> groups;
    RowGroup current;
    // Fills met before a group's first generic (a reduction's init comes
    // first): they join it if they fill a row value of its shape.
    SmallVector<linalg::LinalgOp> pendingFills;
    auto close = [&] {
      int64_t reductions = llvm::count(current.kinds, RowKind::Reduce);
      int64_t computing =
          current.members.size() - llvm::count(current.kinds, RowKind::Fill);
      if (reductions >= 1 && computing >= 2) {
        // Trailing fills belong to the next group.
        while (current.kinds.back() == RowKind::Fill) {
          current.kinds.pop_back();
          current.members.pop_back();
        }
        groups.push_back(std::move(current));
      }
      current = RowGroup();
      pendingFills.clear();
    };
    scanBlock(
        block, [&] { return !current.members.empty(); },
        [&](Operation *dealloc) { current.deferred.push_back(dealloc); }, close,
        [&](linalg::LinalgOp linalgOp) {
          SmallVector<int64_t> shape = current.shape;
          DenseMap<Value, Operation *> combiners;
          std::optional<RowKind> kind = rowKind(linalgOp, shape, combiners);
          // A fill needs the shape of the group it joins: one before the first
          // generic waits for it.
          if (!kind && isa<linalg::FillOp>(linalgOp.getOperation()) &&
              current.members.empty()) {
            if (linalgOp.hasPureBufferSemantics() &&
                !leftToTensorCores(linalgOp))
              pendingFills.push_back(linalgOp);
            else
              close();
            return;
          }
          if (kind && !current.members.empty() &&
              fitsAfter(current, linalgOp, *kind)) {
            current.add(linalgOp, *kind);
            current.combiners.insert(combiners.begin(), combiners.end());
            return;
          }
          if (isa<linalg::FillOp>(linalgOp.getOperation())) {
            // It may start the next group.
            close();
            if (linalgOp.hasPureBufferSemantics() &&
                !leftToTensorCores(linalgOp))
              pendingFills.push_back(linalgOp);
            return;
          }
          SmallVector<linalg::LinalgOp> fills;
          if (current.members.empty())
            fills = std::move(pendingFills);
          close();
          shape.clear();
          combiners.clear();
          kind = rowKind(linalgOp, shape, combiners);
          if (!kind || *kind == RowKind::Fill)
            return;
          current.shape = shape;
          for (linalg::LinalgOp fill : fills) {
            SmallVector<int64_t> fillShape = shape;
            DenseMap<Value, Operation *> none;
            if (rowKind(fill, fillShape, none) == RowKind::Fill &&
                fitsAfter(current, fill, RowKind::Fill)) {
              current.add(fill, RowKind::Fill);
            }
          }
          if (!fitsAfter(current, linalgOp, *kind)) {
            current = RowGroup();
            current.shape = shape;
          }
          current.add(linalgOp, *kind);
          current.combiners = std::move(combiners);
        });
    close();
    return groups;
  }

  /// Whether every use of `buffer` (a gpu.alloc, through views) is a member
  /// of `group` or a free: then the group need not write it.
  static bool onlyGroupReads(Value buffer, const DenseSet<Operation *> &members,
                             SmallVectorImpl<Operation *> &chain) {
    for (Operation *user : buffer.getUsers()) {
      if (members.contains(user) || isa<gpu::DeallocOp>(user)) {
        chain.push_back(user);
        continue;
      }
      auto view = dyn_cast<ViewLikeOpInterface>(user);
      if (!view || view.getViewSource() != buffer)
        return false;
      chain.push_back(user);
      for (Value result : user->getResults())
        if (!onlyGroupReads(result, members, chain))
          return false;
    }
    return true;
  }

  /// One launch for `group`: a block per row, each thread the row elements
  /// tid, tid + threads, ...
  void emitRowGroup(RowGroup &group) {
    linalg::LinalgOp last = group.members.back();
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    Location loc = b.getFusedLoc(llvm::map_to_vector(
        group.members, [](linalg::LinalgOp op) { return op.getLoc(); }));
    unsigned rank = group.shape.size();
    int64_t row = group.shape.back();
    int64_t rows = 1;
    for (int64_t size : ArrayRef(group.shape).drop_back())
      rows *= size;
    // About four elements a thread, in whole warps.
    int64_t threads = std::clamp<int64_t>(
        llvm::alignTo(llvm::divideCeil(row, 4), 32), 32, kMaxRowThreads);
    int64_t perThread = llvm::divideCeil(row, threads);
    int64_t warps = threads / 32;
    auto cst = [&](OpBuilder &ib, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(ib, loc, v);
    };

    // Buffers only the group reads are neither written nor allocated.
    DenseSet<Value> internal;
    SmallVector<Operation *> erase;
    collectInternal(group.members, internal, erase);

    // Shared memory: the warps' partial results of each reduction output.
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    SmallVector<Type> shared;
    DenseMap<Value, unsigned> sharedIndex;
    for (auto [op, kind] : llvm::zip(group.members, group.kinds))
      if (kind == RowKind::Reduce)
        for (OpOperand &init : op.getDpsInitsMutable()) {
          sharedIndex[init.get()] = shared.size();
          shared.push_back(MemRefType::get(
              {warps},
              group.combiners.lookup(init.get())->getResult(0).getType(),
              MemRefLayoutAttrInterface{}, workgroup));
        }
    auto launch = createLaunch(b, loc, last, cst(b, rows), cst(b, threads),
                               shared, Value(), "rows");
    Block &body = launch.getBody().front();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);

    // The row's indices, and this thread's elements of it.
    SmallVector<Value> sizes;
    for (int64_t size : group.shape)
      sizes.push_back(cst(b, size));
    SmallVector<unsigned> outer =
        llvm::to_vector(llvm::seq<unsigned>(0, rank - 1));
    SmallVector<Value> rowIvs(rank);
    delinearize(b, loc, launch.getBlockIds().x, outer, sizes, rowIvs);
    Value tid = launch.getThreadIds().x;
    SmallVector<Value> cols, loadCols, valid;
    Value lastCol = cst(b, row - 1);
    for (int64_t e = 0; e < perThread; ++e) {
      Value col = arith::AddIOp::create(b, loc, tid, cst(b, e * threads));
      cols.push_back(col);
      // Only the last element of a thread may fall outside the row.
      bool whole = (e + 1) * threads <= row;
      valid.push_back(whole ? Value()
                            : arith::CmpIOp::create(b, loc,
                                                    arith::CmpIPredicate::ult,
                                                    col, cst(b, row)));
      loadCols.push_back(
          whole ? col
                : arith::MinUIOp::create(b, loc, col, lastCol).getResult());
    }
    auto ivsAt = [&](int64_t e) {
      SmallVector<Value> ivs(rowIvs);
      ivs[rank - 1] = cols[e];
      return ivs;
    };
    auto rowIndices = [&]() { return ArrayRef(rowIvs).drop_back(); };
    auto elementIndices = [&](int64_t e) {
      SmallVector<Value> ivs(rowIvs);
      ivs[rank - 1] = loadCols[e];
      return ivs;
    };
    // Guards a store of element e (if it may be outside the row).
    auto storeElement = [&](Value value, Value buffer, int64_t e) {
      if (!valid[e]) {
        memref::StoreOp::create(b, loc, value, buffer, elementIndices(e));
        return;
      }
      auto inRow = scf::IfOp::create(b, loc, valid[e], /*withElse=*/false);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(inRow.thenBlock());
      memref::StoreOp::create(b, loc, value, buffer, elementIndices(e));
    };

    DenseMap<Value, SmallVector<Value>> elements; // row elements, by value
    DenseMap<Value, Value> rowValues;             // row values, by value
    Value zero = cst(b, 0);
    Value isFirst =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, zero);
    auto storeRowValue = [&](Value value, Value buffer) {
      auto first = scf::IfOp::create(b, loc, isFirst, /*withElse=*/false);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(first.thenBlock());
      memref::StoreOp::create(b, loc, value, buffer, rowIndices());
    };
    // An operand's values: from an earlier member, else loaded once (no
    // member writes what an earlier one read).
    auto rowValue = [&](Value v) -> Value {
      if (!isa<MemRefType>(v.getType()))
        return v;
      Value &known = rowValues[v];
      if (!known)
        known = memref::LoadOp::create(b, loc, v, rowIndices());
      return known;
    };
    auto element = [&](Value v, int64_t e) -> Value {
      auto it = elements.find(v);
      if (it == elements.end()) {
        SmallVector<Value> loaded;
        for (int64_t k = 0; k < perThread; ++k)
          loaded.push_back(
              memref::LoadOp::create(b, loc, v, elementIndices(k)));
        it = elements.try_emplace(v, std::move(loaded)).first;
      }
      return it->second[e];
    };
    auto operandValue = [&](linalg::LinalgOp op, OpOperand &operand,
                            int64_t e) -> Value {
      Value v = operand.get();
      if (!isa<MemRefType>(v.getType()))
        return v;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      if (map.getNumResults() == 0) {
        Value &known = rowValues[v];
        if (!known)
          known = memref::LoadOp::create(b, loc, v, ValueRange());
        return known;
      }
      return isRowValue(map, rank) ? rowValue(v) : element(v, e);
    };

    for (auto [op, kind] : llvm::zip(group.members, group.kinds)) {
      if (kind == RowKind::Fill) {
        Value out = op.getDpsInitOperand(0)->get();
        rowValues[out] = op.getDpsInputOperand(0)->get();
        // Written unless a reduction of the group folds into it (it then
        // writes the total).
        bool reduced = llvm::any_of(group.members, [&](linalg::LinalgOp m) {
          return m != op && llvm::is_contained(m.getDpsInits(), out);
        });
        if (!reduced && !internal.contains(rootBuffer(out)))
          storeRowValue(rowValues[out], out);
        continue;
      }
      if (kind == RowKind::Map) {
        SmallVector<SmallVector<Value>> results(op.getNumDpsInits());
        for (int64_t e = 0; e < perThread; ++e) {
          SmallVector<Value> ins, outs;
          for (OpOperand *input : op.getDpsInputOperands())
            ins.push_back(operandValue(op, *input, e));
          for (OpOperand &init : op.getDpsInitsMutable())
            outs.push_back(operandValue(op, init, e));
          SmallVector<Value> yielded =
              foldBody(b, loc, op, ivsAt(e), outs, ins);
          for (auto [i, v] : llvm::enumerate(yielded))
            results[i].push_back(v);
        }
        for (auto [i, init] : llvm::enumerate(op.getDpsInits())) {
          if (!internal.contains(rootBuffer(init)))
            for (int64_t e = 0; e < perThread; ++e)
              storeElement(results[i][e], init, e);
          elements[init] = std::move(results[i]);
        }
        continue;
      }
      // A reduction: each thread folds its elements, each warp combines its
      // lanes by shuffles and lane 0 leaves the warp's partial in shared
      // memory; after a barrier every thread combines the partials in the
      // same order (the same total in every thread; each output has its own
      // partials, so no second barrier).
      SmallVector<Operation *> combiners;
      SmallVector<Value> accs;
      for (Value init : op.getDpsInits()) {
        combiners.push_back(group.combiners.lookup(init));
        accs.push_back(arith::ConstantOp::create(
            b, loc, *arith::getNeutralElement(combiners.back())));
      }
      for (int64_t e = 0; e < perThread; ++e) {
        SmallVector<Value> ins;
        for (OpOperand *input : op.getDpsInputOperands())
          ins.push_back(operandValue(op, *input, e));
        SmallVector<Value> next = foldBody(b, loc, op, ivsAt(e), accs, ins);
        for (auto [acc, v] : llvm::zip(accs, next))
          acc = valid[e] ? arith::SelectOp::create(b, loc, valid[e], v, acc)
                               .getResult()
                         : v;
      }
      Value lane = arith::RemUIOp::create(b, loc, tid, cst(b, 32));
      Value warp = arith::DivUIOp::create(b, loc, tid, cst(b, 32));
      Value leader =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, zero);
      for (auto [acc, combiner, init] :
           llvm::zip(accs, combiners, op.getDpsInits())) {
        for (int32_t offset = 16; offset >= 1; offset /= 2) {
          Value other = gpu::ShuffleOp::create(b, loc, acc, offset, 32,
                                               gpu::ShuffleMode::XOR)
                            .getShuffleResult();
          acc = combine(b, combiner, acc, other);
        }
        Value partials = launch.getWorkgroupAttributions()[sharedIndex[init]];
        auto store = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(store.thenBlock());
        memref::StoreOp::create(b, loc, acc, partials, warp);
      }
      gpu::BarrierOp::create(b, loc);
      for (auto [combiner, init] : llvm::zip(combiners, op.getDpsInits())) {
        Value partials = launch.getWorkgroupAttributions()[sharedIndex[init]];
        Value total = memref::LoadOp::create(b, loc, partials, zero);
        for (int64_t w = 1; w < warps; ++w)
          total = combine(b, combiner, total,
                          memref::LoadOp::create(b, loc, partials, cst(b, w)));
        // The value the output held (a fill of the group, or the buffer)
        // folds in last, as the output of a sequential loop would.
        Value result = combine(b, combiner, rowValue(init), total);
        rowValues[init] = result;
        if (!internal.contains(rootBuffer(init)))
          storeRowValue(result, init);
      }
    }
    sinkGlobals(launch);
    ++numLaunches;
    ++numRowGroups;
    numRowFusedOps += group.members.size();

    retireGroup(group.members, erase, group.deferred, launch);
  }

  //===--------------------------------------------------------------------===//
  // Reductions of many tensors into the same values
  //===--------------------------------------------------------------------===//

  /// Consecutive full reductions of different tensors into the same rank-0
  /// outputs with the same combiners: the loss-scaling check of every
  /// gradient (any Inf/NaN, sum of squares), one op a gradient. Run one by
  /// one, each is two kernels (split partial results, then their total),
  /// most of them tiny; together they are one kernel that gives each block
  /// a chunk of one tensor and one that combines all partial results.
  struct MultiReduction {
    SmallVector<linalg::LinalgOp> members;
    SmallVector<Operation *> combiners;
    SmallVector<Operation *> deferred;
    GroupBuffers buffers;

    void add(linalg::LinalgOp op) {
      members.push_back(op);
      buffers.add(op);
    }
  };

  /// Threads and elements a thread of the multi-tensor partial kernel.
  static constexpr int64_t kMultiThreads = 256;
  static constexpr int64_t kMultiPerThread = 8;

  /// The combiners of `op` if it is a full reduction of static shape into
  /// rank-0 outputs, reading its tensors whole and in order (identity maps,
  /// identity layouts) and none of its outputs.
  std::optional<SmallVector<Operation *>>
  fullReductionCombiners(linalg::LinalgOp op) {
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || !op.hasPureBufferSemantics() || leftToTensorCores(op) ||
        op.getNumParallelLoops() != 0 || op.getNumLoops() == 0 ||
        llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
      return std::nullopt;
    SmallVector<BlockArgument> outs;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto type = dyn_cast<MemRefType>(init.get().getType());
      if (!type || type.getRank() != 0)
        return std::nullopt;
      outs.push_back(op.getMatchingBlockArgument(&init));
    }
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto type = dyn_cast<MemRefType>(input->get().getType());
      if (!type)
        continue;
      if (llvm::is_contained(op.getDpsInits(), input->get()))
        return std::nullopt;
      AffineMap map = op.getMatchingIndexingMap(input);
      if (type.getRank() != 0 &&
          (!map.isIdentity() || !type.getLayout().isIdentity()))
        return std::nullopt;
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
    return combiners;
  }

  /// Whether `op` may run before the members of `group` seen so far: it
  /// writes nothing they read and neither reads nor writes their outputs.
  static bool isIndependentOf(MultiReduction &group, linalg::LinalgOp op) {
    // The members all write the same outputs.
    const DenseSet<Value> &read = group.buffers.read;
    DenseSet<Value> outputs;
    for (auto &entry : group.buffers.written)
      outputs.insert(entry.first);
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (!isa<MemRefType>(v.getType()))
        continue;
      Value root = rootBuffer(v);
      if (outputs.contains(root) ||
          (op.isDpsInit(&operand) && read.contains(root)))
        return false;
    }
    // Its body may read buffers too (a scalar loaded in the payload).
    WalkResult touches = op->walk([&](memref::LoadOp load) {
      return outputs.contains(rootBuffer(load.getMemRef()))
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    return !touches.wasInterrupted();
  }

  std::vector<MultiReduction> findMultiReductions(Block &block) {
    std::vector<MultiReduction> groups;
    MultiReduction current;
    auto close = [&] {
      if (current.members.size() >= 2)
        groups.push_back(std::move(current));
      current = MultiReduction();
    };
    scanBlock(
        block, [&] { return !current.members.empty(); },
        [&](Operation *dealloc) { current.deferred.push_back(dealloc); }, close,
        [&](linalg::LinalgOp linalgOp) {
          std::optional<SmallVector<Operation *>> combiners =
              fullReductionCombiners(linalgOp);
          // An op between the members that neither touches their scalars nor
          // writes what they read stays where it is; the members run after it
          // (the unscale of one gradient between the checks of two).
          if (!current.members.empty() &&
              (!combiners || current.members.front().getDpsInits() !=
                                 linalgOp.getDpsInits()) &&
              isIndependentOf(current, linalgOp))
            return;
          auto sameKind = [&] {
            linalg::LinalgOp first = current.members.front();
            if (first.getDpsInits() != linalgOp.getDpsInits())
              return false;
            for (auto [a, b] : llvm::zip(current.combiners, *combiners))
              if (a->getName() != b->getName())
                return false;
            return true;
          };
          if (combiners && !current.members.empty() && sameKind()) {
            current.add(linalgOp);
            return;
          }
          close();
          if (combiners) {
            current.add(linalgOp);
            current.combiners = std::move(*combiners);
          }
        });
    close();
    return groups;
  }

  /// Folds `values` of each thread into thread 0 by a tree in the shared
  /// `buffers` (of kMultiThreads elements each); returns thread 0's totals
  /// (valid in thread 0 only).
  static SmallVector<Value> blockTree(OpBuilder &b, Location loc, Value tid,
                                      ValueRange buffers, ValueRange values,
                                      ArrayRef<Operation *> combiners) {
    for (auto [buffer, value] : llvm::zip(buffers, values))
      memref::StoreOp::create(b, loc, value, buffer, tid);
    gpu::BarrierOp::create(b, loc);
    for (int64_t half = kMultiThreads / 2; half >= 1; half /= 2) {
      Value active =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tid,
                                arith::ConstantIndexOp::create(b, loc, half));
      auto step = scf::IfOp::create(b, loc, active, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(step.thenBlock());
        Value other = arith::AddIOp::create(
            b, loc, tid, arith::ConstantIndexOp::create(b, loc, half));
        for (auto [buffer, combiner] : llvm::zip(buffers, combiners)) {
          Value x = memref::LoadOp::create(b, loc, buffer, tid);
          Value y = memref::LoadOp::create(b, loc, buffer, other);
          memref::StoreOp::create(b, loc, combine(b, combiner, x, y), buffer,
                                  tid);
        }
      }
      gpu::BarrierOp::create(b, loc);
    }
    SmallVector<Value> totals;
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    for (Value buffer : buffers)
      totals.push_back(memref::LoadOp::create(b, loc, buffer, zero));
    return totals;
  }

  /// Two launches for `group`: partial results of chunks of
  /// kMultiThreads * kMultiPerThread elements of every tensor (a block a
  /// chunk), then their total folded into the outputs.
  void emitMultiReduction(MultiReduction &group) {
    linalg::LinalgOp last = group.members.back();
    OpBuilder b(last);
    b.setInsertionPointAfter(last);
    Location loc = b.getFusedLoc(llvm::map_to_vector(
        group.members, [](linalg::LinalgOp op) { return op.getLoc(); }));
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    int64_t chunk = kMultiThreads * kMultiPerThread;
    SmallVector<int64_t> starts, counts;
    int64_t total = 0;
    for (linalg::LinalgOp op : group.members) {
      int64_t n = 1;
      for (int64_t size : op.getStaticLoopRanges())
        n *= size;
      starts.push_back(total);
      counts.push_back(n);
      total += std::max<int64_t>(1, llvm::divideCeil(n, chunk));
    }
    SmallVector<Type> types, shared;
    SmallVector<Value> partials, neutral;
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    for (Operation *combiner : group.combiners) {
      Type type = combiner->getResult(0).getType();
      types.push_back(type);
      shared.push_back(MemRefType::get({kMultiThreads}, type,
                                       MemRefLayoutAttrInterface{}, workgroup));
      partials.push_back(
          gpu::AllocOp::create(b, loc, MemRefType::get({total}, type),
                               /*asyncToken=*/Type(), ValueRange{},
                               ValueRange{}, ValueRange{},
                               /*hostShared=*/false)
              .getMemref());
    }

    // Partial results: block `blk` takes chunk blk - start[t] of tensor t.
    auto partialLaunch =
        createLaunch(b, loc, last, cst(total), cst(kMultiThreads), shared,
                     Value(), "reduce_many");
    {
      OpBuilder::InsertionGuard guard(b);
      Block &body = partialLaunch.getBody().front();
      b.setInsertionPointToStart(&body);
      gpu::TerminatorOp::create(b, loc);
      b.setInsertionPointToStart(&body);
      for (Operation *combiner : group.combiners)
        neutral.push_back(arith::ConstantOp::create(
            b, loc, *arith::getNeutralElement(combiner)));
      Value blk = partialLaunch.getBlockIds().x;
      Value tid = partialLaunch.getThreadIds().x;
      Value which = cst(0);
      for (auto [i, start] : llvm::enumerate(starts))
        if (i > 0)
          which = arith::SelectOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, blk,
                                    cst(start)),
              cst(i), which);
      SmallVector<int64_t> cases =
          llvm::to_vector(llvm::seq<int64_t>(1, group.members.size()));
      auto sw =
          scf::IndexSwitchOp::create(b, loc, types, which, cases, cases.size());
      for (auto [i, op] : llvm::enumerate(group.members)) {
        Region &region =
            i == 0 ? sw.getDefaultRegion() : sw.getCaseRegions()[i - 1];
        Block *caseBlock = b.createBlock(&region);
        b.setInsertionPointToStart(caseBlock);
        int64_t n = counts[i];
        Value base = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(
                b, loc, arith::SubIOp::create(b, loc, blk, cst(starts[i])),
                cst(chunk)),
            tid);
        auto loop = scf::ForOp::create(b, loc, cst(0), cst(kMultiPerThread),
                                       cst(1), neutral);
        {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(loop.getBody());
          Value idx = arith::AddIOp::create(
              b, loc, base,
              arith::MulIOp::create(b, loc, loop.getInductionVar(),
                                    cst(kMultiThreads)));
          Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              idx, cst(n));
          Value clamped = arith::MinUIOp::create(b, loc, idx, cst(n - 1));
          SmallVector<Value> sizes;
          SmallVector<unsigned> dims;
          for (auto [d, size] : llvm::enumerate(op.getStaticLoopRanges())) {
            sizes.push_back(cst(size));
            dims.push_back(d);
          }
          SmallVector<Value> ivs(sizes.size());
          delinearize(b, loc, clamped, dims, sizes, ivs);
          SmallVector<Value> next =
              foldBody(b, loc, op, ivs, loop.getRegionIterArgs());
          SmallVector<Value> kept;
          for (auto [acc, v] : llvm::zip(loop.getRegionIterArgs(), next))
            kept.push_back(arith::SelectOp::create(b, loc, valid, v, acc));
          scf::YieldOp::create(b, loc, kept);
        }
        scf::YieldOp::create(b, loc, loop.getResults());
      }
      b.setInsertionPointAfter(sw);
      SmallVector<Value> totals =
          blockTree(b, loc, tid, partialLaunch.getWorkgroupAttributions(),
                    sw.getResults(), group.combiners);
      Value first =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
      auto store = scf::IfOp::create(b, loc, first, /*withElse=*/false);
      b.setInsertionPointToStart(store.thenBlock());
      for (auto [partial, value] : llvm::zip(partials, totals))
        memref::StoreOp::create(b, loc, value, partial, blk);
      sinkGlobals(partialLaunch);
    }

    // Their total, folded into what the outputs held (one block).
    auto totalLaunch = createLaunch(b, loc, last, cst(1), cst(kMultiThreads),
                                    shared, Value(), "reduce_many");
    {
      OpBuilder::InsertionGuard guard(b);
      Block &body = totalLaunch.getBody().front();
      b.setInsertionPointToStart(&body);
      gpu::TerminatorOp::create(b, loc);
      b.setInsertionPointToStart(&body);
      SmallVector<Value> inits;
      for (Operation *combiner : group.combiners)
        inits.push_back(arith::ConstantOp::create(
            b, loc, *arith::getNeutralElement(combiner)));
      Value tid = totalLaunch.getThreadIds().x;
      auto loop = scf::ForOp::create(b, loc, tid, cst(total),
                                     cst(kMultiThreads), inits);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(loop.getBody());
        SmallVector<Value> next;
        for (auto [partial, acc, combiner] :
             llvm::zip(partials, loop.getRegionIterArgs(), group.combiners))
          next.push_back(combine(
              b, combiner, acc,
              memref::LoadOp::create(b, loc, partial, loop.getInductionVar())));
        scf::YieldOp::create(b, loc, next);
      }
      SmallVector<Value> totals =
          blockTree(b, loc, tid, totalLaunch.getWorkgroupAttributions(),
                    loop.getResults(), group.combiners);
      Value first =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
      auto store = scf::IfOp::create(b, loc, first, /*withElse=*/false);
      b.setInsertionPointToStart(store.thenBlock());
      for (auto [init, value, combiner] :
           llvm::zip(last.getDpsInits(), totals, group.combiners)) {
        Value held = memref::LoadOp::create(b, loc, init, ValueRange{});
        memref::StoreOp::create(b, loc, combine(b, combiner, held, value), init,
                                ValueRange{});
      }
    }
    for (Value partial : partials)
      gpu::DeallocOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{},
                             partial);
    numLaunches += 2;
    ++numMultiReductions;
    numMultiReducedOps += group.members.size();
    retireGroup(group.members, {}, group.deferred, totalLaunch);
  }

  /// The buffers (gpu.alloc) the outputs of `members` write that nobody
  /// but the members reads, and the ops that go with them (views, frees,
  /// the allocs).
  static void collectInternal(ArrayRef<linalg::LinalgOp> members,
                              DenseSet<Value> &internal,
                              SmallVectorImpl<Operation *> &erase) {
    DenseSet<Operation *> memberSet;
    for (linalg::LinalgOp op : members)
      memberSet.insert(op);
    for (linalg::LinalgOp op : members)
      for (Value init : op.getDpsInits()) {
        Value root = rootBuffer(init);
        auto alloc = root.getDefiningOp<gpu::AllocOp>();
        SmallVector<Operation *> users;
        if (!alloc || internal.contains(root) ||
            !onlyGroupReads(root, memberSet, users))
          continue;
        internal.insert(root);
        for (Operation *user : users)
          if (!memberSet.contains(user))
            erase.push_back(user);
        erase.push_back(alloc);
      }
  }

  /// Once a group's replacement `after` is built: frees met between the
  /// members go after it, then the members go, then the views, frees and
  /// allocs of the buffers only they used.
  static void retireGroup(ArrayRef<linalg::LinalgOp> members,
                          ArrayRef<Operation *> erase,
                          ArrayRef<Operation *> deferred, Operation *after) {
    for (Operation *dealloc : deferred)
      if (dealloc->isBeforeInBlock(after))
        dealloc->moveAfter(after);
    for (linalg::LinalgOp op : llvm::reverse(members))
      op->erase();
    DenseSet<Operation *> erased;
    for (Operation *op : erase)
      if (erased.insert(op).second && !isa<gpu::AllocOp>(op) &&
          !isa<ViewLikeOpInterface>(op))
        op->erase();
    for (Operation *op : llvm::reverse(erase))
      if (isa<ViewLikeOpInterface>(op) && op->use_empty())
        op->erase();
    for (Operation *op : erase)
      if (isa<gpu::AllocOp>(op) && op->use_empty())
        op->erase();
  }

  //===--------------------------------------------------------------------===//
  // Chains of elementwise ops
  //===--------------------------------------------------------------------===//

  /// Consecutive elementwise generics over the same static iteration space
  /// that mpt-fuse-elementwise left apart, because a producer's results
  /// each have a consumer of their own: the optimizer's update of a
  /// parameter (new weights and moments, one op) and, with dynamic loss
  /// scaling, the selects that keep the old values on a step with Inf/NaN
  /// (one op per result). Merged into one generic, they are one kernel, and
  /// buffers only the chain reads are not written.
  struct ElementwiseChain {
    SmallVector<linalg::LinalgOp> members;
    SmallVector<int64_t> shape;
    SmallVector<Operation *> deferred;
    GroupBuffers buffers;

    void add(linalg::LinalgOp op) {
      members.push_back(op);
      buffers.add(op);
    }
  };

  /// Whether `op` is an elementwise generic on buffers of static `shape`
  /// (set when empty) writing each output at its own point.
  bool isChainMember(linalg::LinalgOp op, SmallVectorImpl<int64_t> &shape) {
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic || !op.hasPureBufferSemantics() || leftToTensorCores(op) ||
        op.getNumReductionLoops() != 0 || op.getNumLoops() == 0)
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return false;
    if (!shape.empty() && ArrayRef(ranges) != ArrayRef(shape))
      return false;
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!op.getMatchingIndexingMap(&init).isIdentity())
        return false;
    for (OpOperand *input : op.getDpsInputOperands())
      if (isa<MemRefType>(input->get().getType()) &&
          !op.getMatchingIndexingMap(input).isProjectedPermutation())
        return false;
    if (shape.empty())
      shape.assign(ranges.begin(), ranges.end());
    return true;
  }

  /// Whether `op` may follow `chain`'s members: it reads what they wrote
  /// at the same point (the same buffer value, identity map) and writes
  /// nothing they read or wrote.
  static bool fitsChain(ElementwiseChain &chain, linalg::LinalgOp op) {
    const DenseMap<Value, Value> &written = chain.buffers.written;
    const DenseSet<Value> &touched = chain.buffers.touched;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = operand.get();
      if (!isa<MemRefType>(v.getType()))
        continue;
      auto it = written.find(rootBuffer(v));
      if (it != written.end() &&
          (it->second != v ||
           !op.getMatchingIndexingMap(&operand).isIdentity()))
        return false;
    }
    for (Value init : op.getDpsInits())
      if (touched.contains(rootBuffer(init)))
        return false;
    return true;
  }

  std::vector<ElementwiseChain> findElementwiseChains(Block &block) {
    std::vector<ElementwiseChain> chains;
    ElementwiseChain current;
    auto close = [&] {
      if (current.members.size() >= 2)
        chains.push_back(std::move(current));
      current = ElementwiseChain();
    };
    scanBlock(
        block, [&] { return !current.members.empty(); },
        [&](Operation *dealloc) { current.deferred.push_back(dealloc); }, close,
        [&](linalg::LinalgOp linalgOp) {
          SmallVector<int64_t> shape = current.shape;
          if (!current.members.empty() && isChainMember(linalgOp, shape) &&
              fitsChain(current, linalgOp)) {
            current.add(linalgOp);
            return;
          }
          close();
          if (isChainMember(linalgOp, current.shape))
            current.add(linalgOp);
        });
    close();
    return chains;
  }

  /// Replaces `chain` by one generic at its last member: the members'
  /// bodies in order, values passed between them directly, outputs that
  /// only the chain reads dropped (with their buffers).
  void mergeElementwiseChain(ElementwiseChain &chain) {
    linalg::LinalgOp last = chain.members.back();
    MLIRContext *ctx = last->getContext();
    DenseSet<Value> internal;
    SmallVector<Operation *> erase;
    collectInternal(chain.members, internal, erase);
    // Operands of the merged op: inputs not written by the chain (once per
    // value and map), then the outputs that outlive it.
    DenseMap<Value, Value> produced; // buffer value -> not yet known
    SmallVector<Value> inputs, outputs;
    SmallVector<AffineMap> inputMaps;
    SmallVector<std::pair<Value, AffineMap>> inputKeys;
    for (linalg::LinalgOp op : chain.members) {
      for (OpOperand *input : op.getDpsInputOperands()) {
        Value v = input->get();
        if (produced.count(v))
          continue;
        AffineMap map = op.getMatchingIndexingMap(input);
        if (llvm::is_contained(inputKeys, std::make_pair(v, map)))
          continue;
        inputKeys.push_back({v, map});
        inputs.push_back(v);
        inputMaps.push_back(map);
      }
      for (Value init : op.getDpsInits()) {
        produced[init] = Value();
        if (!internal.contains(rootBuffer(init)))
          outputs.push_back(init);
      }
    }
    SmallVector<AffineMap> maps(inputMaps);
    AffineMap identity =
        AffineMap::getMultiDimIdentityMap(chain.shape.size(), ctx);
    maps.append(outputs.size(), identity);
    SmallVector<utils::IteratorType> iters(chain.shape.size(),
                                           utils::IteratorType::parallel);
    OpBuilder b(last);
    b.setInsertionPointAfter(last);
    Location loc = b.getFusedLoc(llvm::map_to_vector(
        chain.members, [](linalg::LinalgOp op) { return op.getLoc(); }));
    auto merged = linalg::GenericOp::create(
        b, loc, TypeRange{}, inputs, outputs, maps, iters,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          DenseMap<Value, Value> values; // buffer value -> its point's value
          for (linalg::LinalgOp op : chain.members) {
            IRMapping mapping;
            for (OpOperand *input : op.getDpsInputOperands()) {
              Value v = input->get();
              Value arg = op.getMatchingBlockArgument(input);
              if (Value known = values.lookup(v)) {
                mapping.map(arg, known);
                continue;
              }
              auto key = std::make_pair(v, op.getMatchingIndexingMap(input));
              auto *it = llvm::find(inputKeys, key);
              mapping.map(arg, args[it - inputKeys.begin()]);
            }
            for (OpOperand &init : op.getDpsInitsMutable()) {
              Value arg = op.getMatchingBlockArgument(&init);
              // An elementwise body that reads its output reads what the
              // buffer holds: an output of the merged op (never internal,
              // as the buffer is then read outside the chain).
              auto *it = llvm::find(outputs, init.get());
              if (it != outputs.end())
                mapping.map(arg, args[inputs.size() + (it - outputs.begin())]);
            }
            for (Operation &inner : op.getBlock()->without_terminator())
              nb.clone(inner, mapping);
            for (auto [init, v] :
                 llvm::zip(op.getDpsInits(),
                           op.getBlock()->getTerminator()->getOperands()))
              values[init] = mapping.lookupOrDefault(v);
          }
          SmallVector<Value> yielded;
          for (Value out : outputs)
            yielded.push_back(values.lookup(out));
          linalg::YieldOp::create(nb, nloc, yielded);
        });
    ++numChains;
    numChainedOps += chain.members.size();
    retireGroup(chain.members, erase, chain.deferred, merged);
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
      if (std::optional<ReductionPlan> plan = matchTiledReduction(op))
        return convertReduction(op, *plan, sizes, parallel, reduction);
    if (elementsPerThread > 1 && reduction.empty() && !parallel.empty() &&
        canBatchElements(op)) {
      if (vectorize)
        if (std::optional<VectorPlan> plan =
                planVectors(op, parallel.back(), sizes[parallel.back()]))
          return convertElementwise(op, sizes, parallel, &*plan);
      return convertElementwise(op, sizes, parallel, nullptr);
    }

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
    if (!parallel.empty())
      delinearize(b, loc, linear, parallel, sizes, ivs);
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

  /// An op without reductions whose outputs are all read and written
  /// through projected permutations (so each point writes its own
  /// elements) and whose payload reads its outputs only where their
  /// element type has a zero to stand in otherwise.
  static bool canBatchElements(linalg::LinalgOp op) {
    if (op->getNumRegions() != 1)
      return false;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      auto type = dyn_cast<MemRefType>(init.get().getType());
      if (!type || !op.getMatchingIndexingMap(&init).isProjectedPermutation() ||
          !isa<FloatType, IntegerType>(type.getElementType()))
        return false;
    }
    return true;
  }

  /// How an operand of an elementwise op is accessed along `width`
  /// consecutive points of the innermost parallel dimension.
  enum class Access {
    /// One aligned vector load or store (the innermost index of the operand
    /// is that dimension, with unit stride).
    Vector,
    /// One scalar load shared by the points (the operand does not depend
    /// on that dimension: a row's maximum, a bias).
    Broadcast,
    /// A scalar load a point (a transposed read).
    Scalar,
  };

  struct VectorPlan {
    int64_t width = 1;
    /// The innermost parallel loop dimension.
    unsigned dim = 0;
    /// One per operand of the op (inputs, then outputs).
    SmallVector<Access> access;
    /// The bytes of a vector of each operand (0 unless Access::Vector).
    SmallVector<int64_t> vectorBytes;
  };

  /// The element type's size in bytes if a vector of it can be loaded and
  /// stored as is (a float or integer of 1, 2, 4 or 8 bytes), else 0.
  static int64_t vectorElementBytes(Type type) {
    if (!isa<FloatType, IntegerType>(type))
      return 0;
    unsigned bits = type.getIntOrFloatBitWidth();
    return (bits == 8 || bits == 16 || bits == 32 || bits == 64) ? bits / 8 : 0;
  }

  /// Whether `operand` is read or written as a vector along loop dim `dim`:
  /// its map's last result is that dim alone, no other result uses it, and
  /// its layout is strided with unit innermost stride and static offset and
  /// outer strides that are multiples of `width` (each vector then starts
  /// at a multiple of width elements from the buffer's base; the kernel
  /// checks the base's alignment at run time).
  static bool isVectorOperand(linalg::LinalgOp op, OpOperand &operand,
                              unsigned dim, int64_t width) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!type || map.getNumResults() == 0 ||
        !vectorElementBytes(type.getElementType()))
      return false;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!last || last.getPosition() != dim)
      return false;
    for (AffineExpr e : map.getResults().drop_back())
      if (e.isFunctionOfDim(dim))
        return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1 || ShapedType::isDynamic(offset) || offset % width)
      return false;
    for (int64_t stride : ArrayRef(strides).drop_back())
      if (ShapedType::isDynamic(stride) || stride % width)
        return false;
    return true;
  }

  /// The vector form of an elementwise op, if it has one: the widest width
  /// (at most 16 bytes of the widest element, dividing the static size of
  /// the innermost parallel dimension) at which every output and at least
  /// one input is accessed as a vector. Other inputs are broadcast along
  /// the vector or read a point at a time.
  static std::optional<VectorPlan> planVectors(linalg::LinalgOp op,
                                               unsigned dim, Value size) {
    std::optional<int64_t> extent = getConstantIntValue(size);
    if (!extent || *extent <= 0)
      return std::nullopt;
    int64_t widest = 0;
    for (OpOperand &operand : op->getOpOperands())
      if (auto type = dyn_cast<MemRefType>(operand.get().getType())) {
        int64_t bytes = vectorElementBytes(type.getElementType());
        if (bytes)
          widest = std::max(widest, bytes);
        else if (op.isDpsInit(&operand))
          return std::nullopt;
      }
    if (!widest)
      return std::nullopt;
    VectorPlan plan;
    plan.dim = dim;
    plan.width = 16 / widest;
    while (plan.width > 1 && *extent % plan.width)
      plan.width /= 2;
    if (plan.width < 2)
      return std::nullopt;
    bool anyVectorInput = false;
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      Access access = Access::Scalar;
      int64_t bytes = 0;
      if (!type || !op.getMatchingIndexingMap(&operand).isFunctionOfDim(dim)) {
        access = Access::Broadcast;
      } else if (isVectorOperand(op, operand, dim, plan.width)) {
        access = Access::Vector;
        bytes = plan.width * vectorElementBytes(type.getElementType());
      }
      if (op.isDpsInit(&operand) && access != Access::Vector)
        return std::nullopt;
      anyVectorInput |= op.isDpsInput(&operand) && access == Access::Vector;
      plan.access.push_back(access);
      plan.vectorBytes.push_back(bytes);
    }
    if (!anyVectorInput && op.getNumDpsInputs() > 0)
      return std::nullopt;
    return plan;
  }

  /// The values of operand `operand` at `width` consecutive points along
  /// the plan's dimension from `ivs`.
  static SmallVector<Value> loadLanes(OpBuilder &b, Location loc,
                                      linalg::LinalgOp op, OpOperand &operand,
                                      const VectorPlan &plan,
                                      ArrayRef<SmallVector<Value>> lanes) {
    Value source = operand.get();
    AffineMap map = op.getMatchingIndexingMap(&operand);
    unsigned index = operand.getOperandNumber();
    SmallVector<Value> values;
    switch (plan.access[index]) {
    case Access::Vector: {
      auto elementType = cast<MemRefType>(source.getType()).getElementType();
      Value vector = vector::LoadOp::create(
          b, loc, VectorType::get({plan.width}, elementType), source,
          applyMap(b, loc, map, lanes.front()), /*nontemporal=*/false,
          llvm::MaybeAlign(plan.vectorBytes[index]));
      for (int64_t j = 0; j < plan.width; ++j)
        values.push_back(vector::ExtractOp::create(b, loc, vector, j));
      break;
    }
    case Access::Broadcast: {
      Value value =
          isa<MemRefType>(source.getType())
              ? memref::LoadOp::create(b, loc, source,
                                       applyMap(b, loc, map, lanes.front()))
                    .getResult()
              : source;
      values.assign(plan.width, value);
      break;
    }
    case Access::Scalar:
      for (ArrayRef<Value> ivs : lanes)
        values.push_back(
            memref::LoadOp::create(b, loc, source, applyMap(b, loc, map, ivs)));
      break;
    }
    return values;
  }

  /// An elementwise op with `elementsPerThread` points a thread: a block
  /// of `block-size` threads covers block-size * E consecutive points,
  /// thread t the points t, t + block-size, ... (coalesced). A thread first
  /// loads and computes all its points, then stores them, so that its
  /// loads are in flight together (interleaved, the stores might alias the
  /// next loads). Blocks wholly inside the iteration space skip the bounds
  /// checks.
  ///
  /// With a vector plan of width W, thread t of a block instead takes the
  /// vectors t, t + block-size, ... of W consecutive points each
  /// (ceil(E / W) of them): one aligned vector load or store per vector
  /// operand, one delinearization per vector. Blocks wholly inside whose
  /// vector operands' bases are aligned to a vector (checked at run time:
  /// a view of a caller's buffer may not be) take that path; the others
  /// the scalar one over the same points.
  LogicalResult convertElementwise(linalg::LinalgOp op, ArrayRef<Value> sizes,
                                   ArrayRef<unsigned> parallel,
                                   const VectorPlan *plan) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    int64_t width = plan ? plan->width : 1;
    int64_t vectors = llvm::divideCeil(elementsPerThread, width);
    int64_t points = vectors * width;
    int64_t perBlock = blockSize * points;
    Value total = product(b, loc, parallel, sizes);
    Value blocks = arith::MaxUIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, total, cst(perBlock)),
        cst(1));
    auto launch = createLaunch(b, loc, op, blocks, cst(blockSize), {});
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value start =
        arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(perBlock));
    Value tid = launch.getThreadIds().x;
    Value first = arith::AddIOp::create(b, loc, start, tid);
    Value full = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ule,
        arith::AddIOp::create(b, loc, start, cst(perBlock)), total);
    auto pointAt = [&](OpBuilder &ib, Value base, int64_t offset) {
      SmallVector<Value> ivs(sizes.size());
      Value linear = arith::AddIOp::create(
          ib, loc, base, arith::ConstantIndexOp::create(ib, loc, offset));
      delinearize(ib, loc, linear, parallel, sizes, ivs);
      return std::make_pair(linear, ivs);
    };
    // The payload at a point, its outputs read only if it uses them.
    auto compute = [&](OpBuilder &ib, ArrayRef<Value> ivs) {
      SmallVector<Value> accs;
      for (OpOperand &init : op.getDpsInitsMutable()) {
        Type type = cast<MemRefType>(init.get().getType()).getElementType();
        accs.push_back(
            op.payloadUsesValueFromOperand(&init)
                ? memref::LoadOp::create(
                      ib, loc, init.get(),
                      applyMap(ib, loc, op.getMatchingIndexingMap(&init), ivs))
                      .getResult()
                : arith::ConstantOp::create(ib, loc, ib.getZeroAttr(type))
                      .getResult());
      }
      return foldBody(ib, loc, op, ivs, accs);
    };
    auto store = [&](OpBuilder &ib, ArrayRef<Value> ivs, ValueRange values) {
      for (auto [init, value] : llvm::zip(op.getDpsInitsMutable(), values))
        memref::StoreOp::create(
            ib, loc, value, init.get(),
            applyMap(ib, loc, op.getMatchingIndexingMap(&init), ivs));
    };
    // The scalar form of a whole block: `points` points a thread,
    // block-size apart.
    auto scalarBlock = [&](OpBuilder &ib, bool checked) {
      if (!checked) {
        SmallVector<std::pair<SmallVector<Value>, SmallVector<Value>>> done;
        for (int64_t e = 0; e < points; ++e) {
          SmallVector<Value> ivs = pointAt(ib, first, e * blockSize).second;
          done.emplace_back(ivs, compute(ib, ivs));
        }
        for (auto &[ivs, values] : done)
          store(ib, ivs, values);
        return;
      }
      for (int64_t e = 0; e < points; ++e) {
        auto [linear, ivs] = pointAt(ib, first, e * blockSize);
        Value in = arith::CmpIOp::create(ib, loc, arith::CmpIPredicate::ult,
                                         linear, total);
        auto guard = scf::IfOp::create(ib, loc, in, /*withElse=*/false);
        OpBuilder::InsertionGuard inner(ib);
        ib.setInsertionPointToStart(guard.thenBlock());
        store(ib, ivs, compute(ib, ivs));
      }
    };
    if (plan) {
      // The bases of the vector operands, aligned to a vector each.
      Value aligned = full;
      for (OpOperand &operand : op->getOpOperands()) {
        int64_t bytes = plan->vectorBytes[operand.getOperandNumber()];
        if (plan->access[operand.getOperandNumber()] != Access::Vector)
          continue;
        Value base = memref::ExtractAlignedPointerAsIndexOp::create(
            b, loc, operand.get());
        Value rem = arith::RemUIOp::create(b, loc, base, cst(bytes));
        aligned = arith::AndIOp::create(
            b, loc, aligned,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                                  cst(0)));
      }
      full = aligned;
    }
    auto ifOp = scf::IfOp::create(b, loc, full, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      if (plan)
        vectorBlock(b, loc, op, *plan, start, tid, vectors, sizes, parallel);
      else
        scalarBlock(b, /*checked=*/false);
      b.setInsertionPointToStart(ifOp.elseBlock());
      scalarBlock(b, /*checked=*/true);
    }
    op->erase();
    sinkGlobals(launch);
    ++numLaunches;
    return success();
  }

  /// The vector form of a block wholly inside the iteration space: thread
  /// `tid` computes `vectors` vectors of plan.width consecutive points,
  /// block-size vectors apart from start + tid * width, all loaded and
  /// computed before any is stored.
  void vectorBlock(OpBuilder &b, Location loc, linalg::LinalgOp op,
                   const VectorPlan &plan, Value start, Value tid,
                   int64_t vectors, ArrayRef<Value> sizes,
                   ArrayRef<unsigned> parallel) {
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value first = arith::AddIOp::create(
        b, loc, start, arith::MulIOp::create(b, loc, tid, cst(plan.width)));
    SmallVector<std::pair<SmallVector<Value>, SmallVector<Value>>> done;
    for (int64_t e = 0; e < vectors; ++e) {
      SmallVector<Value> ivs(sizes.size());
      delinearize(
          b, loc,
          arith::AddIOp::create(b, loc, first, cst(e * blockSize * plan.width)),
          parallel, sizes, ivs);
      // The loop indices of the vector's points.
      SmallVector<SmallVector<Value>> lanes(plan.width, ivs);
      for (int64_t j = 1; j < plan.width; ++j)
        lanes[j][plan.dim] =
            arith::AddIOp::create(b, loc, ivs[plan.dim], cst(j));
      SmallVector<SmallVector<Value>> inputs, accs;
      for (OpOperand *input : op.getDpsInputOperands())
        inputs.push_back(loadLanes(b, loc, op, *input, plan, lanes));
      for (OpOperand &init : op.getDpsInitsMutable()) {
        Type type = cast<MemRefType>(init.get().getType()).getElementType();
        accs.push_back(op.payloadUsesValueFromOperand(&init)
                           ? loadLanes(b, loc, op, init, plan, lanes)
                           : SmallVector<Value>(
                                 plan.width, arith::ConstantOp::create(
                                                 b, loc, b.getZeroAttr(type))));
      }
      // results[k][j]: output k at point j.
      SmallVector<SmallVector<Value>> results(op.getNumDpsInits());
      for (int64_t j = 0; j < plan.width; ++j) {
        SmallVector<Value> in, acc;
        for (auto &values : inputs)
          in.push_back(values[j]);
        for (auto &values : accs)
          acc.push_back(values[j]);
        for (auto [k, value] :
             llvm::enumerate(foldBody(b, loc, op, lanes[j], acc, in)))
          results[k].push_back(value);
      }
      done.emplace_back(ivs, SmallVector<Value>());
      for (auto [k, values] : llvm::enumerate(results)) {
        OpOperand *init = op.getDpsInitOperand(k);
        auto type = VectorType::get(
            {plan.width},
            cast<MemRefType>(init->get().getType()).getElementType());
        done.back().second.push_back(
            vector::FromElementsOp::create(b, loc, type, values));
      }
    }
    for (auto &[ivs, values] : done)
      for (auto [k, value] : llvm::enumerate(values)) {
        OpOperand *init = op.getDpsInitOperand(k);
        vector::StoreOp::create(
            b, loc, value, init->get(),
            applyMap(b, loc, op.getMatchingIndexingMap(init), ivs),
            /*nontemporal=*/false,
            llvm::MaybeAlign(plan.vectorBytes[init->getOperandNumber()]));
      }
  }

  /// A launch of `blocks` x `threads` (x only); all kernels of a function
  /// go into one GPU module (one binary to load), each named after its op.
  gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, linalg::LinalgOp op,
                             Value blocks, Value threads, TypeRange workgroup,
                             Value blocksY = Value(), StringRef kind = "") {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    if (!blocksY)
      blocksY = one;
    auto fn = op->getParentOfType<func::FuncOp>();
    std::string name = (fn.getName() + "_" + Twine(counter++) + "_" +
                        (kind.empty() ? op->getName().stripDialect() : kind))
                           .str();
    llvm::replace(name, '.', '_');
    return gpu::LaunchOp::create(
        b, loc, blocks, blocksY, one, threads, one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{}, workgroup,
        /*privateAttributions=*/{}, /*clusterSizeX=*/nullptr,
        /*clusterSizeY=*/nullptr, /*clusterSizeZ=*/nullptr,
        SymbolRefAttr::get(b.getContext(), (fn.getName() + "_kernels").str()),
        SymbolRefAttr::get(b.getContext(), name));
  }

  static constexpr int64_t kReductionThreads = 256;
  /// A split of the reduction gives each thread at least this many elements.
  static constexpr int64_t kMinPerThread = 32;
  /// Blocks per SM a split reduction aims at (8 x 256 threads fill an SM).
  static constexpr int64_t kBlocksPerSM = 8;

  /// How a reduction whose outputs each combine with one commutative op that
  /// has a neutral element (a sum, a max, an or) runs: a block of
  /// `kReductionThreads` threads per `lanesP` outputs, `lanesR` threads per
  /// output folding a strided part of its reduction with the op's own body.
  struct ReductionPlan {
    SmallVector<Operation *> combiners;
    /// Whether neighbouring threads take neighbouring outputs (the innermost
    /// dimension of the input is a parallel one: column sums) rather than
    /// neighbouring elements of one output's reduction (row sums).
    bool parallelFast = false;
    int64_t lanesP = 1, lanesR = kReductionThreads;
  };

  /// The plan of a reduction op, if its outputs are indexed by parallel
  /// dims only and each is updated by one commutative combiner with a
  /// neutral element. Contractions with both an m and an n dim (an f32
  /// matmul) keep one thread per output: neighbouring threads there share
  /// the rows of one operand.
  std::optional<ReductionPlan> matchTiledReduction(linalg::LinalgOp op) {
    if (op.getNumReductionLoops() == 0 || op->getNumRegions() != 1)
      return std::nullopt;
    bool full = op.getNumParallelLoops() == 0;
    if (!full && linalg::isaContractionOpInterface(op)) {
      // Row dot products (no n dim: the loss's sum of onehot * logits)
      // are reductions like any other.
      FailureOr<linalg::ContractionDimensions> dims =
          linalg::inferContractionDims(op);
      if (failed(dims) || (!dims->m.empty() && !dims->n.empty()))
        return std::nullopt;
    }
    SmallVector<utils::IteratorType> iters = op.getIteratorTypesArray();
    auto isParallel = [&](AffineExpr e) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      return dim && iters[dim.getPosition()] == utils::IteratorType::parallel;
    };
    SmallVector<BlockArgument> outs;
    for (OpOperand &init : op.getDpsInitsMutable()) {
      if (!isa<MemRefType>(init.get().getType()) ||
          !llvm::all_of(op.getMatchingIndexingMap(&init).getResults(),
                        isParallel))
        return std::nullopt;
      outs.push_back(op.getMatchingBlockArgument(&init));
    }
    ReductionPlan plan;
    for (unsigned i = 0; i < outs.size(); ++i) {
      SmallVector<Operation *> ops;
      if (!matchReduction(outs, i, ops) || ops.size() != 1 ||
          !ops[0]->hasTrait<OpTrait::IsCommutative>() ||
          !arith::getNeutralElement(ops[0]))
        return std::nullopt;
      plan.combiners.push_back(ops[0]);
    }
    if (full)
      return plan;
    // The layout follows the innermost dimension of the first input.
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto type = dyn_cast<MemRefType>(input->get().getType());
      if (!type || type.getRank() == 0)
        continue;
      AffineMap map = op.getMatchingIndexingMap(input);
      plan.parallelFast = isParallel(map.getResults().back());
      break;
    }
    plan.lanesP = plan.parallelFast ? 32 : kReductionThreads / 32;
    plan.lanesR = kReductionThreads / plan.lanesP;
    // A short static reduction keeps one thread per output.
    int64_t staticR = 1;
    for (auto [i, size] : llvm::enumerate(op.getStaticLoopRanges()))
      if (iters[i] == utils::IteratorType::reduction)
        staticR = ShapedType::isDynamic(size) || ShapedType::isDynamic(staticR)
                      ? ShapedType::kDynamic
                      : staticR * size;
    if (!ShapedType::isDynamic(staticR) && staticR < plan.lanesR)
      return std::nullopt;
    return plan;
  }

  /// `linear` split into the given loop dims (the last one fastest).
  static void delinearize(OpBuilder &b, Location loc, Value linear,
                          ArrayRef<unsigned> dims, ArrayRef<Value> sizes,
                          MutableArrayRef<Value> ivs) {
    for (unsigned d : llvm::reverse(dims)) {
      if (d == dims.front()) {
        ivs[d] = linear;
        break;
      }
      ivs[d] = arith::RemUIOp::create(b, loc, linear, sizes[d]);
      linear = arith::DivUIOp::create(b, loc, linear, sizes[d]);
    }
  }

  static Value product(OpBuilder &b, Location loc, ArrayRef<unsigned> dims,
                       ArrayRef<Value> sizes) {
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (unsigned d : dims)
      total = b.createOrFold<arith::MulIOp>(loc, total, sizes[d]);
    return total;
  }

  using FoldFn = function_ref<SmallVector<Value>(OpBuilder &, Value p, Value r,
                                                 ValueRange accs)>;
  using FinishFn =
      function_ref<void(OpBuilder &, Value p, Value split, ValueRange totals)>;

  /// One launch reducing `reduced` elements for each of `outputs` outputs,
  /// the reduction cut into `splits` contiguous parts along grid y. Each
  /// thread folds its elements (`fold` of output p, element r) into
  /// `reductionUnroll` sets of accumulators started at the neutral elements; a
  /// tree in shared memory combines the lanes of an output; `finish` gets the
  /// total of output p over split s.
  void emitReduction(OpBuilder &b, Location loc, linalg::LinalgOp op,
                     ArrayRef<Operation *> combiners, bool parallelFast,
                     int64_t lanesP, int64_t lanesR, Value outputs,
                     Value reduced, Value splits, FoldFn fold,
                     FinishFn finish) {
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    SmallVector<Type> shared, types;
    for (Operation *combiner : combiners) {
      types.push_back(combiner->getResult(0).getType());
      shared.push_back(MemRefType::get({kReductionThreads}, types.back(),
                                       MemRefLayoutAttrInterface{}, workgroup));
    }
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value one = cst(1);
    Value blocks = arith::MaxUIOp::create(
        b, loc, arith::CeilDivUIOp::create(b, loc, outputs, cst(lanesP)), one);
    auto launch = createLaunch(b, loc, op, blocks, cst(kReductionThreads),
                               shared, splits);
    Block &body = launch.getBody().front();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&body);
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&body);
    Value tid = launch.getThreadIds().x;
    Value laneP, laneR;
    if (parallelFast) {
      laneP = arith::RemUIOp::create(b, loc, tid, cst(lanesP));
      laneR = arith::DivUIOp::create(b, loc, tid, cst(lanesP));
    } else {
      laneP = arith::DivUIOp::create(b, loc, tid, cst(lanesR));
      laneR = arith::RemUIOp::create(b, loc, tid, cst(lanesR));
    }
    Value p = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(lanesP)),
        laneP);
    Value split = launch.getBlockIds().y;
    // Split s folds [s * chunk, min((s + 1) * chunk, reduced)); the lane
    // its elements first, first + lanesR, ...
    Value chunk = arith::MulIOp::create(
        b, loc,
        arith::CeilDivUIOp::create(
            b, loc, arith::CeilDivUIOp::create(b, loc, reduced, splits),
            cst(lanesR)),
        cst(lanesR));
    Value start = arith::MulIOp::create(b, loc, split, chunk);
    Value end = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, start, chunk), reduced);
    Value first = arith::AddIOp::create(b, loc, start, laneR);
    Value inP =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, p, outputs);
    Value active = arith::AndIOp::create(
        b, loc, inP,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, first, end));
    SmallVector<Value> neutral;
    for (Operation *combiner : combiners)
      neutral.push_back(arith::ConstantOp::create(
          b, loc, *arith::getNeutralElement(combiner)));
    auto ifOp = scf::IfOp::create(b, loc, types, active, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b, loc, neutral);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value count = arith::CeilDivUIOp::create(
          b, loc, arith::SubIOp::create(b, loc, end, first), cst(lanesR));
      Value mainCount = arith::SubIOp::create(
          b, loc, count,
          arith::RemUIOp::create(b, loc, count, cst(reductionUnroll)));
      auto element = [&](OpBuilder &lb, Value j) -> Value {
        return arith::AddIOp::create(
            lb, loc, first, arith::MulIOp::create(lb, loc, j, cst(lanesR)));
      };
      SmallVector<Value> inits;
      for (int64_t u = 0; u < reductionUnroll; ++u)
        llvm::append_range(inits, neutral);
      auto main = scf::ForOp::create(b, loc, cst(0), mainCount,
                                     cst(reductionUnroll), inits);
      {
        OpBuilder::InsertionGuard loopGuard(b);
        b.setInsertionPointToStart(main.getBody());
        SmallVector<Value> next;
        size_t n = combiners.size();
        for (int64_t u = 0; u < reductionUnroll; ++u) {
          Value j =
              arith::AddIOp::create(b, loc, main.getInductionVar(), cst(u));
          llvm::append_range(next,
                             fold(b, p, element(b, j),
                                  main.getRegionIterArgs().slice(u * n, n)));
        }
        scf::YieldOp::create(b, loc, next);
      }
      SmallVector<Value> accs(main.getResults().take_front(combiners.size()));
      for (int64_t u = 1; u < reductionUnroll; ++u)
        for (auto [i, combiner] : llvm::enumerate(combiners))
          accs[i] = combine(b, combiner, accs[i],
                            main.getResult(u * combiners.size() + i));
      auto tail = scf::ForOp::create(b, loc, mainCount, count, one, accs);
      {
        OpBuilder::InsertionGuard loopGuard(b);
        b.setInsertionPointToStart(tail.getBody());
        scf::YieldOp::create(b, loc,
                             fold(b, p, element(b, tail.getInductionVar()),
                                  tail.getRegionIterArgs()));
      }
      scf::YieldOp::create(b, loc, tail.getResults());
    }

    // Tree over the lanes of an output in shared memory.
    SmallVector<Value> buffers(launch.getWorkgroupAttributions());
    for (auto [buffer, partial] : llvm::zip(buffers, ifOp.getResults()))
      memref::StoreOp::create(b, loc, partial, buffer, tid);
    gpu::BarrierOp::create(b, loc);
    int64_t laneStride = parallelFast ? lanesP : 1;
    for (int64_t half = lanesR / 2; half >= 1; half /= 2) {
      Value activeLane = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ult, laneR, cst(half));
      auto step = scf::IfOp::create(b, loc, activeLane, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(step.thenBlock());
        Value other =
            arith::AddIOp::create(b, loc, tid, cst(half * laneStride));
        for (auto [buffer, combiner] : llvm::zip(buffers, combiners)) {
          Value x = memref::LoadOp::create(b, loc, buffer, tid);
          Value y = memref::LoadOp::create(b, loc, buffer, other);
          memref::StoreOp::create(b, loc, combine(b, combiner, x, y), buffer,
                                  tid);
        }
      }
      gpu::BarrierOp::create(b, loc);
    }
    Value leader = arith::AndIOp::create(
        b, loc, inP,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, laneR, cst(0)));
    auto last = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
    b.setInsertionPointToStart(last.thenBlock());
    SmallVector<Value> totals;
    for (Value buffer : buffers)
      totals.push_back(memref::LoadOp::create(b, loc, buffer, tid));
    finish(b, p, split, totals);
    sinkGlobals(launch);
    ++numLaunches;
  }

  /// A reduction of `plan`'s kind. When its outputs alone give too few
  /// blocks to fill the GPU, the reduction is split along grid y into
  /// partial results in a device buffer, which a second launch combines
  /// into the outputs. Either way the summation order is fixed by the
  /// shapes (pairwise across lanes), not by timing, but differs from a
  /// sequential loop's.
  LogicalResult convertReduction(linalg::LinalgOp op, const ReductionPlan &plan,
                                 ArrayRef<Value> sizes,
                                 ArrayRef<unsigned> parallel,
                                 ArrayRef<unsigned> reduction) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value outputs = product(b, loc, parallel, sizes);
    Value reduced = product(b, loc, reduction, sizes);
    // Splits: enough blocks for kBlocksPerSM per SM (a full SM of 256-thread
    // blocks), each thread folding at least kMinPerThread elements.
    Value blocks = b.createOrFold<arith::MaxUIOp>(
        loc, b.createOrFold<arith::CeilDivUIOp>(loc, outputs, cst(plan.lanesP)),
        cst(1));
    Value wanted = b.createOrFold<arith::CeilDivUIOp>(
        loc, cst(kBlocksPerSM * numSMs), blocks);
    Value most = b.createOrFold<arith::MaxUIOp>(
        loc,
        b.createOrFold<arith::DivUIOp>(loc, reduced,
                                       cst(plan.lanesR * kMinPerThread)),
        cst(1));
    Value splits = b.createOrFold<arith::MinUIOp>(loc, wanted, most);
    std::optional<int64_t> staticSplits = getConstantIntValue(splits);

    auto ivsAt = [&](OpBuilder &ib, Value p, Value r) {
      SmallVector<Value> ivs(sizes.size());
      if (!parallel.empty())
        delinearize(ib, loc, p, parallel, sizes, ivs);
      if (r)
        delinearize(ib, loc, r, reduction, sizes, ivs);
      return ivs;
    };
    auto foldOp = [&](OpBuilder &ib, Value p, Value r, ValueRange accs) {
      return foldBody(ib, loc, op, ivsAt(ib, p, r), accs);
    };
    // The outputs' indexing maps read only parallel dims.
    auto writeOutputs = [&](OpBuilder &ib, Value p, Value, ValueRange totals) {
      SmallVector<Value> ivs = ivsAt(ib, p, Value());
      Value zero = arith::ConstantIndexOp::create(ib, loc, 0);
      for (Value &iv : ivs)
        if (!iv)
          iv = zero;
      for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
        SmallVector<Value> indices =
            applyMap(ib, loc, op.getMatchingIndexingMap(&init), ivs);
        Value acc = memref::LoadOp::create(ib, loc, init.get(), indices);
        memref::StoreOp::create(ib, loc,
                                combine(ib, plan.combiners[i], acc, totals[i]),
                                init.get(), indices);
      }
    };
    if (staticSplits && *staticSplits == 1) {
      emitReduction(b, loc, op, plan.combiners, plan.parallelFast, plan.lanesP,
                    plan.lanesR, outputs, reduced, splits, foldOp,
                    writeOutputs);
      op->erase();
      return success();
    }
    // Partial results [split][output], combined by a second launch.
    SmallVector<Value> partials;
    for (Operation *combiner : plan.combiners) {
      auto type = MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                                  combiner->getResult(0).getType());
      partials.push_back(
          gpu::AllocOp::create(b, loc, type, /*asyncToken=*/Type(),
                               /*asyncDependencies=*/ValueRange{},
                               ValueRange{splits, outputs},
                               /*symbolOperands=*/ValueRange{},
                               /*hostShared=*/false)
              .getMemref());
    }
    auto writePartials = [&](OpBuilder &ib, Value p, Value split,
                             ValueRange totals) {
      for (auto [partial, total] : llvm::zip(partials, totals))
        memref::StoreOp::create(ib, loc, total, partial, ValueRange{split, p});
    };
    emitReduction(b, loc, op, plan.combiners, plan.parallelFast, plan.lanesP,
                  plan.lanesR, outputs, reduced, splits, foldOp, writePartials);
    auto combinePartials = [&](OpBuilder &ib, Value p, Value r,
                               ValueRange accs) {
      SmallVector<Value> next;
      for (auto [partial, acc, combiner] :
           llvm::zip(partials, accs, plan.combiners))
        next.push_back(combine(
            ib, combiner, acc,
            memref::LoadOp::create(ib, loc, partial, ValueRange{r, p})));
      return next;
    };
    bool full = parallel.empty();
    int64_t lanesP = full ? 1 : 32;
    emitReduction(b, loc, op, plan.combiners, /*parallelFast=*/!full, lanesP,
                  kReductionThreads / lanesP, outputs, splits, cst(1),
                  combinePartials, writeOutputs);
    for (Value partial : partials)
      gpu::DeallocOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{},
                             partial);
    op->erase();
    return success();
  }

  static SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                                     ValueRange ivs) {
    SmallVector<Value> indices;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      indices.push_back(
          affine::AffineApplyOp::create(b, loc, map.getSubMap({r}), ivs));
    return indices;
  }

  /// The combiner applied to two values (a clone with new operands).
  static Value combine(OpBuilder &b, Operation *combiner, Value x, Value y) {
    IRMapping mapping;
    mapping.map(combiner->getOperand(0), x);
    mapping.map(combiner->getOperand(1), y);
    return b.clone(*combiner, mapping)->getResult(0);
  }

  /// The op's body at `ivs` with the outputs' block arguments bound to
  /// `accs` and the inputs' to `inputs` if given (else loaded at `ivs`);
  /// returns the yielded values.
  static SmallVector<Value> foldBody(OpBuilder &b, Location loc,
                                     linalg::LinalgOp op, ValueRange ivs,
                                     ValueRange accs, ValueRange inputs = {}) {
    Block *body = op.getBlock();
    IRMapping mapping;
    for (auto [i, input] : llvm::enumerate(op.getDpsInputOperands())) {
      Value v = input->get();
      Value arg = op.getMatchingBlockArgument(input);
      if (!inputs.empty()) {
        mapping.map(arg, inputs[i]);
        continue;
      }
      if (!isa<MemRefType>(v.getType())) {
        mapping.map(arg, v);
        continue;
      }
      mapping.map(arg,
                  memref::LoadOp::create(
                      b, loc, v,
                      applyMap(b, loc, op.getMatchingIndexingMap(input), ivs)));
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
