//===- FakeCudaDriver.h - A scriptable CUDA driver for tests ----*- C++ -*-===//
//
// The runtime's unit tests link its objects against this file's definitions
// of the driver functions it calls instead of libcuda: every call is
// recorded, any call can be made to fail with a chosen CUresult, and the
// arguments that matter (launch shapes, attributes, tensor map fields) are
// kept for the tests to check. "Device memory" is host memory.
//
//===----------------------------------------------------------------------===//

#ifndef MPT_UNITTESTS_FAKECUDADRIVER_H
#define MPT_UNITTESTS_FAKECUDADRIVER_H

#include <cuda.h>

#include <map>
#include <string>
#include <vector>

namespace fake {

struct Launch {
  CUfunction function = nullptr;
  unsigned grid[3] = {0, 0, 0};
  unsigned block[3] = {0, 0, 0};
  unsigned sharedBytes = 0;
  CUstream stream = nullptr;
  unsigned cluster[3] = {0, 0, 0};
};

struct TensorMapEncoding {
  CUtensorMapDataType dataType = CU_TENSOR_MAP_DATA_TYPE_UINT8;
  unsigned rank = 0;
  void *address = nullptr;
  std::vector<cuuint64_t> globalDim, globalStrides;
  std::vector<cuuint32_t> boxDim, elementStrides;
  CUtensorMapSwizzle swizzle = CU_TENSOR_MAP_SWIZZLE_NONE;
};

struct Driver {
  /// Calls (by name, as in the runtime's messages) that fail, and how.
  std::map<std::string, CUresult> failures;
  /// Every call made since the last reset.
  std::vector<std::string> calls;
  /// Devices that report no memory pool support.
  std::vector<int> devicesWithoutPools = {7};
  /// What CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES answers.
  int staticSharedBytes = 0;
  /// Written into the JIT error log when cuModuleLoadDataEx fails.
  std::string jitLog;

  /// The current-context stack of the (single) test thread.
  std::vector<CUcontext> contextStack;
  CUcontext lastPushed = nullptr;
  std::vector<int> deviceOrdinals;
  Launch lastLaunch;
  std::vector<std::pair<CUfunction_attribute, int>> attributesSet;
  unsigned lastJitOptLevel = 0;
  TensorMapEncoding lastEncoding;
  std::vector<std::pair<void *, size_t>> hostRegistrations;
  std::vector<void *> hostUnregistrations;
};

Driver &driver();
/// Clears scripted failures and records (not the contexts' stack).
void reset();
/// How often `name` was called since the last reset.
int count(const std::string &name);

/// The fake primary context of a device.
CUcontext primaryContext(int ordinal);

} // namespace fake

#endif // MPT_UNITTESTS_FAKECUDADRIVER_H
