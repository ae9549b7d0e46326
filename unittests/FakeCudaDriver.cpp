//===- FakeCudaDriver.cpp - A scriptable CUDA driver for runtime tests ----===//
//
// Definitions of exactly the driver functions libmpt_cuda_runtime calls (the
// link fails if the runtime starts calling another one). Each records its
// name, returns the scripted failure if there is one, and otherwise does the
// least that lets the runtime go on.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using fake::driver;

fake::Driver &fake::driver() {
  static Driver instance;
  return instance;
}

void fake::reset() {
  Driver &d = driver();
  d.failures.clear();
  d.calls.clear();
  d.staticSharedBytes = 0;
  d.jitLog.clear();
  d.deviceOrdinals.clear();
  d.lastPushed = nullptr;
  d.lastLaunch = Launch();
  d.attributesSet.clear();
  d.lastJitOptLevel = 0;
  d.lastEncoding = TensorMapEncoding();
  d.hostRegistrations.clear();
  d.hostUnregistrations.clear();
}

int fake::count(const std::string &name) {
  const std::vector<std::string> &calls = driver().calls;
  return int(std::count(calls.begin(), calls.end(), name));
}

CUcontext fake::primaryContext(int ordinal) {
  return reinterpret_cast<CUcontext>(uintptr_t(0x1000 + 0x10 * ordinal));
}

namespace {
/// Records the call and returns its scripted result.
CUresult enter(const char *name) {
  driver().calls.push_back(name);
  auto it = driver().failures.find(name);
  return it == driver().failures.end() ? CUDA_SUCCESS : it->second;
}

template <typename T> T fakeHandle(uintptr_t value) {
  return reinterpret_cast<T>(value);
}

/// Host memory as aligned as the driver's allocations (256 bytes).
CUdeviceptr allocate(size_t bytes) {
  size_t rounded = (bytes + 255) / 256 * 256;
  void *ptr = std::aligned_alloc(256, rounded);
  std::memset(ptr, 0, rounded);
  return reinterpret_cast<CUdeviceptr>(ptr);
}

void copyOptions(unsigned numOptions, CUjit_option *options, void **values) {
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == CU_JIT_OPTIMIZATION_LEVEL)
      driver().lastJitOptLevel = unsigned(uintptr_t(values[i]));
  }
}

void writeJitLog(unsigned numOptions, CUjit_option *options, void **values) {
  char *log = nullptr;
  size_t size = 0;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
      log = static_cast<char *>(values[i]);
    if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
      size = size_t(uintptr_t(values[i]));
  }
  if (log && size)
    std::snprintf(log, size, "%s", driver().jitLog.c_str());
}
} // namespace

CUresult CUDAAPI cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_ERROR_INVALID_HANDLE:
    *name = "CUDA_ERROR_INVALID_HANDLE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *name = "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char **text) {
  if (error != CUDA_ERROR_INVALID_HANDLE)
    return CUDA_ERROR_INVALID_VALUE;
  *text = "invalid resource handle";
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuInit(unsigned int) { return enter("cuInit"); }

CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal) {
  driver().deviceOrdinals.push_back(ordinal);
  if (CUresult r = enter("cuDeviceGet"))
    return r;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetAttribute(int *value, CUdevice_attribute attribute,
                                      CUdevice device) {
  if (CUresult r = enter("cuDeviceGetAttribute"))
    return r;
  const std::vector<int> &noPools = driver().devicesWithoutPools;
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED:
    *value = std::find(noPools.begin(), noPools.end(), device) == noPools.end();
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = 9;
    return CUDA_SUCCESS;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    return CUDA_SUCCESS;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  if (CUresult r = enter("cuDevicePrimaryCtxRetain"))
    return r;
  *context = fake::primaryContext(device);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext *context) {
  if (CUresult r = enter("cuCtxGetCurrent"))
    return r;
  const std::vector<CUcontext> &stack = driver().contextStack;
  *context = stack.empty() ? nullptr : stack.back();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSetCurrent(CUcontext context) {
  if (CUresult r = enter("cuCtxSetCurrent"))
    return r;
  std::vector<CUcontext> &stack = driver().contextStack;
  if (stack.empty())
    stack.push_back(context);
  else
    stack.back() = context;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxPushCurrent(CUcontext context) {
  if (CUresult r = enter("cuCtxPushCurrent"))
    return r;
  driver().contextStack.push_back(context);
  driver().lastPushed = context;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxPopCurrent(CUcontext *context) {
  if (CUresult r = enter("cuCtxPopCurrent"))
    return r;
  std::vector<CUcontext> &stack = driver().contextStack;
  if (stack.empty())
    return CUDA_ERROR_INVALID_CONTEXT;
  if (context)
    *context = stack.back();
  stack.pop_back();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSynchronize(void) { return enter("cuCtxSynchronize"); }

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *module, const void *,
                                    unsigned int numOptions,
                                    CUjit_option *options, void **values) {
  copyOptions(numOptions, options, values);
  if (CUresult r = enter("cuModuleLoadDataEx")) {
    writeJitLog(numOptions, options, values);
    return r;
  }
  *module = fakeHandle<CUmodule>(0x2000);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule) { return enter("cuModuleUnload"); }

CUresult CUDAAPI cuModuleGetFunction(CUfunction *function, CUmodule,
                                     const char *name) {
  if (CUresult r = enter("cuModuleGetFunction"))
    return r;
  // One handle per name, so that different kernels are told apart.
  *function = fakeHandle<CUfunction>(
      0x3000 + 0x10 * (std::strlen(name) + uintptr_t(name[0])));
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncGetAttribute(int *value, CUfunction_attribute attribute,
                                    CUfunction) {
  if (CUresult r = enter("cuFuncGetAttribute"))
    return r;
  if (attribute != CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
    return CUDA_ERROR_INVALID_VALUE;
  *value = driver().staticSharedBytes;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction, CUfunction_attribute attribute,
                                    int value) {
  if (CUresult r = enter("cuFuncSetAttribute"))
    return r;
  driver().attributesSet.emplace_back(attribute, value);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction function, unsigned int gridX,
                                unsigned int gridY, unsigned int gridZ,
                                unsigned int blockX, unsigned int blockY,
                                unsigned int blockZ, unsigned int sharedBytes,
                                CUstream stream, void **, void **) {
  if (CUresult r = enter("cuLaunchKernel"))
    return r;
  driver().lastLaunch = {function,
                         {gridX, gridY, gridZ},
                         {blockX, blockY, blockZ},
                         sharedBytes,
                         stream,
                         {0, 0, 0}};
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernelEx(const CUlaunchConfig *config,
                                  CUfunction function, void **, void **) {
  if (CUresult r = enter("cuLaunchKernelEx"))
    return r;
  fake::Launch launch;
  launch.function = function;
  launch.grid[0] = config->gridDimX;
  launch.grid[1] = config->gridDimY;
  launch.grid[2] = config->gridDimZ;
  launch.block[0] = config->blockDimX;
  launch.block[1] = config->blockDimY;
  launch.block[2] = config->blockDimZ;
  launch.sharedBytes = config->sharedMemBytes;
  launch.stream = config->hStream;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const CUlaunchAttribute &attribute = config->attrs[i];
    if (attribute.id != CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
      continue;
    launch.cluster[0] = attribute.value.clusterDim.x;
    launch.cluster[1] = attribute.value.clusterDim.y;
    launch.cluster[2] = attribute.value.clusterDim.z;
  }
  driver().lastLaunch = launch;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream *stream, unsigned int) {
  if (CUresult r = enter("cuStreamCreate"))
    return r;
  // Distinct handles: the runtime tracks which stream a step runs on.
  static uintptr_t streams = 0;
  *stream = fakeHandle<CUstream>(0x4000 + 0x10 * ++streams);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamDestroy(CUstream) { return enter("cuStreamDestroy"); }

CUresult CUDAAPI cuStreamSynchronize(CUstream) {
  return enter("cuStreamSynchronize");
}

CUresult CUDAAPI cuStreamWaitEvent(CUstream, CUevent, unsigned int) {
  return enter("cuStreamWaitEvent");
}

CUresult CUDAAPI cuEventCreate(CUevent *event, unsigned int) {
  if (CUresult r = enter("cuEventCreate"))
    return r;
  *event = fakeHandle<CUevent>(0x5000);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventDestroy(CUevent) { return enter("cuEventDestroy"); }

CUresult CUDAAPI cuEventSynchronize(CUevent) {
  return enter("cuEventSynchronize");
}

CUresult CUDAAPI cuEventRecord(CUevent, CUstream) {
  return enter("cuEventRecord");
}

CUresult CUDAAPI cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *) {
  if (CUresult r = enter("cuMemPoolCreate"))
    return r;
  *pool = fakeHandle<CUmemoryPool>(0x6000);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPoolSetAttribute(CUmemoryPool, CUmemPool_attribute,
                                       void *) {
  return enter("cuMemPoolSetAttribute");
}

CUresult CUDAAPI cuMemAlloc(CUdeviceptr *ptr, size_t bytes) {
  if (CUresult r = enter("cuMemAlloc"))
    return r;
  *ptr = allocate(bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAllocManaged(CUdeviceptr *ptr, size_t bytes,
                                   unsigned int) {
  if (CUresult r = enter("cuMemAllocManaged"))
    return r;
  *ptr = allocate(bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAllocFromPoolAsync(CUdeviceptr *ptr, size_t bytes,
                                         CUmemoryPool, CUstream) {
  if (CUresult r = enter("cuMemAllocFromPoolAsync"))
    return r;
  *ptr = allocate(bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFree(CUdeviceptr ptr) {
  if (CUresult r = enter("cuMemFree"))
    return r;
  std::free(reinterpret_cast<void *>(ptr));
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr ptr, CUstream) {
  if (CUresult r = enter("cuMemFreeAsync"))
    return r;
  std::free(reinterpret_cast<void *>(ptr));
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemGetInfo(size_t *free, size_t *total) {
  if (CUresult r = enter("cuMemGetInfo"))
    return r;
  *free = 3;
  *total = 4;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  if (CUresult r = enter("cuMemcpy"))
    return r;
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                               CUstream) {
  if (CUresult r = enter("cuMemcpyAsync"))
    return r;
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  if (CUresult r = enter("cuMemcpyHtoD"))
    return r;
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD32Async(CUdeviceptr dst, unsigned int value,
                                  size_t count, CUstream) {
  if (CUresult r = enter("cuMemsetD32Async"))
    return r;
  auto *words = reinterpret_cast<unsigned int *>(dst);
  std::fill(words, words + count, value);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD16Async(CUdeviceptr dst, unsigned short value,
                                  size_t count, CUstream) {
  if (CUresult r = enter("cuMemsetD16Async"))
    return r;
  auto *words = reinterpret_cast<unsigned short *>(dst);
  std::fill(words, words + count, value);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemHostRegister(void *ptr, size_t bytes, unsigned int) {
  if (CUresult r = enter("cuMemHostRegister"))
    return r;
  driver().hostRegistrations.emplace_back(ptr, bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemHostUnregister(void *ptr) {
  if (CUresult r = enter("cuMemHostUnregister"))
    return r;
  driver().hostUnregistrations.push_back(ptr);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuTensorMapEncodeTiled(
    CUtensorMap *map, CUtensorMapDataType dataType, cuuint32_t rank,
    void *address, const cuuint64_t *globalDim, const cuuint64_t *globalStrides,
    const cuuint32_t *boxDim, const cuuint32_t *elementStrides,
    CUtensorMapInterleave, CUtensorMapSwizzle swizzle, CUtensorMapL2promotion,
    CUtensorMapFloatOOBfill) {
  if (CUresult r = enter("cuTensorMapEncodeTiled"))
    return r;
  fake::TensorMapEncoding &e = driver().lastEncoding;
  e.dataType = dataType;
  e.rank = rank;
  e.address = address;
  e.globalDim.assign(globalDim, globalDim + rank);
  e.globalStrides.assign(globalStrides, globalStrides + rank - 1);
  e.boxDim.assign(boxDim, boxDim + rank);
  e.elementStrides.assign(elementStrides, elementStrides + rank);
  e.swizzle = swizzle;
  // An "encoding" that differs whenever the address, shape or box does.
  map->opaque[0] = reinterpret_cast<uintptr_t>(address);
  map->opaque[1] = (cuuint64_t(dataType) << 32) | rank;
  for (unsigned i = 0; i < rank; ++i) {
    map->opaque[2 + i] = globalDim[i];
    map->opaque[7 + i] = boxDim[i];
  }
  return CUDA_SUCCESS;
}
