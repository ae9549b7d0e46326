//===- mpt-amp.cpp - Run mpt's AMP pipeline from an out-of-tree tool ------===//
//
// Usage: mpt-amp FILE [OPTIONS]: prints FILE rewritten by
// auto-mixed-precision with OPTIONS ("dtype=bf16 loss-scaling=static", …).
//
//===----------------------------------------------------------------------===//

#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    llvm::errs() << "usage: mpt-amp FILE [OPTIONS]\n";
    return 2;
  }
  mpt::registerMPTPasses();
  mlir::DialectRegistry registry;
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  mpt::registerMPTDialect(registry);
  mlir::MLIRContext context(registry);

  mpt::AutoMixedPrecisionOptions options;
  if (argc == 3 && mlir::failed(options.parseFromString(argv[2])))
    return 2;
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(argv[1], &context);
  mlir::PassManager pm(&context);
  mpt::buildAutoMixedPrecisionPipeline(pm, options);
  if (!module || mlir::failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
