//===- mpt-opt.cpp - mlir-opt with mpt's dialect, passes and pipelines ----===//

#include "mpt/Conversion/ContractionToMMA/Passes.h"
#include "mpt/Conversion/StepToGPU/Passes.h"
#include "mpt/Dialect/MPT/IR/MPTDialect.h"
#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

/// Whether `arg` is the flag `name` (one or two dashes), with or without a
/// value.
static bool isFlag(llvm::StringRef arg, llvm::StringRef name) {
  arg = arg.ltrim('-');
  return arg == name || arg.starts_with((name + "=").str());
}

int main(int argc, char **argv) {
  // The pass manager verifies the IR after the last pass (-verify-each, the
  // default) and the parser after parsing, so printing it need not verify
  // it again: on a 100k-op step that second verification is 2.3 s. Not when
  // the caller turned verification off or chose for the printer.
  llvm::SmallVector<char *> args(argv, argv + argc);
  static char assumeVerified[] = "--mlir-print-assume-verified";
  bool verifies = llvm::none_of(args, [](llvm::StringRef arg) {
    return isFlag(arg, "verify-each") ||
           isFlag(arg, "mlir-print-assume-verified");
  });
  if (verifies)
    args.push_back(assumeVerified);
  argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  argv = args.data();

  mlir::registerAllPasses();
  mpt::registerMPTPasses();
  mpt::registerContractionToMMAPasses();
  mpt::registerStepToGPUPasses();
  mpt::registerPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary needs the GPU -> LLVM IR translations.
  mlir::registerAllToLLVMIRTranslations(registry);
  mpt::registerMPTDialect(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "mpt: mixed-precision training compiler driver\n\n"
      "The result is printed without a second verification when the passes\n"
      "verified it (no -verify-each given); pass -verify-each=true or\n"
      "-mlir-print-assume-verified=false to have the printer verify too.\n",
      registry));
}
