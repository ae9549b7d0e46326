//===- PrecisionPolicyTest.cpp - Tests of the AMP op lists ------*- C++ -*-===//

#include "mpt/Transforms/PrecisionPolicy.h"
#include "mpt/Transforms/Precision.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mpt;

namespace {

TEST(PrecisionPolicy, DefaultsAreDisjointAndKnown) {
  PrecisionPolicy policy = PrecisionPolicy::getDefault();
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  for (OpClass list :
       {OpClass::Allow, OpClass::Infer, OpClass::Clear, OpClass::Deny}) {
    for (StringRef name : policy.names(list)) {
      EXPECT_TRUE(RegisteredOperationName::lookup(name, &context))
          << name.str() << " is not an op of MLIR 22";
      EXPECT_EQ(policy.lookup(name), list) << name.str();
    }
  }
  EXPECT_EQ(policy.lookup("linalg.matmul"), OpClass::Allow);
  EXPECT_EQ(policy.lookup("math.exp"), OpClass::Deny);
  EXPECT_EQ(policy.lookup("arith.addf"), OpClass::Infer);
  EXPECT_EQ(policy.lookup("linalg.transpose"), OpClass::Clear);
  EXPECT_EQ(policy.lookup("linalg.generic"), std::nullopt);
}

TEST(PrecisionPolicy, EditsAddMoveAndRemove) {
  PrecisionPolicy policy = PrecisionPolicy::getDefault();
  EXPECT_EQ(policy.edit(OpClass::Infer, "math.exp, linalg.generic"), "");
  EXPECT_EQ(policy.lookup("math.exp"), OpClass::Infer);
  EXPECT_EQ(policy.lookup("linalg.generic"), OpClass::Infer);
  EXPECT_EQ(policy.edit(OpClass::Allow, " -linalg.matmul ,"), "");
  // Removed from every list: kept f32 (reported as Ignore by lookup, deny
  // by classify).
  EXPECT_EQ(policy.lookup("linalg.matmul"), OpClass::Ignore);
  EXPECT_EQ(policy.edit(OpClass::Deny, "-math.tanh"),
            "cannot remove 'math.tanh': it is not in the deny list");
  EXPECT_EQ(policy.edit(OpClass::Deny, "exp"),
            "'exp' is not an op name; write it as <dialect>.<op>, e.g. "
            "linalg.matmul");
  EXPECT_EQ(policy.edit(OpClass::Deny, ""), "");
}

TEST(PrecisionPolicy, PolicyText) {
  PrecisionPolicy policy = PrecisionPolicy::getDefault();
  EXPECT_EQ(policy.applyPolicyText("# comment\n\nallow: linalg.generic # x\n"
                                   "deny: -math.exp\n"),
            "");
  EXPECT_EQ(policy.lookup("linalg.generic"), OpClass::Allow);
  EXPECT_EQ(policy.lookup("math.exp"), OpClass::Ignore);
  EXPECT_EQ(policy.applyPolicyText("allow: linalg.dot\npermit: arith.addf"),
            "line 2: expected 'allow:', 'infer:', 'clear:' or 'deny:' "
            "followed by op names");
  EXPECT_EQ(policy.applyPolicyText("allow linalg.dot"),
            "line 1: expected 'allow:', 'infer:', 'clear:' or 'deny:' "
            "followed by op names");
}

TEST(PrecisionPolicy, SplitOpList) {
  auto names = splitOpList(" a.b, -c.d,,e.f ");
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "a.b");
  EXPECT_EQ(names[1], "-c.d");
  EXPECT_EQ(names[2], "e.f");
  EXPECT_TRUE(splitOpList("").empty());
}

/// The default lists in docs/AutoMixedPrecision.md are the code's.
TEST(PrecisionPolicy, DocumentedListsMatch) {
  std::string path =
      std::string(MPT_SOURCE_DIR) + "/docs/AutoMixedPrecision.md";
  auto file = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(bool(file));
  StringRef text = (*file)->getBuffer();
  PrecisionPolicy policy = PrecisionPolicy::getDefault();
  std::pair<OpClass, StringRef> lists[] = {{OpClass::Allow, "allow"},
                                           {OpClass::Infer, "infer"},
                                           {OpClass::Clear, "clear"},
                                           {OpClass::Deny, "deny"}};
  for (auto [list, key] : lists) {
    std::string marker = ("<!-- list:" + key + " -->\n" + key + ": ").str();
    size_t at = text.find(marker);
    ASSERT_NE(at, StringRef::npos) << key.str();
    StringRef line = text.drop_front(at + marker.size()).split('\n').first;
    SmallVector<StringRef> documented;
    line.split(documented, ", ");
    SmallVector<StringRef> names = policy.names(list);
    ASSERT_EQ(documented.size(), names.size()) << key.str();
    for (auto [doc, name] : llvm::zip(documented, names))
      EXPECT_EQ(doc.trim('`'), name);
  }
}

TEST(Precision, ConstantRange) {
  MLIRContext context;
  auto f16 = Float16Type::get(&context);
  auto bf16 = BFloat16Type::get(&context);
  auto f32 = Float32Type::get(&context);
  auto attr = [&](double v) { return FloatAttr::get(f32, v); };
  EXPECT_EQ(constantRangeProblem(attr(65504.0), f16), "");
  EXPECT_EQ(constantRangeProblem(attr(65520.0), f16), "overflow");
  EXPECT_EQ(constantRangeProblem(attr(1e-8), f16), "underflow");
  // Subnormal in f16 (below 2^-14) also loses precision: reported.
  EXPECT_EQ(constantRangeProblem(attr(1e-6), f16), "underflow");
  EXPECT_EQ(constantRangeProblem(attr(6.103515625e-05), f16), "");
  EXPECT_EQ(constantRangeProblem(attr(0.0), f16), "");
  EXPECT_EQ(constantRangeProblem(attr(3.4e38), f16), "");
  EXPECT_EQ(constantRangeProblem(attr(1e5), bf16), "");
  EXPECT_EQ(constantRangeProblem(attr(1e-8), bf16), "");
  auto type = RankedTensorType::get({2}, f32);
  auto dense = DenseElementsAttr::get(type, ArrayRef<float>{1.0f, 1e6f});
  EXPECT_EQ(constantRangeProblem(dense, f16), "overflow");
  auto converted = dyn_cast_or_null<DenseElementsAttr>(
      convertFloatConstant(dense, RankedTensorType::get({2}, f16)));
  ASSERT_TRUE(converted);
  EXPECT_TRUE(converted.getValues<APFloat>()[1].isInfinity());
  EXPECT_EQ(converted.getValues<APFloat>()[0].convertToDouble(), 1.0);
}

} // namespace
