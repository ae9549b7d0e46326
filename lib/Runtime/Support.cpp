//===- Support.cpp - Error reporting, contexts, kernel registry -----------===//
//
// The runtime's single error path, the per-device primary contexts and memory
// pools, and the kernel registry. State is created on first use and never
// destroyed: the driver may already be gone when static destructors run.
//
//===----------------------------------------------------------------------===//

#include "Support.h"

#include "mpt/Runtime/CudaRuntime.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

using namespace mpt::runtime;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

namespace {
struct HandlerSlot {
  std::mutex mutex;
  mptRuntimeErrorHandler handler = nullptr;
  void *userData = nullptr;
};

HandlerSlot &handlerSlot() {
  static auto *slot = new HandlerSlot;
  return *slot;
}

/// This thread's first error since the last clear.
struct ThreadError {
  bool set = false;
  int32_t code = 0;
  std::string message;
};

/// Created on first use and never destroyed: modules unload from global
/// destructors, which run after thread-local objects are gone.
ThreadError &threadError() {
  thread_local ThreadError *error = nullptr;
  if (!error)
    error = new ThreadError;
  return *error;
}

/// Names of the results a runtime user meets most, for when the driver cannot
/// name them itself (the toolkit's stub libcuda answers every call, including
/// cuGetErrorName, with CUDA_ERROR_STUB_LIBRARY).
const char *knownErrorName(CUresult result) {
  switch (result) {
  case CUDA_ERROR_INVALID_VALUE:
    return "CUDA_ERROR_INVALID_VALUE";
  case CUDA_ERROR_OUT_OF_MEMORY:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case CUDA_ERROR_NOT_INITIALIZED:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case CUDA_ERROR_DEINITIALIZED:
    return "CUDA_ERROR_DEINITIALIZED";
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA_ERROR_STUB_LIBRARY";
  case CUDA_ERROR_NO_DEVICE:
    return "CUDA_ERROR_NO_DEVICE";
  case CUDA_ERROR_INVALID_DEVICE:
    return "CUDA_ERROR_INVALID_DEVICE";
  case CUDA_ERROR_INVALID_IMAGE:
    return "CUDA_ERROR_INVALID_IMAGE";
  case CUDA_ERROR_INVALID_CONTEXT:
    return "CUDA_ERROR_INVALID_CONTEXT";
  case CUDA_ERROR_NO_BINARY_FOR_GPU:
    return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case CUDA_ERROR_INVALID_PTX:
    return "CUDA_ERROR_INVALID_PTX";
  case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case CUDA_ERROR_INVALID_HANDLE:
    return "CUDA_ERROR_INVALID_HANDLE";
  case CUDA_ERROR_NOT_FOUND:
    return "CUDA_ERROR_NOT_FOUND";
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    return "CUDA_ERROR_ILLEGAL_ADDRESS";
  case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
    return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
  case CUDA_ERROR_LAUNCH_FAILED:
    return "CUDA_ERROR_LAUNCH_FAILED";
  case CUDA_ERROR_NOT_SUPPORTED:
    return "CUDA_ERROR_NOT_SUPPORTED";
  default:
    return nullptr;
  }
}
} // namespace

std::string mpt::runtime::errorName(CUresult result) {
  const char *name = nullptr;
  if (cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
    return name;
  if (const char *known = knownErrorName(result))
    return known;
  return "CUresult " + std::to_string(static_cast<int>(result));
}

namespace {
thread_local CUfunction lastLaunched = nullptr;

/// Results by which the driver reports a kernel that failed while running:
/// they surface at a later call (a synchronisation, a copy), not the launch.
bool isKernelFault(CUresult result) {
  switch (result) {
  case CUDA_ERROR_ILLEGAL_ADDRESS:
  case CUDA_ERROR_LAUNCH_TIMEOUT:
  case CUDA_ERROR_ASSERT:
  case CUDA_ERROR_HARDWARE_STACK_ERROR:
  case CUDA_ERROR_ILLEGAL_INSTRUCTION:
  case CUDA_ERROR_MISALIGNED_ADDRESS:
  case CUDA_ERROR_INVALID_ADDRESS_SPACE:
  case CUDA_ERROR_INVALID_PC:
  case CUDA_ERROR_LAUNCH_FAILED:
    return true;
  default:
    return false;
  }
}
} // namespace

void mpt::runtime::noteLaunch(CUfunction function) { lastLaunched = function; }

void mpt::runtime::reportError(CUresult result, const char *api,
                               const char *call, const std::string &detail) {
  std::string message = std::string(api) + ": " + call + " failed";
  if (!detail.empty())
    message += " for " + detail;
  message += ": " + errorName(result) + " (" +
             std::to_string(static_cast<int>(result)) + ")";
  const char *description = nullptr;
  if (cuGetErrorString(result, &description) == CUDA_SUCCESS && description)
    message += std::string(": ") + description;
  if (isKernelFault(result) && lastLaunched)
    message += "; last launched on this thread: " + kernelLabel(lastLaunched);
  reportMessage(static_cast<int32_t>(result), message);
}

void mpt::runtime::reportMessage(int32_t code, const std::string &message) {
  ThreadError &error = threadError();
  if (!error.set) {
    error.set = true;
    error.code = code;
    error.message = message;
  }

  mptRuntimeErrorHandler handler;
  void *userData;
  {
    HandlerSlot &slot = handlerSlot();
    std::lock_guard<std::mutex> lock(slot.mutex);
    handler = slot.handler;
    userData = slot.userData;
  }
  if (handler) {
    handler(code, message.c_str(), userData);
    return;
  }
  std::fprintf(stderr, "mpt-cuda-runtime: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

namespace {
thread_local std::vector<CUstream> liveStreams;
} // namespace

void mpt::runtime::noteStreamCreated(CUstream stream) {
  liveStreams.push_back(stream);
}

void mpt::runtime::noteStreamDestroyed(CUstream stream) {
  auto it = std::find(liveStreams.rbegin(), liveStreams.rend(), stream);
  if (it != liveStreams.rend())
    liveStreams.erase(std::next(it).base());
}

CUstream mpt::runtime::currentStepStream() {
  return liveStreams.empty() ? nullptr : liveStreams.back();
}

extern "C" void mptRuntimeSetErrorHandler(mptRuntimeErrorHandler handler,
                                          void *userData) {
  HandlerSlot &slot = handlerSlot();
  std::lock_guard<std::mutex> lock(slot.mutex);
  slot.handler = handler;
  slot.userData = userData;
}

extern "C" const char *mptRuntimeGetError(void) {
  ThreadError &error = threadError();
  return error.set ? error.message.c_str() : nullptr;
}

extern "C" int32_t mptRuntimeGetErrorCode(void) {
  ThreadError &error = threadError();
  return error.set ? error.code : 0;
}

extern "C" void mptRuntimeClearError(void) {
  ThreadError &error = threadError();
  error.set = false;
  error.code = 0;
  error.message.clear();
}

//===----------------------------------------------------------------------===//
// Devices and contexts
//===----------------------------------------------------------------------===//

namespace {
thread_local int32_t threadDefaultDevice = 0;

struct DeviceTable {
  std::mutex mutex;
  std::unordered_map<int32_t, DeviceState *> states;
};

DeviceTable &deviceTable() {
  static auto *table = new DeviceTable;
  return *table;
}

/// A failed driver call, reported once the table's lock is released (the
/// error handler may call back into the runtime).
struct Failure {
  CUresult result = CUDA_SUCCESS;
  const char *call = nullptr;
};

/// Creates the device's pool of stream-ordered allocations. Its release
/// threshold is unbounded: freed memory stays cached for the next step
/// instead of going back to the driver at every synchronisation.
Failure createPool(DeviceState &state) {
  int supported = 0;
  CUresult result = cuDeviceGetAttribute(
      &supported, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, state.device);
  if (result != CUDA_SUCCESS)
    return {result, "cuDeviceGetAttribute(MEMORY_POOLS_SUPPORTED)"};
  if (!supported)
    return {};
  CUmemPoolProps props = {};
  props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
  props.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
  props.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  props.location.id = state.ordinal;
  if ((result = cuMemPoolCreate(&state.pool, &props)) != CUDA_SUCCESS)
    return {result, "cuMemPoolCreate"};
  cuuint64_t threshold = UINT64_MAX;
  result = cuMemPoolSetAttribute(state.pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                 &threshold);
  if (result != CUDA_SUCCESS)
    return {result, "cuMemPoolSetAttribute(RELEASE_THRESHOLD)"};
  return {};
}

Failure initDevice(DeviceState &state) {
  CUresult result = cuInit(/*Flags=*/0);
  if (result != CUDA_SUCCESS)
    return {result, "cuInit"};
  if ((result = cuDeviceGet(&state.device, state.ordinal)) != CUDA_SUCCESS)
    return {result, "cuDeviceGet"};
  result = cuDevicePrimaryCtxRetain(&state.context, state.device);
  if (result != CUDA_SUCCESS)
    return {result, "cuDevicePrimaryCtxRetain"};
  return createPool(state);
}

/// The state of device `ordinal`, initialised on first use; null after a
/// reported failure (or, with `toleratesDeinit`, once the driver is gone).
const DeviceState *getDeviceState(int32_t ordinal, const char *api,
                                  bool toleratesDeinit) {
  // States are never freed, so each thread may keep the last one it used
  // and skip the table's lock on every call.
  thread_local const DeviceState *lastUsed = nullptr;
  if (lastUsed && lastUsed->ordinal == ordinal)
    return lastUsed;
  DeviceTable &table = deviceTable();
  Failure failure;
  {
    std::lock_guard<std::mutex> lock(table.mutex);
    auto it = table.states.find(ordinal);
    if (it != table.states.end())
      return lastUsed = it->second;
    auto *state = new DeviceState;
    state->ordinal = ordinal;
    failure = initDevice(*state);
    if (failure.result == CUDA_SUCCESS) {
      table.states.emplace(ordinal, state);
      return lastUsed = state;
    }
    delete state;
  }
  if (toleratesDeinit && failure.result == CUDA_ERROR_DEINITIALIZED)
    return nullptr;
  reportError(failure.result, api, failure.call,
              "device " + std::to_string(ordinal));
  return nullptr;
}
} // namespace

int32_t mpt::runtime::defaultDevice() { return threadDefaultDevice; }

void mpt::runtime::setDefaultDevice(int32_t ordinal) {
  threadDefaultDevice = ordinal;
}

ContextGuard::ContextGuard(const char *api, bool toleratesDeinit) : api(api) {
  const DeviceState *candidate =
      getDeviceState(defaultDevice(), api, toleratesDeinit);
  if (!candidate)
    return;
  CUcontext current = nullptr;
  CUresult result = cuCtxGetCurrent(&current);
  if (toleratesDeinit && result == CUDA_ERROR_DEINITIALIZED)
    return;
  if (!check(result, api, "cuCtxGetCurrent"))
    return;
  if (!current) {
    // A thread without a context keeps the primary one current, as the CUDA
    // runtime API does: later calls then need no driver call for it.
    if (!check(cuCtxSetCurrent(candidate->context), api, "cuCtxSetCurrent"))
      return;
  } else if (current != candidate->context) {
    // Someone else's context: borrow the thread for this call only.
    if (!check(cuCtxPushCurrent(candidate->context), api, "cuCtxPushCurrent"))
      return;
    pushed = true;
  }
  state = candidate;
}

ContextGuard::~ContextGuard() {
  if (!pushed)
    return;
  CUcontext popped = nullptr;
  check(cuCtxPopCurrent(&popped), api, "cuCtxPopCurrent");
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

namespace {
constexpr int32_t kDefaultSharedMemoryLimit = 48 * 1024;

struct KernelInfo {
  CUmodule module = nullptr;
  std::string name;
  /// Static shared memory of the kernel, -1 until queried.
  int32_t staticSharedBytes = -1;
  /// The largest MAX_DYNAMIC_SHARED_SIZE_BYTES set so far.
  int32_t dynamicSharedLimit = 0;
};

struct KernelTable {
  std::mutex mutex;
  std::unordered_map<CUfunction, KernelInfo> kernels;
};

KernelTable &kernelTable() {
  static auto *table = new KernelTable;
  return *table;
}
} // namespace

void mpt::runtime::recordKernel(CUfunction function, CUmodule module,
                                const char *name) {
  KernelTable &table = kernelTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  KernelInfo &info = table.kernels[function];
  if (info.module == module && info.name == name)
    return;
  info = KernelInfo();
  info.module = module;
  info.name = name;
}

void mpt::runtime::forgetModule(CUmodule module) {
  KernelTable &table = kernelTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  for (auto it = table.kernels.begin(); it != table.kernels.end();) {
    if (it->second.module == module)
      it = table.kernels.erase(it);
    else
      ++it;
  }
}

std::string mpt::runtime::kernelLabel(CUfunction function) {
  KernelTable &table = kernelTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.kernels.find(function);
  if (it != table.kernels.end() && !it->second.name.empty())
    return "kernel '" + it->second.name + "'";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "kernel <unknown function %p>",
                static_cast<void *>(function));
  return buffer;
}

bool mpt::runtime::ensureDynamicSharedMemory(CUfunction function, int32_t bytes,
                                             const char *api) {
  if (bytes <= 0)
    return true;
  KernelTable &table = kernelTable();
  int32_t staticBytes;
  {
    std::lock_guard<std::mutex> lock(table.mutex);
    KernelInfo &info = table.kernels[function];
    if (bytes <= info.dynamicSharedLimit)
      return true;
    staticBytes = info.staticSharedBytes;
  }
  if (staticBytes < 0) {
    int value = 0;
    if (!check(cuFuncGetAttribute(&value, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                                  function),
               api, "cuFuncGetAttribute(SHARED_SIZE_BYTES)",
               [&] { return kernelLabel(function); }))
      return false;
    staticBytes = value;
  }
  // Static plus dynamic shared memory above 48 KiB needs the opt-in.
  bool needsOptIn = int64_t(staticBytes) + bytes > kDefaultSharedMemoryLimit;
  if (needsOptIn &&
      !check(cuFuncSetAttribute(function,
                                CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                bytes),
             api, "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", [&] {
               return kernelLabel(function) + " (" + std::to_string(bytes) +
                      " bytes of dynamic shared memory)";
             }))
    return false;
  std::lock_guard<std::mutex> lock(table.mutex);
  KernelInfo &info = table.kernels[function];
  info.staticSharedBytes = staticBytes;
  info.dynamicSharedLimit = std::max(info.dynamicSharedLimit, bytes);
  return true;
}
