//===- Profile.cpp - Host-time profile of the runtime's functions ---------===//
//
// Where a step's host time goes: with MPT_CUDA_HOST_PROFILE set, every ABI
// function counts its calls and the wall time spent inside it (driver calls
// included). Off, a scope costs one load of a flag that was read once.
//
//===----------------------------------------------------------------------===//

#include "Support.h"

#include "mpt/Runtime/CudaRuntime.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace mpt::runtime;

namespace {
constexpr int kNumCalls = static_cast<int>(ProfiledCall::NumCalls);

/// Indexed by ProfiledCall.
constexpr const char *kCallNames[kNumCalls] = {
    "mgpuModuleLoad",
    "mgpuModuleLoadJIT",
    "mgpuModuleUnload",
    "mgpuModuleGetFunction",
    "mgpuLaunchKernel",
    "mgpuLaunchClusterKernel",
    "mgpuStreamCreate",
    "mgpuStreamDestroy",
    "mgpuStreamSynchronize",
    "mgpuStreamWaitEvent",
    "mgpuEventCreate",
    "mgpuEventDestroy",
    "mgpuEventSynchronize",
    "mgpuEventRecord",
    "mgpuMemAlloc",
    "mgpuMemFree",
    "mgpuMemcpy",
    "mgpuMemset32",
    "mgpuMemset16",
    "mgpuMemHostRegisterMemRef",
    "mgpuMemHostUnregisterMemRef",
    "mgpuTensorMapEncodeTiledMemref",
    "mptAllReduce",
};

/// Trivially destructible, so that the report at exit may still read them.
std::atomic<uint64_t> callCounts[kNumCalls];
std::atomic<uint64_t> callNanoseconds[kNumCalls];

/// Where the report goes at exit: "1" (or any value that is not a path)
/// means stderr, anything else is a file the report is appended to.
const char *profileDestination() {
  const char *value = std::getenv("MPT_CUDA_HOST_PROFILE");
  if (!value || !*value || std::strcmp(value, "0") == 0)
    return nullptr;
  return value;
}

std::string reportText() {
  std::string text = "{";
  bool first = true;
  for (int i = 0; i < kNumCalls; ++i) {
    uint64_t calls = callCounts[i].load(std::memory_order_relaxed);
    if (!calls)
      continue;
    uint64_t ns = callNanoseconds[i].load(std::memory_order_relaxed);
    char entry[160];
    std::snprintf(entry, sizeof(entry),
                  "%s\"%s\": {\"calls\": %llu, \"us\": %.1f}",
                  first ? "" : ", ", kCallNames[i],
                  static_cast<unsigned long long>(calls), double(ns) / 1e3);
    text += entry;
    first = false;
  }
  return text + "}";
}

void reportAtExit() {
  const char *destination = profileDestination();
  std::string text = reportText();
  bool toStderr = std::strcmp(destination, "1") == 0 ||
                  std::strcmp(destination, "stderr") == 0;
  if (!toStderr) {
    if (FILE *file = std::fopen(destination, "a")) {
      std::fprintf(file, "%s\n", text.c_str());
      std::fclose(file);
      return;
    }
    std::fprintf(stderr,
                 "mpt-cuda-runtime: cannot open '%s' (MPT_CUDA_HOST_PROFILE) "
                 "for the host profile; it follows here\n",
                 destination);
  }
  std::fprintf(stderr, "mpt-cuda-runtime: host profile: %s\n", text.c_str());
}

/// -1 until the environment was read; then 0 or 1.
std::atomic<int> enabledState{-1};

bool readEnabled() {
  // Registered once, whichever thread reads the environment first.
  static const bool fromEnvironment = [] {
    if (!profileDestination())
      return false;
    std::atexit(reportAtExit);
    return true;
  }();
  int expected = -1;
  enabledState.compare_exchange_strong(expected, fromEnvironment ? 1 : 0);
  return enabledState.load(std::memory_order_relaxed) == 1;
}
} // namespace

bool mpt::runtime::hostProfileEnabled() {
  int state = enabledState.load(std::memory_order_relaxed);
  return state < 0 ? readEnabled() : state == 1;
}

uint64_t mpt::runtime::ProfileScope::now() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

mpt::runtime::ProfileScope::~ProfileScope() {
  if (!start)
    return;
  int index = static_cast<int>(call);
  callCounts[index].fetch_add(1, std::memory_order_relaxed);
  callNanoseconds[index].fetch_add(now() - start, std::memory_order_relaxed);
}

extern "C" int32_t mptRuntimeHostProfileEnabled(void) {
  return hostProfileEnabled() ? 1 : 0;
}

extern "C" void mptRuntimeHostProfileEnable(int32_t enable) {
  readEnabled(); // the environment's report at exit stays registered
  enabledState.store(enable ? 1 : 0, std::memory_order_relaxed);
}

extern "C" void mptRuntimeHostProfileReset(void) {
  for (int i = 0; i < kNumCalls; ++i) {
    callCounts[i].store(0, std::memory_order_relaxed);
    callNanoseconds[i].store(0, std::memory_order_relaxed);
  }
}

extern "C" int64_t mptRuntimeHostProfileReport(char *buffer, int64_t size) {
  std::string text = reportText();
  if (buffer && size > 0) {
    size_t n = std::min<size_t>(text.size(), size_t(size - 1));
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  return static_cast<int64_t>(text.size()) + 1;
}
