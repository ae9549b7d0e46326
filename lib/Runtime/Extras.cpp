//===- Extras.cpp - mpt* functions for callers that own device memory -----===//
//
// A small synchronous API beside the mgpu* ABI, for loaders (the Python AOT
// loader through ctypes): buffers, copies, synchronisation and three device
// queries. The error functions are in Support.cpp.
//
//===----------------------------------------------------------------------===//

#include "mpt/Runtime/CudaRuntime.h"

#include "Support.h"

#include <string>

using namespace mpt::runtime;

extern "C" void *mptMemAlloc(uint64_t sizeBytes) {
  const char *api = "mptMemAlloc";
  if (sizeBytes == 0)
    return nullptr;
  ContextGuard guard(api);
  if (!guard)
    return nullptr;
  CUdeviceptr ptr = 0;
  if (!check(cuMemAlloc(&ptr, sizeBytes), api, "cuMemAlloc",
             [&] { return std::to_string(sizeBytes) + " bytes"; }))
    return nullptr;
  return reinterpret_cast<void *>(ptr);
}

extern "C" void mptMemFree(void *ptr) {
  if (!ptr)
    return;
  ContextGuard guard("mptMemFree");
  if (guard)
    check(cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "mptMemFree",
          "cuMemFree");
}

extern "C" void mptMemcpy(void *dst, const void *src, uint64_t sizeBytes) {
  const char *api = "mptMemcpy";
  if (sizeBytes == 0)
    return;
  ContextGuard guard(api);
  if (!guard)
    return;
  auto size = [&] { return std::to_string(sizeBytes) + " bytes"; };
  // cuMemcpy may return before a device-to-device copy is done; it runs on
  // the legacy stream, so waiting for that stream completes it.
  if (check(cuMemcpy(reinterpret_cast<CUdeviceptr>(dst),
                     reinterpret_cast<CUdeviceptr>(src), sizeBytes),
            api, "cuMemcpy", size))
    check(cuStreamSynchronize(nullptr), api, "cuStreamSynchronize", size);
}

extern "C" void mptSynchronize(void) {
  ContextGuard guard("mptSynchronize");
  if (guard)
    check(cuCtxSynchronize(), "mptSynchronize", "cuCtxSynchronize");
}

extern "C" void mptMemGetInfo(uint64_t *freeBytes, uint64_t *totalBytes) {
  size_t free = 0, total = 0;
  ContextGuard guard("mptMemGetInfo");
  if (guard)
    check(cuMemGetInfo(&free, &total), "mptMemGetInfo", "cuMemGetInfo");
  if (freeBytes)
    *freeBytes = free;
  if (totalBytes)
    *totalBytes = total;
}

extern "C" int32_t mptDeviceComputeCapability(void) {
  const char *api = "mptDeviceComputeCapability";
  ContextGuard guard(api);
  if (!guard)
    return -1;
  int major = 0, minor = 0;
  CUdevice device = guard.device().device;
  if (!check(cuDeviceGetAttribute(
                 &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
             api, "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)") ||
      !check(cuDeviceGetAttribute(
                 &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
             api, "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)"))
    return -1;
  return 10 * major + minor;
}

extern "C" int32_t mptGetDefaultDevice(void) { return defaultDevice(); }
