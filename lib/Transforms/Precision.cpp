//===- Precision.cpp - Helpers shared by the precision passes -------------===//

#include "mpt/Transforms/Precision.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <limits>

using namespace mlir;

namespace mpt {

bool isF32Like(Type type) { return getElementTypeOrSelf(type).isF32(); }

Type withElementType(Type type, Type elem) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return shaped.clone(elem);
  return elem;
}

std::optional<FloatType> parseLowType(MLIRContext *ctx, StringRef name) {
  if (name == "f16")
    return Float16Type::get(ctx);
  if (name == "bf16")
    return BFloat16Type::get(ctx);
  return std::nullopt;
}

namespace {
/// Magnitudes from which a finite constant stands for infinity (clamp
/// bounds such as FLT_MAX, masks): where it acts as infinity, rounding it to
/// +-inf changes nothing.
constexpr double kInfinitySentinel = 1e38;

unsigned valueProblems(const APFloat &value, FloatType target) {
  if (value.isNaN() || value.isInfinity() || value.isZero())
    return 0;
  APFloat converted = value;
  bool losesInfo;
  converted.convert(target.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
  if (converted.isInfinity()) {
    bool sentinel = std::abs(value.convertToDouble()) >= kInfinitySentinel;
    if (value.isNegative())
      return sentinel ? kSentinelNeg : kOverflowNeg;
    return sentinel ? kSentinelPos : kOverflowPos;
  }
  // A subnormal keeps fewer significant bits than the format's unit
  // roundoff promises, and so does anything scaled by it: even an exact one
  // (2^-24 in f16) makes x * c subnormal and x / c overflow. Readers that
  // only add it (an epsilon) stay 16-bit (see findOpsKeptF32ForConstants).
  (void)losesInfo;
  if (converted.isZero() || converted.isDenormal())
    return kUnderflow;
  return 0;
}
} // namespace

unsigned getRangeProblems(Attribute value, FloatType target) {
  if (auto floatAttr = dyn_cast<FloatAttr>(value))
    return valueProblems(floatAttr.getValue(), target);
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense || !isa<FloatType>(dense.getElementType()))
    return 0;
  if (dense.isSplat())
    return valueProblems(dense.getSplatValue<APFloat>(), target);
  unsigned problems = 0;
  for (APFloat element : dense.getValues<APFloat>())
    problems |= valueProblems(element, target);
  return problems;
}

std::string describeRangeProblems(unsigned problems) {
  SmallVector<StringRef> words;
  if (problems & kOverflow)
    words.push_back("overflow");
  if (problems & kUnderflow)
    words.push_back("underflow");
  if (problems & kSentinel)
    words.push_back("1e38 sentinel");
  return llvm::join(words, " and ");
}

StringRef constantRangeProblem(Attribute value, FloatType target) {
  unsigned problems = getRangeProblems(value, target);
  if (problems & kOverflow)
    return "overflow";
  if (problems & kUnderflow)
    return "underflow";
  return "";
}

namespace {
/// Follows the values that may hold a constant that does not fit the 16-bit
/// type, from the constants through the ops that pass them on, and finds
/// the readers that would be wrong to see the constant's 16-bit rounding.
class ConstantFlow {
public:
  ConstantFlow(FunctionOpInterface fn, FloatType low) : fn(fn), low(low) {}

  llvm::MapVector<Operation *, unsigned> run() {
    seed();
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (OpOperand &use : v.getUses())
        visitUse(use, problems.lookup(v));
    }
    return keptF32();
  }

private:
  Operation *ownerOf(Operation *op) { return getPayloadOwner(op, fn); }

  /// Whether values in `op`'s body keep their f32 type: the body of a
  /// contraction or reduction stays f32 (only its inputs are rounded).
  bool inF32Body(Operation *op) {
    Operation *owner = ownerOf(op);
    return owner != op && isAccumulating(owner);
  }

  void seed() {
    fn->walk([&](Operation *op) {
      if (inF32Body(op))
        return;
      if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
        if (isF32Like(cst.getType()))
          add(cst, getRangeProblems(cst.getValue(), low), {});
        return;
      }
      // A constant of another float type made f32 (truncf of an f64
      // constant) is rounded to the 16-bit type with its reader.
      auto source = isFloatCast(op)
                        ? op->getOperand(0).getDefiningOp<arith::ConstantOp>()
                        : nullptr;
      if (source && isF32Like(op->getResult(0).getType()))
        add(op->getResult(0), getRangeProblems(source.getValue(), low), {});
    });
  }

  void add(Value to, unsigned bits, Value from) {
    if (!bits || !isa<FloatType>(getElementTypeOrSelf(to.getType())))
      return;
    if (from)
      preds[to].push_back(from);
    unsigned &old = problems[to];
    if ((old | bits) == old)
      return;
    old |= bits;
    work.push_back(to);
  }

  void addResults(Operation *op, unsigned bits, Value from) {
    for (Value result : op->getResults())
      add(result, bits, from);
  }

  /// A reader that must not see the rounded constant.
  void reject(Operation *reader, Value v, unsigned bits) {
    rejected.insert(v);
    readers[ownerOf(reader)] |= bits;
  }

  /// Problems of the float operands of `op` other than `use`.
  unsigned otherProblems(Operation *op, OpOperand &use) {
    unsigned bits = 0;
    for (OpOperand &other : op->getOpOperands())
      if (&other != &use)
        bits |= problems.lookup(other.get());
    return bits;
  }

  void visitUse(OpOperand &use, unsigned bits) {
    Operation *user = use.getOwner();
    Value v = use.get();
    if (inF32Body(user))
      return reject(user, v, bits);
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(user)) {
      // A contraction or reduction rounds its inputs and computes in f32:
      // none of the rules below holds for a mix of both.
      if (isAccumulating(user))
        return reject(user, v, bits);
      return add(linalgOp.getMatchingBlockArgument(&use), bits, v);
    }
    Operation *parent = user->getParentOp();
    if (isa<linalg::YieldOp>(user) && isa<linalg::LinalgOp>(parent))
      return add(parent->getResult(use.getOperandNumber()), bits, v);
    if (isa<tensor::YieldOp>(user) && isa<tensor::PadOp>(parent))
      return add(parent->getResult(0), bits, v);
    if (user->hasTrait<OpTrait::IsTerminator>())
      return reject(user, v, bits);
    // Shapes do not depend on values.
    if (isa<tensor::DimOp, tensor::RankOp>(user))
      return;
    // Data movement passes the value on as it is.
    if (user->getDialect() == fn->getContext()->getLoadedDialect("tensor") &&
        !isa<tensor::BitcastOp>(user) &&
        (user->getNumRegions() == 0 || isa<tensor::PadOp>(user)))
      return addResults(user, bits, v);
    bool inBody = ownerOf(user) != user;
    if (inBody && isFloatCast(user))
      return addResults(user, bits, v);
    // Rounding is monotone: min/max/select of the rounded constant is the
    // rounding of min/max/select of the constant. min(x, +big) and
    // max(x, -big) are x for every finite 16-bit x.
    if (isa<arith::SelectOp>(user))
      return addResults(user, bits, v);
    bool alone = otherProblems(user, use) == 0;
    if (isa<arith::MinimumFOp, arith::MinNumFOp>(user))
      return addResults(
          user, alone ? bits & ~(kOverflowPos | kSentinelPos) : bits, v);
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(user))
      return addResults(
          user, alone ? bits & ~(kOverflowNeg | kSentinelNeg) : bits, v);
    if (isa<arith::NegFOp>(user)) {
      unsigned swapped = bits & kUnderflow;
      swapped |= (bits & (kOverflowPos | kSentinelPos)) << 1;
      swapped |= (bits & (kOverflowNeg | kSentinelNeg)) >> 1;
      return addResults(user, swapped, v);
    }
    // Beyond every finite 16-bit value, c compares like +-inf.
    if (isa<arith::CmpFOp>(user) && !(bits & kUnderflow))
      return;
    // x + c: an underflowing c is below half the spacing of 16-bit values,
    // a sentinel makes the f32 result round to +-inf anyway (and passes
    // on); an overflowing c (1e5) does neither.
    if (isa<arith::AddFOp, arith::SubFOp>(user) && alone && !(bits & kOverflow))
      return addResults(user, (bits & kSentinel) ? unsigned(kSentinel) : 0u, v);
    reject(user, v, bits);
  }

  /// The readers that reject, and every op that carried a constant to them.
  llvm::MapVector<Operation *, unsigned> keptF32() {
    llvm::MapVector<Operation *, unsigned> kept;
    SmallVector<Value> stack(rejected.begin(), rejected.end());
    DenseSet<Value> seen(rejected.begin(), rejected.end());
    while (!stack.empty()) {
      Value v = stack.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (!def)
        def = v.getParentBlock()->getParentOp();
      if (def != fn.getOperation())
        kept[ownerOf(def)] |= problems.lookup(v);
      for (Value pred : preds.lookup(v))
        if (seen.insert(pred).second)
          stack.push_back(pred);
    }
    for (auto [reader, bits] : readers)
      kept[reader] |= bits;
    return kept;
  }

  FunctionOpInterface fn;
  FloatType low;
  DenseMap<Value, unsigned> problems;
  DenseMap<Value, SmallVector<Value, 1>> preds;
  llvm::SetVector<Value> rejected;
  llvm::MapVector<Operation *, unsigned> readers;
  SmallVector<Value> work;
};
} // namespace

llvm::MapVector<Operation *, unsigned>
findOpsKeptF32ForConstants(FunctionOpInterface fn, FloatType low) {
  return ConstantFlow(fn, low).run();
}

namespace {
bool hasF32Type(Operation *op) {
  auto f32 = [](Type t) { return isF32Like(t); };
  if (llvm::any_of(op->getOperandTypes(), f32) ||
      llvm::any_of(op->getResultTypes(), f32))
    return true;
  for (Region &region : op->getRegions())
    for (Block &block : region)
      if (llvm::any_of(block.getArgumentTypes(), f32))
        return true;
  return false;
}

/// A cast whose f32 side becomes `low` stays a valid cast or becomes a
/// no-op (f32 -> f16 with dtype=f16); f16 <-> bf16 is neither.
bool castStaysValid(Operation *cast, FloatType low) {
  auto retyped = [&](Type t) -> Type {
    Type elem = getElementTypeOrSelf(t);
    return elem.isF32() ? low : elem;
  };
  Type in = retyped(cast->getOperand(0).getType());
  Type out = retyped(cast->getResult(0).getType());
  if (in == out)
    return true;
  unsigned inWidth = in.getIntOrFloatBitWidth();
  unsigned outWidth = out.getIntOrFloatBitWidth();
  return isa<arith::ExtFOp>(cast) ? inWidth < outWidth : inWidth > outWidth;
}

/// Whether replacing f32 by `low` in `op`'s own types keeps it valid (its
/// regions are checked separately).
bool isRetypable(Operation *op, FloatType low, bool topLevel) {
  if (!hasF32Type(op))
    return true;
  if (isFloatCast(op))
    return castStaysValid(op, low);
  if (topLevel && op->getNumRegions() > 0)
    return isa<linalg::LinalgOp, tensor::PadOp>(op);
  StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
  if (dialect == "math" || dialect == "scf")
    return true;
  if (dialect == "tensor")
    return !isa<tensor::BitcastOp>(op);
  return isa<arith::ConstantOp, arith::AddFOp, arith::SubFOp, arith::MulFOp,
             arith::DivFOp, arith::RemFOp, arith::NegFOp, arith::MaximumFOp,
             arith::MinimumFOp, arith::MaxNumFOp, arith::MinNumFOp,
             arith::CmpFOp, arith::SelectOp, arith::SIToFPOp, arith::UIToFPOp,
             arith::FPToSIOp, arith::FPToUIOp, linalg::YieldOp,
             linalg::IndexOp>(op);
}
} // namespace

Operation *findUnretypableOp(Operation *op, FloatType low) {
  if (!isRetypable(op, low, /*topLevel=*/true))
    return op;
  Operation *found = nullptr;
  for (Region &region : op->getRegions())
    region.walk([&](Operation *inner) {
      if (isRetypable(inner, low, /*topLevel=*/false))
        return WalkResult::advance();
      found = inner;
      return WalkResult::interrupt();
    });
  return found;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (llvm::AddOverflow(a, b, sum))
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  return sum;
}

TypedAttr convertFloatConstant(Attribute value, Type type) {
  auto target = dyn_cast<FloatType>(getElementTypeOrSelf(type));
  if (!target)
    return {};
  auto convert = [&](const APFloat &v) {
    APFloat c = v;
    bool losesInfo;
    c.convert(target.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &losesInfo);
    return c;
  };
  if (auto floatAttr = dyn_cast<FloatAttr>(value))
    return FloatAttr::get(target, convert(floatAttr.getValue()));
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense || !isa<FloatType>(dense.getElementType()))
    return {};
  return dense.mapValues(
      target, [&](const APFloat &v) { return convert(v).bitcastToAPInt(); });
}

Operation *getPayloadOwner(Operation *op, Operation *root) {
  Operation *owner = op;
  for (Operation *p = op->getParentOp(); p && p != root; p = p->getParentOp())
    if (isa<linalg::LinalgOp, tensor::PadOp>(p))
      owner = p;
  return owner;
}

bool isFloatCast(Operation *op) {
  return isa<arith::ExtFOp, arith::TruncFOp>(op);
}

Block::iterator getArgumentCastPoint(Block *block) {
  auto it = block->begin();
  while (it != block->end() && isFloatCast(&*it) &&
         isa<BlockArgument>(it->getOperand(0)))
    ++it;
  return it;
}

bool isAccumulating(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalgOp.getNumReductionLoops() > 0;
}

namespace {
DictionaryAttr getReport(ModuleOp module) {
  if (auto dict = module->getAttrOfType<DictionaryAttr>(kReportAttr))
    return dict;
  return DictionaryAttr::get(module.getContext());
}

void setReportEntry(ModuleOp module, StringRef key, Attribute value) {
  NamedAttrList entries(getReport(module));
  entries.set(key, value);
  module->setAttr(kReportAttr, entries.getDictionary(module.getContext()));
}

int64_t getInt(DictionaryAttr dict, StringRef key) {
  if (auto attr = dict.getAs<IntegerAttr>(key))
    return attr.getInt();
  return 0;
}
} // namespace

void addToReport(ModuleOp module, StringRef key, int64_t delta,
                 StringRef subkey) {
  MLIRContext *ctx = module.getContext();
  Builder b(ctx);
  DictionaryAttr report = getReport(module);
  if (subkey.empty()) {
    setReportEntry(
        module, key,
        b.getI64IntegerAttr(saturatingAdd(getInt(report, key), delta)));
    return;
  }
  auto inner = report.getAs<DictionaryAttr>(key);
  NamedAttrList entries(inner ? inner : DictionaryAttr::get(ctx));
  int64_t old = inner ? getInt(inner, subkey) : 0;
  entries.set(subkey, b.getI64IntegerAttr(saturatingAdd(old, delta)));
  setReportEntry(module, key, entries.getDictionary(ctx));
}

void appendToReport(ModuleOp module, StringRef key, StringRef text) {
  MLIRContext *ctx = module.getContext();
  SmallVector<Attribute> items;
  if (auto old = getReport(module).getAs<ArrayAttr>(key))
    items.append(old.begin(), old.end());
  items.push_back(StringAttr::get(ctx, text));
  setReportEntry(module, key, ArrayAttr::get(ctx, items));
}

void setReportString(ModuleOp module, StringRef key, StringRef value) {
  setReportEntry(module, key, StringAttr::get(module.getContext(), value));
}

std::optional<double> toF32(double v) {
  llvm::APFloat f(v);
  bool losesInfo = false;
  (void)f.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  if (!f.isFinite())
    return std::nullopt;
  return f.convertToFloat();
}

} // namespace mpt
