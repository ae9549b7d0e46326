//===- Export.cpp - The hand-off pipeline mpt-export ----------*- C++ -*-===//
//
// mpt runs before IREE (which links its own LLVM, so mpt cannot run inside
// it): the hand-off is upstream linalg-on-tensors IR with nothing of the mpt
// dialect left, neither ops nor attributes. See docs/Integration.md.
//
//===----------------------------------------------------------------------===//

#include "mpt/Pipelines/Export.h"
#include "mpt/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace mpt {

void buildExportPipeline(OpPassManager &pm, const ExportOptions &options) {
  pm.addPass(createLowerMPTOps());
  StripDialectOptions strip;
  strip.keepRoles = options.keepRoles;
  pm.addPass(createStripDialect(strip));
}

void registerExportPipeline() {
  PassPipelineRegistration<ExportOptions>(
      "mpt-export",
      "Turn a (mixed-precision) step into plain upstream IR for another "
      "MLIR compiler such as IREE: mpt ops lowered (mpt-lower-ops), mpt "
      "attributes removed (mpt-strip-dialect); stays on tensors",
      buildExportPipeline);
}

} // namespace mpt
