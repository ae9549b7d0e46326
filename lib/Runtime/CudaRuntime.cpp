//===- CudaRuntime.cpp - The MLIR 22.1 mgpu* ABI on the CUDA driver -------===//
//
// One C function per symbol that host code lowered by upstream MLIR 22.1
// calls for modules, launches, streams, events and device memory. Each driver
// call goes through `check`, which names the call (and the kernel) when it
// fails. The memref-based functions (host registration, TMA descriptors) are
// in MemRef.cpp.
//
//===----------------------------------------------------------------------===//

#include "mpt/Runtime/CudaRuntime.h"

#include "Support.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>

using namespace mpt::runtime;

namespace {
//===----------------------------------------------------------------------===//
// Modules
//===----------------------------------------------------------------------===//

/// Loads a cubin, fatbin or PTX image; `optLevel` (0-4) is passed to the JIT
/// unless negative. The JIT's error log goes into the error message.
CUmodule loadModule(const char *api, const void *image, int32_t optLevel) {
  ContextGuard guard(api);
  if (!guard)
    return nullptr;
  char log[8192] = {};
  CUjit_option options[3] = {CU_JIT_ERROR_LOG_BUFFER,
                             CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                             CU_JIT_OPTIMIZATION_LEVEL};
  void *values[3] = {
      log, reinterpret_cast<void *>(uintptr_t(sizeof(log))),
      reinterpret_cast<void *>(uintptr_t(std::clamp(optLevel, 0, 4)))};
  unsigned numOptions = optLevel < 0 ? 2 : 3;
  CUmodule module = nullptr;
  if (!check(cuModuleLoadDataEx(&module, image, numOptions, options, values),
             api, "cuModuleLoadDataEx", [&] {
               std::string detail = "a module image";
               if (log[0])
                 detail += " (JIT log: " + std::string(log) + ")";
               return detail;
             }))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// Launches
//===----------------------------------------------------------------------===//

constexpr int64_t kMaxLaunchExtent = UINT32_MAX;

std::string dims(int64_t x, int64_t y, int64_t z) {
  return std::to_string(x) + "x" + std::to_string(y) + "x" + std::to_string(z);
}

struct LaunchShape {
  int64_t grid[3];
  int64_t block[3];
  int32_t sharedBytes;

  std::string describe(CUfunction function) const {
    return kernelLabel(function) + " (grid " + dims(grid[0], grid[1], grid[2]) +
           ", block " + dims(block[0], block[1], block[2]) + ", " +
           std::to_string(sharedBytes) + " bytes of dynamic shared memory)";
  }

  bool emptyGrid() const {
    return grid[0] == 0 || grid[1] == 0 || grid[2] == 0;
  }

  bool inRange() const {
    auto ok = [](int64_t v) { return v >= 0 && v <= kMaxLaunchExtent; };
    return std::all_of(grid, grid + 3, ok) &&
           std::all_of(block, block + 3, ok) && sharedBytes >= 0;
  }
};

/// Checks what the driver cannot see once the 64-bit extents are narrowed,
/// and raises the shared memory limit where needed. False when nothing may
/// be launched (an empty grid, or an error that was reported).
bool prepareLaunch(const char *api, const char *call, CUfunction function,
                   const LaunchShape &shape) {
  if (!shape.inRange()) {
    reportError(CUDA_ERROR_INVALID_VALUE, api, call,
                shape.describe(function) + ": an extent is out of range");
    return false;
  }
  if (shape.emptyGrid())
    return false;
  return ensureDynamicSharedMemory(function, shape.sharedBytes, api);
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// Pointers that were not allocated from a stream-ordered pool (managed
/// memory, or devices without pools): they are freed with cuMemFree.
struct SynchronousAllocations {
  std::mutex mutex;
  std::unordered_set<void *> pointers;

  void insert(void *ptr) {
    std::lock_guard<std::mutex> lock(mutex);
    pointers.insert(ptr);
  }
  bool erase(void *ptr) {
    std::lock_guard<std::mutex> lock(mutex);
    return pointers.erase(ptr) != 0;
  }
};

SynchronousAllocations &synchronousAllocations() {
  static auto *allocations = new SynchronousAllocations;
  return *allocations;
}

std::string bytes(uint64_t size) { return std::to_string(size) + " bytes"; }

CUdeviceptr devicePtr(const void *ptr) {
  return reinterpret_cast<CUdeviceptr>(ptr);
}
} // namespace

//===----------------------------------------------------------------------===//
// The ABI
//===----------------------------------------------------------------------===//

extern "C" CUmodule mgpuModuleLoad(void *data, int64_t /*size*/) {
  ProfileScope profile(ProfiledCall::ModuleLoad);
  return loadModule("mgpuModuleLoad", data, /*optLevel=*/-1);
}

extern "C" CUmodule mgpuModuleLoadJIT(void *ptx, int32_t optLevel) {
  ProfileScope profile(ProfiledCall::ModuleLoadJIT);
  return loadModule("mgpuModuleLoadJIT", ptx, optLevel);
}

extern "C" void mgpuModuleUnload(CUmodule module) {
  ProfileScope profile(ProfiledCall::ModuleUnload);
  // Modules unload from a global destructor; if the driver has already shut
  // down, it has released the module with everything else.
  ContextGuard guard("mgpuModuleUnload", /*toleratesDeinit=*/true);
  if (!guard)
    return;
  forgetModule(module);
  CUresult result = cuModuleUnload(module);
  if (result != CUDA_ERROR_DEINITIALIZED)
    check(result, "mgpuModuleUnload", "cuModuleUnload");
}

extern "C" CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  ProfileScope profile(ProfiledCall::ModuleGetFunction);
  ContextGuard guard("mgpuModuleGetFunction");
  if (!guard)
    return nullptr;
  CUfunction function = nullptr;
  if (!check(cuModuleGetFunction(&function, module, name),
             "mgpuModuleGetFunction", "cuModuleGetFunction",
             [&] { return "kernel '" + std::string(name) + "'"; }))
    return nullptr;
  recordKernel(function, module, name);
  return function;
}

extern "C" void mgpuLaunchKernel(CUfunction function, int64_t gridX,
                                 int64_t gridY, int64_t gridZ, int64_t blockX,
                                 int64_t blockY, int64_t blockZ,
                                 int32_t dynamicSharedBytes, CUstream stream,
                                 void **params, void **extra,
                                 int64_t /*paramCount*/) {
  ProfileScope profile(ProfiledCall::LaunchKernel);
  const char *api = "mgpuLaunchKernel";
  LaunchShape shape = {
      {gridX, gridY, gridZ}, {blockX, blockY, blockZ}, dynamicSharedBytes};
  ContextGuard guard(api);
  if (!guard || !prepareLaunch(api, "cuLaunchKernel", function, shape))
    return;
  if (check(cuLaunchKernel(function, unsigned(gridX), unsigned(gridY),
                           unsigned(gridZ), unsigned(blockX), unsigned(blockY),
                           unsigned(blockZ), unsigned(dynamicSharedBytes),
                           stream, params, extra),
            api, "cuLaunchKernel", [&] { return shape.describe(function); }))
    noteLaunch(function);
}

extern "C" void
mgpuLaunchClusterKernel(CUfunction function, int64_t clusterX, int64_t clusterY,
                        int64_t clusterZ, int64_t gridX, int64_t gridY,
                        int64_t gridZ, int64_t blockX, int64_t blockY,
                        int64_t blockZ, int32_t dynamicSharedBytes,
                        CUstream stream, void **params, void **extra) {
  ProfileScope profile(ProfiledCall::LaunchClusterKernel);
  const char *api = "mgpuLaunchClusterKernel";
  LaunchShape shape = {
      {gridX, gridY, gridZ}, {blockX, blockY, blockZ}, dynamicSharedBytes};
  auto describe = [&] {
    return shape.describe(function) + " in clusters of " +
           dims(clusterX, clusterY, clusterZ);
  };
  ContextGuard guard(api);
  if (!guard || !prepareLaunch(api, "cuLaunchKernelEx", function, shape))
    return;
  if (clusterX < 1 || clusterY < 1 || clusterZ < 1 ||
      clusterX > kMaxLaunchExtent || clusterY > kMaxLaunchExtent ||
      clusterZ > kMaxLaunchExtent) {
    reportError(CUDA_ERROR_INVALID_VALUE, api, "cuLaunchKernelEx",
                describe() + ": a cluster extent is out of range");
    return;
  }
  // Clusters of more than 8 blocks are "non-portable" and need an opt-in
  // (the product is only formed once no factor alone exceeds 8).
  bool nonPortable = clusterX > 8 || clusterY > 8 || clusterZ > 8 ||
                     clusterX * clusterY * clusterZ > 8;
  if (nonPortable &&
      !check(
          cuFuncSetAttribute(
              function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
          api, "cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED)",
          describe))
    return;

  CUlaunchAttribute attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = unsigned(clusterX);
  attribute.value.clusterDim.y = unsigned(clusterY);
  attribute.value.clusterDim.z = unsigned(clusterZ);
  CUlaunchConfig config = {};
  config.gridDimX = unsigned(gridX);
  config.gridDimY = unsigned(gridY);
  config.gridDimZ = unsigned(gridZ);
  config.blockDimX = unsigned(blockX);
  config.blockDimY = unsigned(blockY);
  config.blockDimZ = unsigned(blockZ);
  config.sharedMemBytes = unsigned(dynamicSharedBytes);
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  if (check(cuLaunchKernelEx(&config, function, params, extra), api,
            "cuLaunchKernelEx", describe))
    noteLaunch(function);
}

extern "C" CUstream mgpuStreamCreate(void) {
  ProfileScope profile(ProfiledCall::StreamCreate);
  ContextGuard guard("mgpuStreamCreate");
  if (!guard)
    return nullptr;
  CUstream stream = nullptr;
  if (!check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
             "mgpuStreamCreate", "cuStreamCreate"))
    return nullptr;
  noteStreamCreated(stream);
  return stream;
}

extern "C" void mgpuStreamDestroy(CUstream stream) {
  ProfileScope profile(ProfiledCall::StreamDestroy);
  noteStreamDestroyed(stream);
  ContextGuard guard("mgpuStreamDestroy");
  if (guard)
    check(cuStreamDestroy(stream), "mgpuStreamDestroy", "cuStreamDestroy");
}

extern "C" void mgpuStreamSynchronize(CUstream stream) {
  ProfileScope profile(ProfiledCall::StreamSynchronize);
  ContextGuard guard("mgpuStreamSynchronize");
  if (guard)
    check(cuStreamSynchronize(stream), "mgpuStreamSynchronize",
          "cuStreamSynchronize");
}

extern "C" void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  ProfileScope profile(ProfiledCall::StreamWaitEvent);
  ContextGuard guard("mgpuStreamWaitEvent");
  if (guard)
    check(cuStreamWaitEvent(stream, event, /*Flags=*/0), "mgpuStreamWaitEvent",
          "cuStreamWaitEvent");
}

extern "C" CUevent mgpuEventCreate(void) {
  ProfileScope profile(ProfiledCall::EventCreate);
  ContextGuard guard("mgpuEventCreate");
  if (!guard)
    return nullptr;
  CUevent event = nullptr;
  if (!check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "mgpuEventCreate",
             "cuEventCreate"))
    return nullptr;
  return event;
}

extern "C" void mgpuEventDestroy(CUevent event) {
  ProfileScope profile(ProfiledCall::EventDestroy);
  ContextGuard guard("mgpuEventDestroy");
  if (guard)
    check(cuEventDestroy(event), "mgpuEventDestroy", "cuEventDestroy");
}

extern "C" void mgpuEventSynchronize(CUevent event) {
  ProfileScope profile(ProfiledCall::EventSynchronize);
  ContextGuard guard("mgpuEventSynchronize");
  if (guard)
    check(cuEventSynchronize(event), "mgpuEventSynchronize",
          "cuEventSynchronize");
}

extern "C" void mgpuEventRecord(CUevent event, CUstream stream) {
  ProfileScope profile(ProfiledCall::EventRecord);
  ContextGuard guard("mgpuEventRecord");
  if (guard)
    check(cuEventRecord(event, stream), "mgpuEventRecord", "cuEventRecord");
}

extern "C" void *mgpuMemAlloc(uint64_t sizeBytes, CUstream stream,
                              int8_t hostShared) {
  ProfileScope profile(ProfiledCall::MemAlloc);
  const char *api = "mgpuMemAlloc";
  if (sizeBytes == 0)
    return nullptr;
  ContextGuard guard(api);
  if (!guard)
    return nullptr;
  CUdeviceptr ptr = 0;
  auto size = [&] { return bytes(sizeBytes); };
  if (hostShared || !guard.device().pool) {
    bool ok =
        hostShared
            ? check(cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL),
                    api, "cuMemAllocManaged", size)
            : check(cuMemAlloc(&ptr, sizeBytes), api, "cuMemAlloc", size);
    if (!ok)
      return nullptr;
    synchronousAllocations().insert(reinterpret_cast<void *>(ptr));
    return reinterpret_cast<void *>(ptr);
  }
  if (!check(
          cuMemAllocFromPoolAsync(&ptr, sizeBytes, guard.device().pool, stream),
          api, "cuMemAllocFromPoolAsync", size))
    return nullptr;
  // Without a stream the allocation is synchronous, so that any stream may
  // use it (the legacy stream does not order non-blocking streams).
  if (!stream &&
      !check(cuStreamSynchronize(nullptr), api, "cuStreamSynchronize", size))
    return nullptr;
  return reinterpret_cast<void *>(ptr);
}

extern "C" void mgpuMemFree(void *ptr, CUstream stream) {
  ProfileScope profile(ProfiledCall::MemFree);
  const char *api = "mgpuMemFree";
  if (!ptr)
    return;
  ContextGuard guard(api);
  if (!guard)
    return;
  if (synchronousAllocations().erase(ptr))
    check(cuMemFree(devicePtr(ptr)), api, "cuMemFree");
  else
    check(cuMemFreeAsync(devicePtr(ptr), stream), api, "cuMemFreeAsync");
}

extern "C" void mgpuMemcpy(void *dst, void *src, uint64_t sizeBytes,
                           CUstream stream) {
  ProfileScope profile(ProfiledCall::Memcpy);
  if (sizeBytes == 0)
    return;
  ContextGuard guard("mgpuMemcpy");
  if (guard)
    check(cuMemcpyAsync(devicePtr(dst), devicePtr(src), sizeBytes, stream),
          "mgpuMemcpy", "cuMemcpyAsync", [&] { return bytes(sizeBytes); });
}

extern "C" void mgpuMemset32(void *dst, uint32_t value, uint64_t count,
                             CUstream stream) {
  ProfileScope profile(ProfiledCall::Memset32);
  if (count == 0)
    return;
  ContextGuard guard("mgpuMemset32");
  if (guard)
    check(cuMemsetD32Async(devicePtr(dst), value, count, stream),
          "mgpuMemset32", "cuMemsetD32Async",
          [&] { return std::to_string(count) + " 32-bit words"; });
}

extern "C" void mgpuMemset16(void *dst, uint16_t value, uint64_t count,
                             CUstream stream) {
  ProfileScope profile(ProfiledCall::Memset16);
  if (count == 0)
    return;
  ContextGuard guard("mgpuMemset16");
  if (guard)
    check(cuMemsetD16Async(devicePtr(dst), value, count, stream),
          "mgpuMemset16", "cuMemsetD16Async",
          [&] { return std::to_string(count) + " 16-bit words"; });
}

extern "C" void mgpuSetDefaultDevice(int32_t device) {
  setDefaultDevice(device);
}
