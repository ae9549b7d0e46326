//===- PrecisionPolicy.cpp - Op lists of automatic mixed precision --------===//

#include "mpt/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace mpt {

namespace {
// Default lists. Structured linalg ops that are not named here are classified
// by structure (see classifyLinalg).
const char *const kAllow[] = {"linalg.matmul",
                              "linalg.batch_matmul",
                              "linalg.batch_reduce_matmul",
                              "linalg.matvec",
                              "linalg.vecmat",
                              "linalg.batch_matvec",
                              "linalg.batch_vecmat",
                              "linalg.dot",
                              "linalg.contract",
                              "linalg.mmt4d",
                              "linalg.batch_mmt4d",
                              "linalg.conv_1d",
                              "linalg.conv_2d",
                              "linalg.conv_3d",
                              "linalg.conv_1d_nwc_wcf",
                              "linalg.conv_1d_ncw_fcw",
                              "linalg.conv_2d_nhwc_hwcf",
                              "linalg.conv_2d_nhwc_fhwc",
                              "linalg.conv_2d_nchw_fchw",
                              "linalg.conv_2d_ngchw_fgchw",
                              "linalg.conv_2d_ngchw_gfchw",
                              "linalg.conv_2d_nhwgc_gfhwc",
                              "linalg.conv_3d_ndhwc_dhwcf",
                              "linalg.conv_3d_ncdhw_fcdhw",
                              "linalg.depthwise_conv_1d_nwc_wc",
                              "linalg.depthwise_conv_1d_ncw_cw",
                              "linalg.depthwise_conv_1d_nwc_wcm",
                              "linalg.depthwise_conv_2d_nhwc_hwc",
                              "linalg.depthwise_conv_2d_nchw_chw",
                              "linalg.depthwise_conv_2d_nhwc_hwcm",
                              "linalg.depthwise_conv_3d_ndhwc_dhwc",
                              "linalg.depthwise_conv_3d_ncdhw_cdhw",
                              "linalg.depthwise_conv_3d_ndhwc_dhwcm"};
const char *const kInfer[] = {
    "arith.addf",     "arith.subf",    "arith.mulf",     "arith.divf",
    "arith.negf",     "arith.remf",    "arith.maximumf", "arith.minimumf",
    "arith.maxnumf",  "arith.minnumf", "arith.cmpf",     "arith.select",
    "math.tanh",      "math.erf",      "math.absf",      "math.copysign",
    "math.fma",       "math.floor",    "math.ceil",      "math.round",
    "math.roundeven", "math.trunc",    "linalg.add",     "linalg.sub",
    "linalg.mul",     "linalg.div",    "linalg.max",     "linalg.min",
    "linalg.abs",     "linalg.negf",   "linalg.tanh",    "linalg.erf",
    "linalg.select",  "linalg.floor",  "linalg.ceil",    "linalg.round",
    "linalg.square"};
const char *const kClear[] = {"arith.constant",
                              "tensor.empty",
                              "linalg.fill",
                              "linalg.copy",
                              "linalg.transpose",
                              "linalg.broadcast",
                              "tensor.collapse_shape",
                              "tensor.expand_shape",
                              "tensor.reshape",
                              "tensor.extract_slice",
                              "tensor.insert_slice",
                              "tensor.concat",
                              "tensor.pad",
                              "tensor.cast",
                              "tensor.extract",
                              "tensor.insert",
                              "tensor.from_elements",
                              "tensor.splat"};
const char *const kDeny[] = {
    "math.exp",     "math.exp2",   "math.expm1",       "math.log",
    "math.log1p",   "math.log2",   "math.log10",       "math.powf",
    "math.fpowi",   "math.rsqrt",  "math.sqrt",        "math.cbrt",
    "math.erfc",    "math.sin",    "math.cos",         "math.tan",
    "math.asin",    "math.acos",   "math.atan",        "math.atan2",
    "math.sinh",    "math.cosh",   "math.asinh",       "math.acosh",
    "math.atanh",   "linalg.exp",  "linalg.log",       "linalg.sqrt",
    "linalg.rsqrt", "linalg.powf", "linalg.reciprocal"};

/// The marker of a name removed from every list: such ops are kept f32.
constexpr OpClass kRemoved = OpClass::Ignore;

bool isF32Like(Type type) { return getElementTypeOrSelf(type).isF32(); }

bool touchesF32(Operation *op) {
  return llvm::any_of(op->getResultTypes(), isF32Like) ||
         llvm::any_of(op->getOperandTypes(), isF32Like);
}

/// Follows arith.extf from `v` back to the value it widens.
Value stripExt(Value v) {
  while (auto ext = v.getDefiningOp<arith::ExtFOp>())
    v = ext.getIn();
  return v;
}

/// Whether a linalg body is `yield(out + a * b)` with a and b (maybe widened)
/// input block arguments: a contraction or convolution, whatever its maps.
bool isMulAccBody(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  auto isInput = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(stripExt(v));
    return arg && arg.getOwner() == body &&
           arg.getArgNumber() < static_cast<unsigned>(op.getNumDpsInputs());
  };
  auto isOut = [&](Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == body &&
           arg.getArgNumber() >= static_cast<unsigned>(op.getNumDpsInputs());
  };
  for (auto [acc, prod] : {std::pair(add.getLhs(), add.getRhs()),
                           std::pair(add.getRhs(), add.getLhs())}) {
    auto mul = prod.getDefiningOp<arith::MulFOp>();
    if (isOut(acc) && mul && isInput(mul.getLhs()) && isInput(mul.getRhs()))
      return true;
  }
  return false;
}
} // namespace

StringRef stringifyOpClass(OpClass cls) {
  switch (cls) {
  case OpClass::Allow:
    return "allow";
  case OpClass::Infer:
    return "infer";
  case OpClass::Clear:
    return "clear";
  case OpClass::Deny:
    return "deny";
  case OpClass::Reduction:
    return "reduction";
  case OpClass::Boundary:
    return "boundary";
  case OpClass::Ignore:
    return "ignore";
  }
  llvm_unreachable("covered switch");
}

PrecisionPolicy PrecisionPolicy::getDefault() {
  PrecisionPolicy policy;
  for (const char *name : kAllow)
    policy.lists[name] = OpClass::Allow;
  for (const char *name : kInfer)
    policy.lists[name] = OpClass::Infer;
  for (const char *name : kClear)
    policy.lists[name] = OpClass::Clear;
  for (const char *name : kDeny)
    policy.lists[name] = OpClass::Deny;
  return policy;
}

SmallVector<std::string> splitOpList(StringRef text) {
  SmallVector<StringRef> parts;
  text.split(parts, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  SmallVector<std::string> names;
  for (StringRef part : parts)
    if (!part.trim().empty())
      names.push_back(part.trim().str());
  return names;
}

std::string PrecisionPolicy::edit(OpClass list, StringRef edits) {
  for (const std::string &entry : splitOpList(edits)) {
    StringRef name = entry;
    bool remove = name.consume_front("-");
    if (!name.contains('.'))
      return "'" + name.str() +
             "' is not an op name; write it as <dialect>.<op>, e.g. "
             "linalg.matmul";
    if (!remove) {
      lists[name] = list;
      continue;
    }
    auto it = lists.find(name);
    if (it == lists.end() || it->second != list)
      return "cannot remove '" + name.str() + "': it is not in the " +
             stringifyOpClass(list).str() + " list";
    it->second = kRemoved;
  }
  return "";
}

std::string PrecisionPolicy::applyPolicyText(StringRef text) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (auto [index, rawLine] : llvm::enumerate(lines)) {
    StringRef line = rawLine.split('#').first.trim();
    if (line.empty())
      continue;
    auto [key, value] = line.split(':');
    std::optional<OpClass> list =
        llvm::StringSwitch<std::optional<OpClass>>(key.trim())
            .Case("allow", OpClass::Allow)
            .Case("infer", OpClass::Infer)
            .Case("clear", OpClass::Clear)
            .Case("deny", OpClass::Deny)
            .Default(std::nullopt);
    std::string where = "line " + std::to_string(index + 1) + ": ";
    if (!list || !line.contains(':'))
      return where + "expected 'allow:', 'infer:', 'clear:' or 'deny:' "
                     "followed by op names";
    std::string error = edit(*list, value);
    if (!error.empty())
      return where + error;
  }
  return "";
}

std::optional<OpClass> PrecisionPolicy::lookup(StringRef opName) const {
  auto it = lists.find(opName);
  if (it == lists.end())
    return std::nullopt;
  return it->second;
}

SmallVector<StringRef> PrecisionPolicy::names(OpClass list) const {
  SmallVector<StringRef> result;
  for (const auto &entry : lists)
    if (entry.second == list)
      result.push_back(entry.first());
  llvm::sort(result);
  return result;
}

OpClass PrecisionPolicy::classify(Operation *op) const {
  if (!touchesF32(op))
    return OpClass::Ignore;
  if (std::optional<OpClass> listed = lookup(op->getName().getStringRef()))
    return *listed == kRemoved ? OpClass::Deny : *listed;
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    if (linalgOp.getNumReductionLoops() > 0)
      return isMulAccBody(linalgOp) ? OpClass::Allow : OpClass::Reduction;
    // An elementwise body is as sensitive as its most sensitive op.
    OpClass cls = OpClass::Infer;
    linalgOp.getBlock()->walk([&](Operation *inner) {
      std::optional<OpClass> listed = lookup(inner->getName().getStringRef());
      if (listed == OpClass::Deny || listed == kRemoved)
        cls = OpClass::Deny;
    });
    return cls;
  }
  if (op->getNumRegions() > 0 || op->hasTrait<OpTrait::IsTerminator>() ||
      isa<arith::ExtFOp, arith::TruncFOp, CallOpInterface>(op) ||
      op->getDialect() == op->getContext()->getLoadedDialect("mpt"))
    return OpClass::Boundary;
  // Reads f32 but makes no float (tensor.dim, arith.fptosi): nothing to
  // decide; a 16-bit operand is widened for it.
  if (!llvm::any_of(op->getResultTypes(), isF32Like))
    return OpClass::Ignore;
  // Not in any list: kept f32, as TensorFlow's AutoMixedPrecision does.
  return OpClass::Deny;
}

} // namespace mpt
