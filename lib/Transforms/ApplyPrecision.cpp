//===- ApplyPrecision.cpp - Retype ops and insert casts -------------------===//
//
// Follows the `mpt.assigned` decisions: 16-bit ops are retyped (contractions
// and reductions keep an f32 accumulator), and casts are inserted once per
// (value, type) where values cross between f32 and 16 bits.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"
#include <limits>

namespace mpt {
#define GEN_PASS_DEF_APPLYPRECISION
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

/// Bytes of a statically shaped tensor of 16-bit values (0 if dynamic),
/// saturated at the int64_t range: a shape may hold more elements than an
/// int64_t counts (a batch of 2^62 wrapped to a few hundred bytes).
int64_t lowBytes(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped)
    return 2;
  if (!shaped.hasStaticShape())
    return 0;
  int64_t bytes = 2;
  for (int64_t size : shaped.getShape())
    if (llvm::MulOverflow(bytes, size, bytes))
      return std::numeric_limits<int64_t>::max();
  return bytes;
}

class Rewriter {
public:
  explicit Rewriter(FunctionOpInterface fn) : fn(fn) {}

  void run() {
    fn->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == fn.getOperation())
        return WalkResult::advance();
      auto assigned = op->getAttrOfType<StringAttr>(kAssignedAttr);
      std::optional<FloatType> low =
          assigned ? parseLowType(op->getContext(), assigned.getValue())
                   : std::nullopt;
      op->removeAttr(kAssignedAttr);
      if (!low) {
        restoreF32Operands(op);
        return WalkResult::advance();
      }
      if (isAccumulating(op)) {
        lowerAccumulating(cast<linalg::LinalgOp>(op), *low);
      } else if (Operation *bad = findUnretypableOp(op, *low)) {
        op->emitOpError() << "is assigned " << assigned.getValue() << " but '"
                          << bad->getName() << "'"
                          << (bad == op ? "" : " in its body") << " has no "
                          << assigned.getValue() << " form";
        failed = true;
        return WalkResult::interrupt();
      } else {
        retype(op, *low);
      }
      ++numRetyped;
      // The payload was handled with its owner.
      return isa<linalg::LinalgOp, tensor::PadOp>(op) ? WalkResult::skip()
                                                      : WalkResult::advance();
    });
  }

  int64_t numCasts = 0, numRetyped = 0, bytes = 0;
  bool failed = false;

  /// The single cast of `v` to `type`, placed right after its definition
  /// (at the start of its block for block arguments: function arguments are
  /// cast once, at the function entry).
  Value getCast(Value v, Type type) {
    if (v.getType() == type)
      return v;
    auto key = std::make_pair(v, type);
    if (Value cached = casts.lookup(key))
      return cached;
    OpBuilder b(v.getContext());
    if (auto arg = dyn_cast<BlockArgument>(v))
      b.setInsertionPoint(arg.getOwner(), getArgumentCastPoint(arg.getOwner()));
    else
      b.setInsertionPointAfter(v.getDefiningOp());
    unsigned from = getElementTypeOrSelf(v.getType()).getIntOrFloatBitWidth();
    unsigned to = getElementTypeOrSelf(type).getIntOrFloatBitWidth();
    Value cast;
    if (to < from) {
      cast = arith::TruncFOp::create(b, v.getLoc(), type, v);
      bytes = saturatingAdd(bytes, lowBytes(type));
    } else {
      cast = arith::ExtFOp::create(b, v.getLoc(), type, v);
    }
    ++numCasts;
    casts[key] = cast;
    return cast;
  }

private:
  /// An f32 op reads f32: values this pass made 16-bit are widened back.
  /// (The walk visits the payload of an f32 op too.)
  void restoreF32Operands(Operation *op) {
    for (OpOperand &use : op->getOpOperands())
      if (auto it = originalType.find(use.get()); it != originalType.end())
        use.set(getCast(use.get(), it->second));
  }

  /// The f32 body of a contraction or reduction reads values from outside
  /// in f32: those made 16-bit are widened back, outside.
  void restoreCaptured(Operation *owner) {
    owner->walk([&](Operation *inner) {
      if (inner == owner)
        return;
      for (OpOperand &use : inner->getOpOperands()) {
        auto it = originalType.find(use.get());
        if (it != originalType.end() &&
            !owner->isAncestor(use.get().getParentRegion()->getParentOp()))
          use.set(getCast(use.get(), it->second));
      }
    });
  }

  void setLowType(Value v, FloatType low) {
    if (!isF32Like(v.getType()))
      return;
    originalType[v] = v.getType();
    v.setType(withElementType(v.getType(), low));
  }

  /// Contractions and reductions: 16-bit inputs, f32 accumulator and result;
  /// the body widens the inputs.
  void lowerAccumulating(linalg::LinalgOp op, FloatType low) {
    for (OpOperand *in : op.getDpsInputOperands())
      if (isF32Like(in->get().getType()))
        in->set(getCast(in->get(), withElementType(in->get().getType(), low)));
    for (OpOperand &init : op.getDpsInitsMutable())
      if (auto it = originalType.find(init.get()); it != originalType.end())
        init.set(getCast(init.get(), it->second));
    restoreCaptured(op);
    Block *body = op.getBlock();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    for (OpOperand *in : op.getDpsInputOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(in);
      if (!arg.getType().isF32() ||
          getElementTypeOrSelf(in->get().getType()) != low)
        continue;
      arg.setType(low);
      auto ext = arith::ExtFOp::create(b, arg.getLoc(), b.getF32Type(), arg);
      arg.replaceAllUsesExcept(ext, ext);
    }
  }

  /// Any other 16-bit op: operands, results and payload become 16-bit.
  void retype(Operation *op, FloatType low) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      retypeConstant(cst, low);
      return;
    }
    for (OpOperand &use : op->getOpOperands())
      if (isF32Like(use.get().getType()))
        use.set(getCast(use.get(), withElementType(use.get().getType(), low)));
    for (Value result : op->getResults()) {
      if (!isF32Like(result.getType()))
        continue;
      setLowType(result, low);
      bytes = saturatingAdd(bytes, lowBytes(result.getType()));
    }
    for (Region &region : op->getRegions())
      retypePayload(op, region, low);
  }

  void retypeConstant(arith::ConstantOp cst, FloatType low,
                      bool inPayload = false) {
    if (!isF32Like(cst.getType()))
      return;
    Type type = withElementType(cst.getType(), low);
    TypedAttr value = convertFloatConstant(cst.getValue(), type);
    if (!value)
      return;
    OpBuilder b(cst);
    auto lowCst = arith::ConstantOp::create(b, cst.getLoc(), type, value);
    // Users are handled later in the walk: they see a 16-bit value whose
    // f32 form is the cast below, made only if an f32 user asks for it.
    originalType[lowCst] = cst.getType();
    cst.getResult().replaceAllUsesWith(lowCst.getResult());
    if (!inPayload)
      bytes = saturatingAdd(bytes, lowBytes(type));
    dead.push_back(cst);
  }

  /// Block arguments and ops of a payload region, nested regions included,
  /// become 16-bit; values from outside are cast once, outside.
  void retypePayload(Operation *owner, Region &region, FloatType low) {
    for (Block &block : region)
      retypeArguments(block, low);
    region.walk<WalkOrder::PreOrder>([&](Operation *inner) {
      for (Region &nested : inner->getRegions())
        for (Block &block : nested)
          retypeArguments(block, low);
      if (auto cst = dyn_cast<arith::ConstantOp>(inner)) {
        retypeConstant(cst, low, /*inPayload=*/true);
        return;
      }
      for (OpOperand &use : inner->getOpOperands()) {
        Value v = use.get();
        if (isF32Like(v.getType()) &&
            !owner->isAncestor(v.getParentRegion()->getParentOp()))
          use.set(getCast(v, withElementType(v.getType(), low)));
      }
      for (Value result : inner->getResults())
        if (isF32Like(result.getType()))
          result.setType(withElementType(result.getType(), low));
      foldTrivialCast(*inner);
    });
  }

  static void retypeArguments(Block &block, FloatType low) {
    for (BlockArgument arg : block.getArguments())
      if (arg.getType().isF32())
        arg.setType(low);
  }

  /// A cast whose operand now has its result type is dropped.
  void foldTrivialCast(Operation &op) {
    if (!isFloatCast(&op))
      return;
    if (op.getOperand(0).getType() != op.getResult(0).getType())
      return;
    op.getResult(0).replaceAllUsesWith(op.getOperand(0));
    dead.push_back(&op);
  }

public:
  void eraseDead() {
    for (Operation *op : dead)
      op->erase();
    dead.clear();
  }

private:
  FunctionOpInterface fn;
  DenseMap<std::pair<Value, Type>, Value> casts;
  DenseMap<Value, Type> originalType;
  SmallVector<Operation *> dead;
};

/// keep-io-types=false: arguments read only in 16 bits and results computed
/// in 16 bits change type, except parameters, the seed, the loss and grads.
void relaxSignature(FunctionOpInterface fn) {
  // Only inputs and role-less values may change: parameters, the seed, the
  // loss, grads and all threaded state keep their types.
  auto isPinned = [](std::optional<Role> role) {
    return role.has_value() && *role != Role::Input;
  };
  Block &entry = fn.getFunctionBody().front();
  SmallVector<Type> argTypes(fn.getArgumentTypes());
  for (BlockArgument arg : entry.getArguments()) {
    if (isPinned(getArgumentRole(fn, arg.getArgNumber())) || arg.use_empty())
      continue;
    Type lowType;
    bool allTrunc = llvm::all_of(arg.getUsers(), [&](Operation *user) {
      auto trunc = dyn_cast<arith::TruncFOp>(user);
      if (!trunc || (lowType && trunc.getType() != lowType))
        return false;
      lowType = trunc.getType();
      return getElementTypeOrSelf(lowType).getIntOrFloatBitWidth() == 16;
    });
    if (!allTrunc)
      continue;
    arg.setType(lowType);
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
      user->getResult(0).replaceAllUsesWith(arg);
      user->erase();
    }
    argTypes[arg.getArgNumber()] = lowType;
  }
  SmallVector<Type> resultTypes(fn.getResultTypes());
  if (auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator())) {
    for (OpOperand &use : ret->getOpOperands()) {
      unsigned i = use.getOperandNumber();
      auto ext = use.get().getDefiningOp<arith::ExtFOp>();
      if (!ext || isPinned(getResultRole(fn, i)))
        continue;
      use.set(ext.getIn());
      resultTypes[i] = ext.getIn().getType();
      if (ext->use_empty())
        ext->erase();
    }
  }
  fn.setType(FunctionType::get(fn.getContext(), argTypes, resultTypes));
}

/// Returns each parameter's 16-bit working copy (the cast at the entry).
void addLowParamResults(FunctionOpInterface fn) {
  Block &entry = fn.getFunctionBody().front();
  MLIRContext *ctx = fn.getContext();
  Builder b(ctx);
  SmallVector<std::pair<unsigned, Value>> copies;
  for (unsigned i : getArgumentsWithRole(fn, Role::Param))
    for (Operation *user : fn.getArgument(i).getUsers())
      if (auto trunc = dyn_cast<arith::TruncFOp>(user);
          trunc && trunc->getBlock() == &entry) {
        copies.push_back({i, trunc.getResult()});
        break;
      }
  for (auto [param, copy] : copies) {
    NamedAttribute attrs[] = {
        b.getNamedAttr(MPTDialect::kRoleAttrName,
                       b.getStringAttr(stringifyRole(Role::ParamLow))),
        b.getNamedAttr(MPTDialect::kCopyOfAttrName,
                       b.getI64IntegerAttr(param))};
    (void)fn.insertResult(fn.getNumResults(), copy.getType(),
                          b.getDictionaryAttr(attrs));
    fn.walk([&](func::ReturnOp ret) {
      ret->insertOperands(ret->getNumOperands(), copy);
    });
  }
}

struct ApplyPrecisionPass
    : public mpt::impl::ApplyPrecisionBase<ApplyPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t casts = 0, retyped = 0, bytes = 0;
    for (auto fn : module.getOps<FunctionOpInterface>()) {
      if (fn.isExternal())
        continue;
      Rewriter rewriter(fn);
      rewriter.run();
      rewriter.eraseDead();
      if (rewriter.failed)
        return signalPassFailure();
      casts += rewriter.numCasts;
      retyped += rewriter.numRetyped;
      bytes = saturatingAdd(bytes, rewriter.bytes);
      if (!keepIOTypes && fn.isPublic())
        relaxSignature(fn);
      if (returnLowParams && fn.isPublic())
        addLowParamResults(fn);
      if (fn.isPublic() && (!keepIOTypes || returnLowParams) &&
          failed(checkCallersMatch(fn, "keep-io-types=false or "
                                       "return-16bit-params")))
        return signalPassFailure();
    }
    numCasts += casts;
    numRetyped += retyped;
    addToReport(module, "casts_inserted", casts);
    addToReport(module, "bytes_16bit", bytes);
  }
};
} // namespace
