//===- Precision.cpp - Helpers shared by the precision passes -------------===//

#include "mpt/Transforms/Precision.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include <cmath>

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
/// bounds such as FLT_MAX in a ReLU, masks): it becomes +-inf, which keeps
/// min/max/select semantics.
constexpr double kInfinitySentinel = 1e38;

StringRef valueProblem(const APFloat &value, FloatType target) {
  if (value.isNaN() || value.isInfinity() || value.isZero())
    return "";
  if (std::abs(value.convertToDouble()) >= kInfinitySentinel)
    return "";
  APFloat converted = value;
  bool losesInfo;
  converted.convert(target.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
  if (converted.isInfinity())
    return "overflow";
  if (converted.isZero() || converted.isDenormal())
    return "underflow";
  return "";
}
} // namespace

StringRef constantRangeProblem(Attribute value, FloatType target) {
  if (auto floatAttr = dyn_cast<FloatAttr>(value))
    return valueProblem(floatAttr.getValue(), target);
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense || !isa<FloatType>(dense.getElementType()))
    return "";
  if (dense.isSplat())
    return valueProblem(dense.getSplatValue<APFloat>(), target);
  for (APFloat element : dense.getValues<APFloat>()) {
    StringRef problem = valueProblem(element, target);
    if (!problem.empty())
      return problem;
  }
  return "";
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
    setReportEntry(module, key,
                   b.getI64IntegerAttr(getInt(report, key) + delta));
    return;
  }
  auto inner = report.getAs<DictionaryAttr>(key);
  NamedAttrList entries(inner ? inner : DictionaryAttr::get(ctx));
  int64_t old = inner ? getInt(inner, subkey) : 0;
  entries.set(subkey, b.getI64IntegerAttr(old + delta));
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

} // namespace mpt
