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

int main(int argc, char **argv) {
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
      argc, argv, "mpt: mixed-precision training compiler driver\n", registry));
}
