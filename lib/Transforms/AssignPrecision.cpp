//===- AssignPrecision.cpp - Decide which ops run in 16 bits --------------===//
//
// Colours ops low (16-bit) or f32 by the op lists, in the spirit of
// TensorFlow's AutoMixedPrecision. See the pass description in Passes.td and
// docs/AutoMixedPrecision.md.
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Transforms/Passes.h"
#include "mpt/Transforms/Precision.h"
#include "mpt/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mpt {
#define GEN_PASS_DEF_ASSIGNPRECISION
#include "mpt/Transforms/Passes.h.inc"
} // namespace mpt

using namespace mlir;
using namespace mpt;

namespace {

enum class Color { Unset, Low, F32 };

struct OpInfo {
  OpClass cls = OpClass::Ignore;
  Color color = Color::Unset;
  StringRef reason;
  bool fedByLow = false;
  bool feedsLow = false;
};

/// Counts for the report, summed over functions.
struct Counts {
  int64_t seen = 0;
  llvm::StringMap<int64_t> lowByClass, f32ByReason;
  SmallVector<std::string> constants;
};

/// Colours the ops of one function.
class Painter {
public:
  Painter(FunctionOpInterface fn, const PrecisionPolicy &policy, FloatType low)
      : fn(fn), policy(policy), low(low) {}

  LogicalResult run(Counts &counts) {
    collect();
    if (failed(seed()))
      return failure();
    markLoss();
    taintFromDeny();
    markBetweenLow();
    spreadThroughClear();
    finishReductions();
    write(counts);
    return success();
  }

private:
  /// Top-level ops in program order; payloads belong to their owner.
  void collect() {
    fn->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == fn.getOperation())
        return WalkResult::advance();
      ops.push_back(op);
      info[op].cls = policy.classify(op);
      if (isa<linalg::LinalgOp, tensor::PadOp>(op))
        return WalkResult::skip();
      return WalkResult::advance();
    });
  }

  void setColor(Operation *op, Color color, StringRef reason) {
    OpInfo &i = info[op];
    i.color = color;
    i.reason = reason;
  }

  /// Fixed decisions: overrides, allow, deny, boundaries, constants.
  LogicalResult seed() {
    keptForConstants = findOpsKeptF32ForConstants(fn, low);
    for (Operation *op : ops) {
      OpInfo &i = info[op];
      if (i.cls == OpClass::Ignore)
        continue;
      if (auto attr = op->getAttrOfType<StringAttr>(kPrecisionAttr)) {
        if (attr.getValue() == "f32") {
          setColor(op, Color::F32, "override");
          continue;
        }
        if (attr.getValue() != stringify(low))
          return op->emitOpError()
                 << "has mpt.precision = \"" << attr.getValue()
                 << "\" but the pass converts to " << stringify(low)
                 << "; use \"f32\" or \"" << stringify(low)
                 << "\", or run with dtype=" << attr.getValue();
        if (Operation *bad = getUnretypable(op))
          return op->emitOpError()
                 << "has mpt.precision = \"" << attr.getValue() << "\" but "
                 << describe(op, bad) << " has no " << stringify(low)
                 << " form; use \"f32\"";
        setColor(op, Color::Low, "override");
        continue;
      }
      switch (i.cls) {
      case OpClass::Allow:
        setColor(op, Color::Low, "allow");
        break;
      case OpClass::Deny:
        setColor(op, Color::F32,
                 policy.lookup(op->getName().getStringRef())
                     ? "deny list"
                     : "not in any list");
        break;
      case OpClass::Boundary:
        setColor(op, Color::F32, "boundary (loop, branch, call, cast)");
        break;
      default:
        break;
      }
      if (i.cls != OpClass::Deny && i.cls != OpClass::Boundary)
        keepF32IfNeeded(op);
    }
    return success();
  }

  static StringRef stringify(FloatType type) {
    return type.isF16() ? "f16" : "bf16";
  }

  /// An op that 16 bits would retype, if any part of it cannot be.
  Operation *getUnretypable(Operation *op) {
    if (isAccumulating(op))
      return nullptr;
    return findUnretypableOp(op, low);
  }

  static std::string describe(Operation *op, Operation *bad) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "'" << bad->getName() << "'";
    if (bad != op)
      os << " in its body";
    return text;
  }

  static std::string where(Operation *op) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << op->getName() << " at ";
    if (auto fileLoc = dyn_cast<FileLineColLoc>(op->getLoc()))
      os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
         << fileLoc.getColumn();
    else
      os << op->getLoc();
    return text;
  }

  /// An op that reads a constant its 16-bit form would get wrong (see
  /// findOpsKeptF32ForConstants), or whose body cannot be retyped, stays
  /// f32. Neither makes its users f32: the op is not sensitive.
  void keepF32IfNeeded(Operation *op) {
    if (auto it = keptForConstants.find(op); it != keptForConstants.end()) {
      setColor(op, Color::F32, "constant out of range");
      std::string note = where(op) + ": ";
      if (!isa<arith::ConstantOp>(op))
        note += "reads a constant with ";
      note += describeRangeProblems(it->second) + " in " + stringify(low).str();
      constantNotes.push_back(note);
      return;
    }
    if (Operation *bad = getUnretypable(op)) {
      setColor(op, Color::F32, "cannot be retyped");
      op->emitRemark() << "kept f32: " << describe(op, bad) << " has no "
                       << stringify(low) << " form";
    }
  }

  /// The op producing the loss is numerically sensitive: kept f32.
  void markLoss() {
    Block &entry = fn.getFunctionBody().front();
    auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
    if (!ret)
      return;
    for (unsigned i = 0, e = fn.getNumResults(); i < e; ++i) {
      if (getResultRole(fn, i) != Role::Loss)
        continue;
      Operation *def = ret.getOperand(i).getDefiningOp();
      if (!def || !info.count(def) || info[def].reason == "override" ||
          info[def].cls == OpClass::Ignore)
        continue;
      setColor(def, Color::F32, "loss");
    }
  }

  static bool taints(StringRef reason) {
    return reason == "deny list" || reason == "not in any list" ||
           reason == "loss";
  }

  static bool follows(OpClass cls) {
    return cls == OpClass::Infer || cls == OpClass::Clear ||
           cls == OpClass::Reduction;
  }

  /// Calls fn(owner, operand number or -1) for each use of op's float
  /// results; uses inside payloads count for their owner.
  template <typename Fn> void forEachUser(Operation *op, Fn fn) {
    for (Value result : op->getResults()) {
      if (!isF32Like(result.getType()))
        continue;
      for (OpOperand &use : result.getUses()) {
        Operation *owner = getPayloadOwner(use.getOwner(), this->fn);
        bool direct = owner == use.getOwner();
        fn(owner, direct ? use.getOperandNumber() : -1);
      }
    }
  }

  /// Walks forward along float uses from `work`: a user for which
  /// `enter(user, info)` returns true (it marks the user) is walked from.
  template <typename Enter>
  void spreadForward(SmallVector<Operation *> work, Enter enter) {
    while (!work.empty()) {
      Operation *op = work.pop_back_val();
      forEachUser(op, [&](Operation *user, int) {
        auto it = info.find(user);
        if (it != info.end() && enter(user, it->second))
          work.push_back(user);
      });
    }
  }

  /// Deny spreads forward through infer, clear and reduction ops.
  void taintFromDeny() {
    SmallVector<Operation *> work;
    for (Operation *op : ops)
      if (info[op].color == Color::F32 && taints(info[op].reason))
        work.push_back(op);
    spreadForward(work, [&](Operation *user, OpInfo &i) {
      if (i.color != Color::Unset || !follows(i.cls))
        return false;
      setColor(user, Color::F32, "downstream of a deny op");
      return true;
    });
  }

  bool producesLow(Operation *op) { return info[op].color == Color::Low; }

  /// Infer/clear ops between a 16-bit producer and a 16-bit consumer.
  void markBetweenLow() {
    SmallVector<Operation *> work;
    for (Operation *op : ops)
      if (producesLow(op))
        work.push_back(op);
    spreadForward(work, [&](Operation *, OpInfo &i) {
      if (i.color != Color::Unset || i.fedByLow ||
          (i.cls != OpClass::Infer && i.cls != OpClass::Clear))
        return false;
      i.fedByLow = true;
      return true;
    });
    work.clear();
    for (Operation *op : ops)
      if (producesLow(op))
        pushLowInputs(op, work);
    while (!work.empty()) {
      Operation *op = work.pop_back_val();
      OpInfo &i = info[op];
      if (i.feedsLow)
        continue;
      i.feedsLow = true;
      pushLowInputs(op, work);
    }
    for (Operation *op : ops) {
      OpInfo &i = info[op];
      if (i.color == Color::Unset && i.fedByLow && i.feedsLow)
        setColor(op, Color::Low, "between 16-bit ops");
    }
  }

  /// Producers of the operands that `op` reads in 16 bits and that may
  /// follow it.
  void pushLowInputs(Operation *op, SmallVectorImpl<Operation *> &work) {
    unsigned limit = op->getNumOperands();
    if (isAccumulating(op))
      limit = cast<linalg::LinalgOp>(op).getNumDpsInputs();
    for (unsigned k = 0; k < limit; ++k) {
      Operation *def = op->getOperand(k).getDefiningOp();
      auto it = def ? info.find(def) : info.end();
      if (it == info.end() || it->second.color != Color::Unset ||
          it->second.feedsLow ||
          (it->second.cls != OpClass::Infer &&
           it->second.cls != OpClass::Clear))
        continue;
      work.push_back(def);
    }
  }

  /// Whether `user` takes operand `index` in 16 bits.
  bool wantsLow(Operation *user, int index) {
    auto it = info.find(user);
    if (it == info.end() || it->second.color != Color::Low || index < 0)
      return false;
    if (isAccumulating(user))
      return index < cast<linalg::LinalgOp>(user).getNumDpsInputs();
    return true;
  }

  /// A clear op whose users all take 16 bits moves its cast upstream.
  void spreadThroughClear() {
    for (Operation *op : llvm::reverse(ops)) {
      OpInfo &i = info[op];
      if (i.color != Color::Unset || i.cls != OpClass::Clear)
        continue;
      bool any = false, all = true;
      forEachUser(op, [&](Operation *user, int index) {
        any = true;
        all &= wantsLow(user, index);
      });
      if (any && all)
        setColor(op, Color::Low, "users take 16 bits");
    }
  }

  /// A reduction reads 16 bits when all the inputs its body reads are
  /// 16-bit values.
  void finishReductions() {
    for (Operation *op : ops) {
      OpInfo &i = info[op];
      if (i.cls == OpClass::Ignore || i.color != Color::Unset)
        continue;
      if (i.cls == OpClass::Reduction && readsOnlyLow(op)) {
        setColor(op, Color::Low, "16-bit input");
        continue;
      }
      setColor(op, Color::F32, "no 16-bit neighbour");
    }
  }

  bool readsOnlyLow(Operation *op) {
    auto linalgOp = cast<linalg::LinalgOp>(op);
    for (OpOperand *in : linalgOp.getDpsInputOperands()) {
      // An input the body never reads (a pooling window) does not count.
      if (!isF32Like(in->get().getType()) ||
          linalgOp.getMatchingBlockArgument(in).use_empty())
        continue;
      Operation *def = in->get().getDefiningOp();
      if (!def || !info.count(def) || info[def].color != Color::Low ||
          isAccumulating(def) || info[def].cls == OpClass::Allow)
        return false;
    }
    return true;
  }

  void write(Counts &counts) {
    MLIRContext *ctx = fn.getContext();
    auto lowAttr = StringAttr::get(ctx, stringify(low));
    auto f32Attr = StringAttr::get(ctx, "f32");
    for (Operation *op : ops) {
      OpInfo &i = info[op];
      if (i.cls == OpClass::Ignore)
        continue;
      if (op->hasTrait<OpTrait::IsTerminator>())
        continue;
      ++counts.seen;
      if (i.color == Color::Low) {
        op->setAttr(kAssignedAttr, lowAttr);
        ++counts.lowByClass[stringifyOpClass(i.cls)];
      } else {
        op->setAttr(kAssignedAttr, f32Attr);
        ++counts.f32ByReason[i.reason];
      }
    }
    for (std::string &note : constantNotes)
      counts.constants.push_back(std::move(note));
  }

  FunctionOpInterface fn;
  const PrecisionPolicy &policy;
  FloatType low;
  SmallVector<Operation *> ops;
  DenseMap<Operation *, OpInfo> info;
  SmallVector<std::string> constantNotes;
  llvm::MapVector<Operation *, unsigned> keptForConstants;
};

struct AssignPrecisionPass
    : public mpt::impl::AssignPrecisionBase<AssignPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<FloatType> low = parseLowType(&getContext(), dtype);
    if (!low) {
      module.emitError() << "mpt-assign-precision: unknown dtype '" << dtype
                         << "'; expected f16 or bf16";
      return signalPassFailure();
    }
    FailureOr<PrecisionPolicy> policy = buildPolicy(module);
    if (failed(policy))
      return signalPassFailure();
    Counts counts;
    for (auto fn : module.getOps<FunctionOpInterface>()) {
      if (fn.isExternal() || skipFunction(fn))
        continue;
      int64_t before = counts.seen;
      if (failed(Painter(fn, *policy, *low).run(counts)))
        return signalPassFailure();
      if (counts.seen == before)
        fn.emitRemark() << "nothing to convert: no op reads or writes f32 "
                           "values (f64, integer and 16-bit ops are left as "
                           "they are)";
    }
    record(module, counts, dtype);
  }

  /// `mpt.precision = "f32"` on a function leaves it alone.
  bool skipFunction(FunctionOpInterface fn) {
    auto attr = fn->getAttrOfType<StringAttr>(kPrecisionAttr);
    return attr && attr.getValue() == "f32";
  }

  FailureOr<PrecisionPolicy> buildPolicy(ModuleOp module) {
    PrecisionPolicy policy = PrecisionPolicy::getDefault();
    if (!policyFile.empty()) {
      std::string error;
      auto file = llvm::MemoryBuffer::getFile(policyFile);
      if (!file)
        return module.emitError()
               << "mpt-assign-precision: cannot read policy file '"
               << policyFile << "': " << file.getError().message();
      error = policy.applyPolicyText((*file)->getBuffer());
      if (!error.empty())
        return module.emitError() << "mpt-assign-precision: policy file '"
                                  << policyFile << "', " << error;
    }
    std::pair<OpClass, const std::string &> edits[] = {{OpClass::Allow, allow},
                                                       {OpClass::Infer, infer},
                                                       {OpClass::Clear, clear},
                                                       {OpClass::Deny, deny}};
    // Removals first, so that "infer=math.exp deny=-math.exp" moves an op.
    for (bool removals : {true, false}) {
      for (auto [list, text] : edits) {
        std::string selected = selectEdits(text, removals);
        std::string error = checkNames(selected);
        if (error.empty())
          error = policy.edit(list, selected);
        if (!error.empty())
          return module.emitError() << "mpt-assign-precision: option '"
                                    << stringifyOpClass(list) << "': " << error;
      }
    }
    return policy;
  }

  /// The removals ("-name") or the additions of a list option.
  static std::string selectEdits(StringRef text, bool removals) {
    std::string selected;
    for (const std::string &entry : splitOpList(text)) {
      if (StringRef(entry).starts_with("-") != removals)
        continue;
      selected += (selected.empty() ? "" : ",") + entry;
    }
    return selected;
  }

  /// Names must be ops of a dialect this tool knows.
  std::string checkNames(StringRef text) {
    for (const std::string &entry : splitOpList(text)) {
      StringRef name = StringRef(entry).ltrim('-');
      if (!name.contains('.'))
        continue; // PrecisionPolicy::edit explains the form of a name.
      StringRef dialect = name.split('.').first;
      getContext().getOrLoadDialect(dialect);
      if (!RegisteredOperationName::lookup(name, &getContext()))
        return "unknown op '" + name.str() + "'";
    }
    return "";
  }

  void record(ModuleOp module, const Counts &counts, StringRef dtypeName) {
    setReportString(module, "dtype", dtypeName);
    addToReport(module, "ops_seen", counts.seen);
    for (const auto &entry : counts.lowByClass)
      addToReport(module, "ops_low", entry.second, entry.first());
    for (const auto &entry : counts.f32ByReason)
      addToReport(module, "ops_f32", entry.second, entry.first());
    for (const std::string &note : counts.constants)
      appendToReport(module, "constants_kept_f32", note);
    int64_t lowTotal = 0;
    for (const auto &entry : counts.lowByClass)
      lowTotal += entry.second;
    numSeen += counts.seen;
    numLow += lowTotal;
    numF32 += counts.seen - lowTotal;
  }
};
} // namespace
