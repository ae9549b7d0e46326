//===- RolesTest.cpp - Tests of the role helpers ----------------*- C++ -*-===//

#include "mpt/Dialect/MPT/IR/Roles.h"
#include "mpt/Dialect/MPT/IR/MPTDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mpt;

namespace {

class RolesTest : public ::testing::Test {
protected:
  RolesTest() {
    DialectRegistry registry;
    registry.insert<func::FuncDialect, arith::ArithDialect>();
    registerMPTDialect(registry);
    context.appendDialectRegistry(registry);
  }

  func::FuncOp parseFunc(StringRef text) {
    module = parseSourceString<ModuleOp>(text, &context);
    if (!module)
      return {};
    return *module->getOps<func::FuncOp>().begin();
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

TEST(RoleEnum, NamesRoundTrip) {
  for (StringRef name : {"param", "input", "loss_grad", "loss", "grad",
                         "loss_scale", "growth_tracker", "hysteresis",
                         "found_inf", "param_out", "opt_state", "param_low"}) {
    std::optional<Role> role = symbolizeRole(name);
    ASSERT_TRUE(role.has_value()) << name.str();
    EXPECT_EQ(stringifyRole(*role), name);
  }
  EXPECT_FALSE(symbolizeRole("weight").has_value());
  EXPECT_FALSE(symbolizeRole("").has_value());
}

TEST(RoleEnum, Positions) {
  EXPECT_TRUE(isArgumentRole(Role::Param));
  EXPECT_TRUE(isArgumentRole(Role::Input));
  EXPECT_TRUE(isArgumentRole(Role::LossGrad));
  EXPECT_FALSE(isArgumentRole(Role::Loss));
  EXPECT_FALSE(isArgumentRole(Role::Grad));
  EXPECT_TRUE(isArgumentRole(Role::LossScale));
  EXPECT_TRUE(isResultRole(Role::LossScale));
  EXPECT_TRUE(isResultRole(Role::FoundInf));
  EXPECT_FALSE(isArgumentRole(Role::FoundInf));
  EXPECT_TRUE(isStateRole(Role::OptState));
  EXPECT_FALSE(isStateRole(Role::ParamOut));
}

TEST_F(RolesTest, ReadsRolesOfAStep) {
  func::FuncOp fn = parseFunc(R"mlir(
    func.func @step(%w: tensor<3xf32> {mpt.role = "param"},
                    %x: tensor<3xf32> {mpt.role = "input"},
                    %s: tensor<f32> {mpt.role = "loss_grad"},
                    %other: tensor<3xf32>)
        -> (tensor<f32> {mpt.role = "loss"},
            tensor<3xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
            tensor<3xf32>) {
      return %s, %w, %x : tensor<f32>, tensor<3xf32>, tensor<3xf32>
    })mlir");
  ASSERT_TRUE(fn);
  EXPECT_EQ(getArgumentRole(fn, 0), Role::Param);
  EXPECT_EQ(getArgumentRole(fn, 1), Role::Input);
  EXPECT_EQ(getArgumentRole(fn, 2), Role::LossGrad);
  EXPECT_EQ(getArgumentRole(fn, 3), std::nullopt);
  EXPECT_EQ(getResultRole(fn, 0), Role::Loss);
  EXPECT_EQ(getResultRole(fn, 1), Role::Grad);
  EXPECT_EQ(getResultRole(fn, 2), std::nullopt);
  EXPECT_EQ(getGradOf(fn, 1), 0);
  EXPECT_EQ(getGradOf(fn, 0), std::nullopt);
  EXPECT_TRUE(hasTrainingRoles(fn));
}

TEST_F(RolesTest, PlainFunctionHasNoRoles) {
  func::FuncOp fn = parseFunc(R"mlir(
    func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
      return %a : tensor<3xf32>
    })mlir");
  ASSERT_TRUE(fn);
  EXPECT_FALSE(hasTrainingRoles(fn));
}

TEST_F(RolesTest, InvalidRolesFailToVerify) {
  // The parser verifies: an unknown role must not produce a module.
  context.getDiagEngine().registerHandler([](Diagnostic &) {});
  EXPECT_FALSE(parseFunc(R"mlir(
    func.func @f(%a: tensor<3xf32> {mpt.role = "weights"}) {
      return
    })mlir"));
}

} // namespace
