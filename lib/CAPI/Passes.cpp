//===- Passes.cpp - C API: register mpt's passes and pipelines --*- C++ -*-===//

#include "mpt-c/Passes.h"
#include "mpt/Conversion/ContractionToMMA/Passes.h"
#include "mpt/Conversion/StepToGPU/Passes.h"
#include "mpt/Pipelines/Pipelines.h"
#include "mpt/Transforms/Passes.h"

void mptRegisterPasses(void) {
  // The registry rejects a pipeline registered twice, so register once.
  static const bool registered = [] {
    mpt::registerMPTPasses();
    mpt::registerContractionToMMAPasses();
    mpt::registerStepToGPUPasses();
    mpt::registerPipelines();
    return true;
  }();
  (void)registered;
}
