//===- Distributed.cpp - NCCL communicator and all-reduce for steps -------===//
//
// A data-parallel step (mpt-data-parallel) calls mptAllReduce, which
// enqueues ncclAllReduce on the step's stream. NCCL is loaded at run time
// (dlopen): a process that never makes a communicator needs no NCCL, and the
// runtime builds without its headers. Without a communicator a step runs as
// the one process of a world of one.
//
//===----------------------------------------------------------------------===//

#include "Support.h"
#include "mpt/Runtime/CudaRuntime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

using namespace mpt::runtime;

namespace {

// NCCL's C ABI (nccl.h, NCCL 2.x): the declarations used here.
using NcclComm = struct NcclCommOpaque *;
using NcclResult = int;
struct NcclUniqueId {
  char internal[MPT_DISTRIBUTED_UNIQUE_ID_BYTES];
};
constexpr NcclResult kNcclSuccess = 0;

/// NCCL's entry points, loaded once.
struct Nccl {
  NcclResult (*getVersion)(int *) = nullptr;
  NcclResult (*getUniqueId)(NcclUniqueId *) = nullptr;
  NcclResult (*commInitRank)(NcclComm *, int, NcclUniqueId, int) = nullptr;
  NcclResult (*commDestroy)(NcclComm) = nullptr;
  NcclResult (*allReduce)(const void *, void *, size_t, int, int, NcclComm,
                          CUstream) = nullptr;
  const char *(*getErrorString)(NcclResult) = nullptr;
  const char *(*getLastError)(NcclComm) = nullptr;
  /// Why NCCL could not be loaded; empty when it was.
  std::string failure;
};

const char *ncclLibraryPath() {
  const char *path = std::getenv("MPT_NCCL_LIBRARY");
  return path && *path ? path : "libnccl.so.2";
}

const Nccl &nccl() {
  static Nccl lib;
  static std::once_flag once;
  std::call_once(once, [] {
    const char *path = ncclLibraryPath();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char *why = dlerror();
      lib.failure = std::string("cannot load NCCL from '") + path +
                    "': " + (why ? why : "unknown error") +
                    " (set MPT_NCCL_LIBRARY to libnccl.so.2, e.g. the one "
                    "PyTorch ships in nvidia/nccl/lib)";
      return;
    }
    auto load = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(handle, name));
      if (!fn && lib.failure.empty())
        lib.failure =
            std::string("'") + path + "' has no " + name + ": not NCCL 2.x";
    };
    load(lib.getVersion, "ncclGetVersion");
    load(lib.getUniqueId, "ncclGetUniqueId");
    load(lib.commInitRank, "ncclCommInitRank");
    load(lib.commDestroy, "ncclCommDestroy");
    load(lib.allReduce, "ncclAllReduce");
    load(lib.getErrorString, "ncclGetErrorString");
    load(lib.getLastError, "ncclGetLastError");
  });
  return lib;
}

/// The process's communicator (one: the ranks of a data-parallel step).
struct Communicator {
  std::mutex mutex;
  NcclComm comm = nullptr;
  int32_t rank = 0;
  int32_t size = 1;
};

Communicator &communicator() {
  static Communicator state;
  return state;
}

void reportInvalid(const char *api, const std::string &what) {
  reportMessage(static_cast<int32_t>(CUDA_ERROR_INVALID_VALUE),
                std::string(api) + ": " + what);
}

/// Reports a failed NCCL call: "<api>: <call> failed: <string> (NCCL error
/// <n>)[: <last error>]", with code MPT_NCCL_ERROR_BASE + n.
bool checkNccl(NcclResult result, const char *api, const char *call,
               NcclComm comm = nullptr) {
  if (result == kNcclSuccess)
    return true;
  const Nccl &lib = nccl();
  std::string message = std::string(api) + ": " + call +
                        " failed: " + lib.getErrorString(result) +
                        " (NCCL error " + std::to_string(result) + ")";
  if (const char *last = lib.getLastError(comm); last && *last)
    message += std::string(": ") + last;
  reportMessage(MPT_NCCL_ERROR_BASE + result, message);
  return false;
}

/// NCCL, or false after reporting why it is missing.
bool haveNccl(const char *api) {
  const Nccl &lib = nccl();
  if (lib.failure.empty())
    return true;
  reportMessage(MPT_NCCL_ERROR_BASE, std::string(api) + ": " + lib.failure);
  return false;
}

/// Bytes of an element of NCCL type `dtype`, 0 if unknown.
int64_t elementBytes(int32_t dtype) {
  switch (dtype) {
  case MPT_NCCL_INT8:
  case MPT_NCCL_UINT8:
    return 1;
  case MPT_NCCL_FLOAT16:
  case MPT_NCCL_BFLOAT16:
    return 2;
  case MPT_NCCL_INT32:
  case MPT_NCCL_UINT32:
  case MPT_NCCL_FLOAT32:
    return 4;
  case MPT_NCCL_INT64:
  case MPT_NCCL_UINT64:
  case MPT_NCCL_FLOAT64:
    return 8;
  default:
    return 0;
  }
}

} // namespace

extern "C" int32_t mptDistributedGetUniqueId(void *out) {
  const char *api = "mptDistributedGetUniqueId";
  if (!out) {
    reportInvalid(api, "null buffer");
    return -1;
  }
  if (!haveNccl(api))
    return -1;
  NcclUniqueId id;
  if (!checkNccl(nccl().getUniqueId(&id), api, "ncclGetUniqueId"))
    return -1;
  std::memcpy(out, id.internal, sizeof(id.internal));
  return 0;
}

extern "C" int32_t mptDistributedInit(const void *uniqueId, int32_t rank,
                                      int32_t worldSize) {
  const char *api = "mptDistributedInit";
  if (!uniqueId || worldSize < 1 || rank < 0 || rank >= worldSize) {
    reportInvalid(api, "rank " + std::to_string(rank) + " of world size " +
                           std::to_string(worldSize) +
                           (uniqueId ? "" : ", null unique id") +
                           ": expected 0 <= rank < world size");
    return -1;
  }
  Communicator &state = communicator();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (state.comm) {
    reportInvalid(api, "a communicator exists already (rank " +
                           std::to_string(state.rank) + " of " +
                           std::to_string(state.size) +
                           "); call mptDistributedFinalize first");
    return -1;
  }
  if (!haveNccl(api))
    return -1;
  // NCCL binds the communicator to the current device: the default one.
  ContextGuard guard(api);
  if (!guard)
    return -1;
  NcclUniqueId id;
  std::memcpy(id.internal, uniqueId, sizeof(id.internal));
  NcclComm comm = nullptr;
  if (!checkNccl(nccl().commInitRank(&comm, worldSize, id, rank), api,
                 "ncclCommInitRank"))
    return -1;
  state.comm = comm;
  state.rank = rank;
  state.size = worldSize;
  return 0;
}

extern "C" void mptDistributedFinalize(void) {
  Communicator &state = communicator();
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.comm)
    return;
  checkNccl(nccl().commDestroy(state.comm), "mptDistributedFinalize",
            "ncclCommDestroy");
  state.comm = nullptr;
  state.rank = 0;
  state.size = 1;
}

extern "C" int32_t mptDistributedWorldSize(void) {
  Communicator &state = communicator();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.size;
}

extern "C" int32_t mptDistributedRank(void) {
  Communicator &state = communicator();
  std::lock_guard<std::mutex> lock(state.mutex);
  return state.rank;
}

extern "C" int32_t mptDistributedNcclVersion(void) {
  if (!haveNccl("mptDistributedNcclVersion"))
    return -1;
  int version = 0;
  if (!checkNccl(nccl().getVersion(&version), "mptDistributedNcclVersion",
                 "ncclGetVersion"))
    return -1;
  return version;
}

extern "C" void mptAllReduce(void *send, void *recv, int64_t count,
                             int32_t dtype, int32_t op) {
  ProfileScope profile(ProfiledCall::AllReduce);
  const char *api = "mptAllReduce";
  int64_t bytes = elementBytes(dtype);
  if (count < 0 || bytes == 0 || op < MPT_NCCL_SUM || op > MPT_NCCL_AVG ||
      (count > 0 && (!send || !recv))) {
    reportInvalid(api, "count " + std::to_string(count) + ", NCCL type " +
                           std::to_string(dtype) + ", NCCL op " +
                           std::to_string(op));
    return;
  }
  CUstream stream = currentStepStream();
  if (!stream) {
    reportInvalid(api, "called outside a step: no stream of a step is live "
                       "on this thread (mgpuStreamCreate)");
    return;
  }
  if (count == 0)
    return;
  Communicator &state = communicator();
  NcclComm comm;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    comm = state.comm;
  }
  if (!comm && send == recv)
    return; // One process: every reduction of one value is that value.
  ContextGuard guard(api);
  if (!guard)
    return;
  if (!comm) {
    check(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(recv),
                        reinterpret_cast<CUdeviceptr>(send),
                        static_cast<size_t>(count * bytes), stream),
          api, "cuMemcpyAsync");
    return;
  }
  checkNccl(nccl().allReduce(send, recv, static_cast<size_t>(count), dtype, op,
                             comm, stream),
            api, "ncclAllReduce", comm);
}
