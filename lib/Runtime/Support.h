//===- Support.h - Error reporting, contexts, kernel registry ---*- C++ -*-===//
//
// The internals the runtime's C functions share: the one error-reporting
// path, the primary context of the default device (with its memory pool),
// and what the runtime remembers about kernels (names for error messages,
// the dynamic shared memory limit already set).
//
//===----------------------------------------------------------------------===//

#ifndef MPT_LIB_RUNTIME_SUPPORT_H
#define MPT_LIB_RUNTIME_SUPPORT_H

#include <cuda.h>

#include <cstdint>
#include <string>

namespace mpt::runtime {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// The name of a CUresult, e.g. "CUDA_ERROR_INVALID_VALUE"; works without a
/// driver (the stub library cannot name its own errors).
std::string errorName(CUresult result);

/// Reports a failure of `call` made by the C function `api`: builds
/// "<api>: <call> failed[ for <detail>]: <NAME> (<code>)[: <description>]",
/// records it as this thread's error and hands it to the handler (default:
/// print and abort).
void reportError(CUresult result, const char *api, const char *call,
                 const std::string &detail = {});

/// Records `message` as this thread's error (if it has none) and hands it to
/// the handler with `code` (default: print and abort): the path every error
/// takes, driver errors and others (NCCL's, bad arguments).
void reportMessage(int32_t code, const std::string &message);

/// Returns true on success; otherwise reports the error and returns false.
inline bool check(CUresult result, const char *api, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  reportError(result, api, call);
  return false;
}

/// As above; `detail()` (kernel name, sizes, ...) is only built on failure.
template <typename DetailFn>
bool check(CUresult result, const char *api, const char *call,
           DetailFn &&detail) {
  if (result == CUDA_SUCCESS)
    return true;
  reportError(result, api, call, detail());
  return false;
}

//===----------------------------------------------------------------------===//
// Devices and contexts
//===----------------------------------------------------------------------===//

/// What the runtime keeps per device: its primary context (retained once,
/// never released) and the stream-ordered memory pool, null where the device
/// has no memory pools.
struct DeviceState {
  int32_t ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUmemoryPool pool = nullptr;
};

/// The device mgpuSetDefaultDevice chose on this thread (0 by default).
int32_t defaultDevice();
void setDefaultDevice(int32_t ordinal);

/// Makes the primary context of this thread's default device current: on a
/// thread with no current context it stays current (as with the CUDA runtime
/// API); over another context it is pushed for the guard's lifetime only.
/// Converts to false when that failed (reported).
class ContextGuard {
public:
  /// With `toleratesDeinit`, a driver already shut down (process exit) is not
  /// an error: the guard is false and nothing is reported.
  explicit ContextGuard(const char *api, bool toleratesDeinit = false);
  ~ContextGuard();
  ContextGuard(const ContextGuard &) = delete;
  ContextGuard &operator=(const ContextGuard &) = delete;

  explicit operator bool() const { return state != nullptr; }
  const DeviceState &device() const { return *state; }

private:
  const char *api;
  const DeviceState *state = nullptr;
  bool pushed = false;
};

//===----------------------------------------------------------------------===//
// Streams
//===----------------------------------------------------------------------===//

/// The streams mgpuStreamCreate made on this thread and mgpuStreamDestroy
/// has not destroyed, last made last: a compiled step runs on one stream at a
/// time (mpt-gpu-async-region), so the last one is the step's current
/// stream, on which runtime calls of the step (mptAllReduce) enqueue work.
void noteStreamCreated(CUstream stream);
void noteStreamDestroyed(CUstream stream);
/// The current step stream, or null outside a step.
CUstream currentStepStream();

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// Remembers the module and name of a function returned by
/// cuModuleGetFunction (a handle reused for another kernel starts afresh).
void recordKernel(CUfunction function, CUmodule module, const char *name);
/// Forgets the functions of a module that is unloaded.
void forgetModule(CUmodule module);
/// Remembers the kernel this thread launched last: a kernel that faults is
/// reported by a later call, whose message then names that kernel.
void noteLaunch(CUfunction function);
/// "'name'" for error messages (or the handle when it is unknown).
std::string kernelLabel(CUfunction function);
/// Raises the function's dynamic shared memory limit to `bytes` if it is
/// above the default 48 KiB and above what was set before.
bool ensureDynamicSharedMemory(CUfunction function, int32_t bytes,
                               const char *api);

//===----------------------------------------------------------------------===//
// Host profile
//===----------------------------------------------------------------------===//

/// The ABI functions the host profile tells apart (Profile.cpp names them).
enum class ProfiledCall {
  ModuleLoad,
  ModuleLoadJIT,
  ModuleUnload,
  ModuleGetFunction,
  LaunchKernel,
  LaunchClusterKernel,
  StreamCreate,
  StreamDestroy,
  StreamSynchronize,
  StreamWaitEvent,
  EventCreate,
  EventDestroy,
  EventSynchronize,
  EventRecord,
  MemAlloc,
  MemFree,
  Memcpy,
  Memset32,
  Memset16,
  MemHostRegister,
  MemHostUnregister,
  TensorMapEncode,
  AllReduce,
  NumCalls
};

/// Whether MPT_CUDA_HOST_PROFILE asked for the profile (read once).
bool hostProfileEnabled();

/// Counts one call of an ABI function and adds the time until the scope ends.
class ProfileScope {
public:
  explicit ProfileScope(ProfiledCall call)
      : call(call), start(hostProfileEnabled() ? now() : 0) {}
  ~ProfileScope();
  ProfileScope(const ProfileScope &) = delete;
  ProfileScope &operator=(const ProfileScope &) = delete;

private:
  static uint64_t now();
  ProfiledCall call;
  uint64_t start;
};

} // namespace mpt::runtime

#endif // MPT_LIB_RUNTIME_SUPPORT_H
