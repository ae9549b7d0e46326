//===- RuntimeTest.cpp - libmpt_cuda_runtime against a fake driver --------===//
//
// The runtime's objects linked with FakeCudaDriver.cpp instead of libcuda:
// every driver failure is reported with the runtime function, the driver
// call and (for launches and lookups) the kernel; launches get their shared
// memory opt-in and cluster shape; memory, memref and TMA arguments reach the
// driver as the driver expects them.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"
#include "mpt/Runtime/CudaRuntime.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using fake::count;
using fake::driver;

constexpr CUresult kFailure = CUDA_ERROR_INVALID_HANDLE;
/// How the runtime spells kFailure (the fake driver names and describes it).
const char *kFailureText =
    ": CUDA_ERROR_INVALID_HANDLE (400): invalid resource handle";

/// A ranked memref descriptor {allocated, aligned, offset, sizes, strides}.
template <int Rank> struct MemRef {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override {
    mgpuSetDefaultDevice(0);
    mptRuntimeSetErrorHandler(&RuntimeTest::record, this);
    // Device 0 is initialised before the test's own calls are counted.
    mptSynchronize();
    fake::reset();
    mptRuntimeClearError();
    messages.clear();
    codes.clear();
  }

  void TearDown() override {
    mptRuntimeSetErrorHandler(nullptr, nullptr);
    mgpuSetDefaultDevice(0);
    // Every context the runtime pushed was popped again: at most the
    // primary context it made current stays.
    EXPECT_LE(driver().contextStack.size(), 1u);
  }

  static void record(int32_t code, const char *message, void *self) {
    static_cast<RuntimeTest *>(self)->messages.push_back(message);
    static_cast<RuntimeTest *>(self)->codes.push_back(code);
  }

  static void fail(const char *call, CUresult result = kFailure) {
    driver().failures[call] = result;
  }

  CUfunction kernel(const char *name) {
    return mgpuModuleGetFunction(module(), name);
  }

  static CUmodule module() {
    return reinterpret_cast<CUmodule>(uintptr_t(0x2000));
  }

  std::vector<std::string> messages;
  std::vector<int32_t> codes;
};

//===----------------------------------------------------------------------===//
// Every driver call names itself
//===----------------------------------------------------------------------===//

struct FailureCase {
  const char *call;
  std::function<void(RuntimeTest &)> invoke;
  std::string message;
};

TEST_F(RuntimeTest, EveryDriverFailureNamesTheFunctionAndTheCall) {
  CUstream stream = mgpuStreamCreate();
  CUevent event = mgpuEventCreate();
  CUfunction scale = kernel("scale");
  void *pooled = mgpuMemAlloc(64, stream, 0);
  void *managed = mgpuMemAlloc(64, stream, 1);
  void *owned = mptMemAlloc(64);
  char image[16] = {};
  float host[16] = {};
  MemRef<2> view = {host, host, 0, {4, 4}, {4, 1}};
  int64_t box[2] = {2, 4};
  ASSERT_TRUE(messages.empty());

  std::vector<FailureCase> cases = {
      {"cuModuleLoadDataEx", [&](auto &) { mgpuModuleLoad(image, 16); },
       "mgpuModuleLoad: cuModuleLoadDataEx failed for a module image"},
      {"cuModuleLoadDataEx", [&](auto &) { mgpuModuleLoadJIT(image, 2); },
       "mgpuModuleLoadJIT: cuModuleLoadDataEx failed for a module image"},
      {"cuModuleGetFunction",
       [&](auto &) { mgpuModuleGetFunction(module(), "gemm_bf16"); },
       "mgpuModuleGetFunction: cuModuleGetFunction failed for kernel "
       "'gemm_bf16'"},
      {"cuLaunchKernel",
       [&](auto &) {
         mgpuLaunchKernel(scale, 2, 3, 4, 128, 1, 1, 0, stream, nullptr,
                          nullptr, 0);
       },
       "mgpuLaunchKernel: cuLaunchKernel failed for kernel 'scale' (grid "
       "2x3x4, block 128x1x1, 0 bytes of dynamic shared memory)"},
      {"cuLaunchKernelEx",
       [&](auto &) {
         mgpuLaunchClusterKernel(scale, 2, 1, 1, 4, 1, 1, 64, 1, 1, 256, stream,
                                 nullptr, nullptr);
       },
       "mgpuLaunchClusterKernel: cuLaunchKernelEx failed for kernel 'scale' "
       "(grid 4x1x1, block 64x1x1, 256 bytes of dynamic shared memory) in "
       "clusters of 2x1x1"},
      {"cuStreamCreate", [&](auto &) { mgpuStreamCreate(); },
       "mgpuStreamCreate: cuStreamCreate failed"},
      {"cuStreamDestroy", [&](auto &) { mgpuStreamDestroy(stream); },
       "mgpuStreamDestroy: cuStreamDestroy failed"},
      {"cuStreamSynchronize", [&](auto &) { mgpuStreamSynchronize(stream); },
       "mgpuStreamSynchronize: cuStreamSynchronize failed"},
      {"cuStreamWaitEvent", [&](auto &) { mgpuStreamWaitEvent(stream, event); },
       "mgpuStreamWaitEvent: cuStreamWaitEvent failed"},
      {"cuEventCreate", [&](auto &) { mgpuEventCreate(); },
       "mgpuEventCreate: cuEventCreate failed"},
      {"cuEventDestroy", [&](auto &) { mgpuEventDestroy(event); },
       "mgpuEventDestroy: cuEventDestroy failed"},
      {"cuEventSynchronize", [&](auto &) { mgpuEventSynchronize(event); },
       "mgpuEventSynchronize: cuEventSynchronize failed"},
      {"cuEventRecord", [&](auto &) { mgpuEventRecord(event, stream); },
       "mgpuEventRecord: cuEventRecord failed"},
      {"cuMemAllocFromPoolAsync", [&](auto &) { mgpuMemAlloc(96, stream, 0); },
       "mgpuMemAlloc: cuMemAllocFromPoolAsync failed for 96 bytes"},
      {"cuMemAllocManaged", [&](auto &) { mgpuMemAlloc(96, stream, 1); },
       "mgpuMemAlloc: cuMemAllocManaged failed for 96 bytes"},
      {"cuMemFreeAsync", [&](auto &) { mgpuMemFree(pooled, stream); },
       "mgpuMemFree: cuMemFreeAsync failed"},
      {"cuMemFree", [&](auto &) { mgpuMemFree(managed, stream); },
       "mgpuMemFree: cuMemFree failed"},
      {"cuMemcpyAsync", [&](auto &) { mgpuMemcpy(host, host, 8, stream); },
       "mgpuMemcpy: cuMemcpyAsync failed for 8 bytes"},
      {"cuMemsetD32Async", [&](auto &) { mgpuMemset32(host, 0, 4, stream); },
       "mgpuMemset32: cuMemsetD32Async failed for 4 32-bit words"},
      {"cuMemsetD16Async", [&](auto &) { mgpuMemset16(host, 0, 4, stream); },
       "mgpuMemset16: cuMemsetD16Async failed for 4 16-bit words"},
      {"cuMemHostRegister",
       [&](auto &) { mgpuMemHostRegisterMemRef(2, &view, 4); },
       "mgpuMemHostRegisterMemRef: cuMemHostRegister failed for memref of "
       "rank 2 (sizes 4x4, strides 4x1)"},
      {"cuMemHostUnregister",
       [&](auto &) { mgpuMemHostUnregisterMemRef(2, &view, 4); },
       "mgpuMemHostUnregisterMemRef: cuMemHostUnregister failed for memref "
       "of rank 2 (sizes 4x4, strides 4x1)"},
      {"cuTensorMapEncodeTiled",
       [&](auto &) {
         mgpuTensorMapEncodeTiledMemref(2, &view, 7, 0, 0, 0, 0, box);
       },
       "mgpuTensorMapEncodeTiledMemref: cuTensorMapEncodeTiled failed for "
       "memref of rank 2 (sizes 4x4, strides 4x1), box 2x4, data type 7, "
       "swizzle 0"},
      {"cuMemcpyHtoD",
       [&](auto &) {
         mgpuTensorMapEncodeTiledMemref(2, &view, 7, 0, 0, 0, 0, box);
       },
       "mgpuTensorMapEncodeTiledMemref: cuMemcpyHtoD failed for the device "
       "copy of the memref of rank 2"},
      {"cuMemAlloc", [&](auto &) { mptMemAlloc(32); },
       "mptMemAlloc: cuMemAlloc failed for 32 bytes"},
      {"cuMemFree", [&](auto &) { mptMemFree(owned); },
       "mptMemFree: cuMemFree failed"},
      {"cuMemcpy", [&](auto &) { mptMemcpy(host, host + 8, 16); },
       "mptMemcpy: cuMemcpy failed for 16 bytes"},
      {"cuCtxSynchronize", [&](auto &) { mptSynchronize(); },
       "mptSynchronize: cuCtxSynchronize failed"},
      {"cuMemGetInfo", [&](auto &) { mptMemGetInfo(nullptr, nullptr); },
       "mptMemGetInfo: cuMemGetInfo failed"},
      {"cuDeviceGetAttribute", [&](auto &) { mptDeviceComputeCapability(); },
       "mptDeviceComputeCapability: "
       "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR) failed"},
      // Last: unloading forgets the module's kernels ('scale').
      {"cuModuleUnload", [&](auto &) { mgpuModuleUnload(module()); },
       "mgpuModuleUnload: cuModuleUnload failed"},
  };
  for (FailureCase &c : cases) {
    SCOPED_TRACE(c.message);
    fake::reset();
    messages.clear();
    codes.clear();
    fail(c.call);
    c.invoke(*this);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].rfind(c.message, 0), 0u) << messages[0];
    EXPECT_NE(messages[0].find(kFailureText), std::string::npos);
    EXPECT_EQ(codes[0], int32_t(kFailure));
  }
}

TEST_F(RuntimeTest, FailedCallsReturnNullHandles) {
  fail("cuStreamCreate");
  fail("cuEventCreate");
  fail("cuModuleGetFunction");
  fail("cuModuleLoadDataEx");
  fail("cuMemAllocFromPoolAsync");
  fail("cuDeviceGetAttribute");
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  EXPECT_EQ(mgpuEventCreate(), nullptr);
  EXPECT_EQ(kernel("scale"), nullptr);
  EXPECT_EQ(mgpuModuleLoad(nullptr, 0), nullptr);
  EXPECT_EQ(mgpuMemAlloc(16, nullptr, 0), nullptr);
  EXPECT_EQ(mptDeviceComputeCapability(), -1);
  EXPECT_EQ(messages.size(), 6u);
}

TEST_F(RuntimeTest, InitialisationFailureNamesTheCallAndTheDevice) {
  mgpuSetDefaultDevice(5);
  fail("cuDevicePrimaryCtxRetain");
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], std::string("mgpuStreamCreate: "
                                     "cuDevicePrimaryCtxRetain failed for "
                                     "device 5") +
                             kFailureText);
  // Nothing was cached: the next call tries again and succeeds.
  driver().failures.clear();
  EXPECT_NE(mgpuStreamCreate(), nullptr);
  EXPECT_EQ(count("cuDevicePrimaryCtxRetain"), 2);
}

TEST_F(RuntimeTest, ErrorsTheDriverCannotNameAreNamedByTheRuntime) {
  fail("cuStreamCreate", CUDA_ERROR_OUT_OF_MEMORY);
  mgpuStreamCreate();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mgpuStreamCreate: cuStreamCreate failed: "
                         "CUDA_ERROR_OUT_OF_MEMORY (2)");
  fail("cuStreamCreate", CUresult(12345));
  mgpuStreamCreate();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1], "mgpuStreamCreate: cuStreamCreate failed: CUresult "
                         "12345 (12345)");
}

//===----------------------------------------------------------------------===//
// Error handling
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, FirstErrorIsKeptUntilCleared) {
  EXPECT_EQ(mptRuntimeGetError(), nullptr);
  EXPECT_EQ(mptRuntimeGetErrorCode(), 0);
  fail("cuStreamCreate");
  fail("cuEventCreate", CUDA_ERROR_INVALID_VALUE);
  mgpuStreamCreate();
  mgpuEventCreate();
  EXPECT_EQ(messages.size(), 2u);
  ASSERT_NE(mptRuntimeGetError(), nullptr);
  EXPECT_EQ(std::string(mptRuntimeGetError()), messages[0]);
  EXPECT_EQ(mptRuntimeGetErrorCode(), int32_t(kFailure));
  mptRuntimeClearError();
  EXPECT_EQ(mptRuntimeGetError(), nullptr);
  mgpuEventCreate();
  ASSERT_NE(mptRuntimeGetError(), nullptr);
  EXPECT_EQ(std::string(mptRuntimeGetError()), messages[2]);
  EXPECT_EQ(mptRuntimeGetErrorCode(), int32_t(CUDA_ERROR_INVALID_VALUE));
}

TEST_F(RuntimeTest, ErrorsAreKeptPerThread) {
  fail("cuStreamCreate");
  std::string other;
  std::thread([&] {
    mgpuStreamCreate();
    other = mptRuntimeGetError() ? mptRuntimeGetError() : "";
  }).join();
  EXPECT_EQ(other.rfind("mgpuStreamCreate: cuStreamCreate failed", 0), 0u);
  EXPECT_EQ(messages.size(), 1u) << "the handler is process-wide";
  EXPECT_EQ(mptRuntimeGetError(), nullptr);
}

TEST_F(RuntimeTest, DefaultHandlerPrintsAndAborts) {
  EXPECT_DEATH(
      {
        mptRuntimeSetErrorHandler(nullptr, nullptr);
        fail("cuModuleGetFunction");
        kernel("softmax_rows");
      },
      "mpt-cuda-runtime: mgpuModuleGetFunction: cuModuleGetFunction failed "
      "for kernel 'softmax_rows': CUDA_ERROR_INVALID_HANDLE");
}

//===----------------------------------------------------------------------===//
// Contexts
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, PrimaryContextIsRetainedOnceAndStaysCurrent) {
  driver().contextStack.clear();
  mgpuSetDefaultDevice(3);
  mgpuStreamCreate();
  mgpuStreamCreate();
  EXPECT_EQ(count("cuInit"), 1);
  EXPECT_EQ(count("cuDevicePrimaryCtxRetain"), 1);
  EXPECT_EQ(count("cuMemPoolCreate"), 1);
  EXPECT_EQ(driver().deviceOrdinals, std::vector<int>{3});
  // Made current once, on the thread that had none; never pushed.
  EXPECT_EQ(count("cuCtxSetCurrent"), 1);
  EXPECT_EQ(count("cuCtxPushCurrent"), 0);
  EXPECT_EQ(driver().contextStack,
            std::vector<CUcontext>{fake::primaryContext(3)});
}

TEST_F(RuntimeTest, AnotherCurrentContextIsRestoredAfterEachCall) {
  CUcontext foreign = reinterpret_cast<CUcontext>(uintptr_t(0xabc0));
  driver().contextStack = {foreign};
  mgpuStreamCreate();
  mgpuEventCreate();
  EXPECT_EQ(count("cuCtxPushCurrent"), 2);
  EXPECT_EQ(count("cuCtxPopCurrent"), 2);
  EXPECT_EQ(count("cuCtxSetCurrent"), 0);
  EXPECT_EQ(driver().lastPushed, fake::primaryContext(0));
  EXPECT_EQ(driver().contextStack, std::vector<CUcontext>{foreign});
  driver().contextStack.clear();
}

TEST_F(RuntimeTest, SwitchingTheDefaultDeviceSwitchesTheContext) {
  mgpuStreamCreate();
  ASSERT_EQ(driver().contextStack.size(), 1u);
  EXPECT_EQ(driver().contextStack.back(), fake::primaryContext(0));
  mgpuSetDefaultDevice(4);
  mgpuStreamCreate();
  // Device 0's context is current, so device 4's is pushed and popped.
  EXPECT_EQ(driver().lastPushed, fake::primaryContext(4));
  EXPECT_EQ(driver().contextStack.back(), fake::primaryContext(0));
  EXPECT_EQ(driver().deviceOrdinals, std::vector<int>{4});
}

TEST_F(RuntimeTest, TheDefaultDeviceIsPerThreadAndNeedsNoDriver) {
  EXPECT_EQ(mptGetDefaultDevice(), 0);
  mgpuSetDefaultDevice(4);
  EXPECT_EQ(mptGetDefaultDevice(), 4);
  int32_t other = -1;
  std::thread([&] { other = mptGetDefaultDevice(); }).join();
  EXPECT_EQ(other, 0) << "another thread keeps its own default device";
  EXPECT_TRUE(driver().calls.empty());
}

TEST_F(RuntimeTest, ModuleUnloadAfterDriverShutdownIsNotAnError) {
  fail("cuModuleUnload", CUDA_ERROR_DEINITIALIZED);
  mgpuModuleUnload(module());
  fail("cuCtxGetCurrent", CUDA_ERROR_DEINITIALIZED);
  mgpuModuleUnload(module());
  EXPECT_TRUE(messages.empty());
  // Elsewhere a shut-down driver is an error like any other.
  mgpuStreamCreate();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].rfind("mgpuStreamCreate: cuCtxGetCurrent failed", 0),
            0u);
}

//===----------------------------------------------------------------------===//
// Modules and launches
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, JitGetsTheOptimisationLevelAndReportsItsLog) {
  char ptx[] = ".version 8.0";
  EXPECT_NE(mgpuModuleLoadJIT(ptx, 3), nullptr);
  EXPECT_EQ(driver().lastJitOptLevel, 3u);
  mgpuModuleLoadJIT(ptx, 9);
  EXPECT_EQ(driver().lastJitOptLevel, 4u);
  driver().lastJitOptLevel = 77;
  mgpuModuleLoad(ptx, sizeof(ptx));
  EXPECT_EQ(driver().lastJitOptLevel, 77u) << "a binary gets no JIT level";

  fail("cuModuleLoadDataEx", CUDA_ERROR_INVALID_VALUE);
  driver().jitLog = "ptxas fatal: Unknown target 'sm_100'";
  mgpuModuleLoadJIT(ptx, 2);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mgpuModuleLoadJIT: cuModuleLoadDataEx failed for a "
                         "module image (JIT log: ptxas fatal: Unknown target "
                         "'sm_100'): CUDA_ERROR_INVALID_VALUE (1)");
}

TEST_F(RuntimeTest, KernelFaultsNameTheLastKernelLaunched) {
  CUfunction k = kernel("gather_rows");
  mgpuLaunchKernel(k, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  fail("cuStreamSynchronize", CUDA_ERROR_ILLEGAL_ADDRESS);
  mgpuStreamSynchronize(nullptr);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mgpuStreamSynchronize: cuStreamSynchronize failed: "
                         "CUDA_ERROR_ILLEGAL_ADDRESS (700); last launched on "
                         "this thread: kernel 'gather_rows'");
  // Other errors are not about a running kernel.
  fail("cuStreamSynchronize", CUDA_ERROR_INVALID_HANDLE);
  mgpuStreamSynchronize(nullptr);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].find("last launched"), std::string::npos);
}

TEST_F(RuntimeTest, LaunchPassesItsShape) {
  CUfunction scale = kernel("scale");
  CUstream stream = mgpuStreamCreate();
  mgpuLaunchKernel(scale, 7, 2, 1, 256, 2, 1, 4096, stream, nullptr, nullptr,
                   2);
  const fake::Launch &launch = driver().lastLaunch;
  EXPECT_EQ(launch.function, scale);
  EXPECT_EQ(launch.grid[0], 7u);
  EXPECT_EQ(launch.grid[1], 2u);
  EXPECT_EQ(launch.block[0], 256u);
  EXPECT_EQ(launch.block[1], 2u);
  EXPECT_EQ(launch.sharedBytes, 4096u);
  EXPECT_EQ(launch.stream, stream);
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, SharedMemoryOver48KiBIsOptedInOnceBeforeLaunch) {
  CUfunction gemm = kernel("gemm_f16_128x256");
  mgpuLaunchKernel(gemm, 1, 1, 1, 128, 1, 1, 100 * 1024, nullptr, nullptr,
                   nullptr, 0);
  std::vector<std::string> &calls = driver().calls;
  auto position = [&](const char *name) {
    return std::find(calls.begin(), calls.end(), name) - calls.begin();
  };
  EXPECT_LT(position("cuFuncSetAttribute"), position("cuLaunchKernel"));
  ASSERT_EQ(driver().attributesSet.size(), 1u);
  EXPECT_EQ(driver().attributesSet[0].first,
            CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
  EXPECT_EQ(driver().attributesSet[0].second, 100 * 1024);

  // The same or less needs nothing more; more raises the limit again.
  mgpuLaunchKernel(gemm, 1, 1, 1, 128, 1, 1, 100 * 1024, nullptr, nullptr,
                   nullptr, 0);
  mgpuLaunchKernel(gemm, 1, 1, 1, 128, 1, 1, 60 * 1024, nullptr, nullptr,
                   nullptr, 0);
  EXPECT_EQ(driver().attributesSet.size(), 1u);
  mgpuLaunchKernel(gemm, 1, 1, 1, 128, 1, 1, 200 * 1024, nullptr, nullptr,
                   nullptr, 0);
  ASSERT_EQ(driver().attributesSet.size(), 2u);
  EXPECT_EQ(driver().attributesSet[1].second, 200 * 1024);
  EXPECT_EQ(count("cuFuncGetAttribute"), 1);
  EXPECT_EQ(count("cuLaunchKernel"), 4);
}

TEST_F(RuntimeTest, ReloadedKernelsAreOptedInAgain) {
  // The fake driver gives a kernel of the same name the same handle, as a
  // real one may after an unload.
  CUfunction first = kernel("layernorm_bwd");
  mgpuLaunchKernel(first, 1, 1, 1, 32, 1, 1, 64 * 1024, nullptr, nullptr,
                   nullptr, 0);
  mgpuModuleUnload(module());
  CUfunction second = kernel("layernorm_bwd");
  ASSERT_EQ(first, second);
  mgpuLaunchKernel(second, 1, 1, 1, 32, 1, 1, 64 * 1024, nullptr, nullptr,
                   nullptr, 0);
  EXPECT_EQ(driver().attributesSet.size(), 2u);
}

TEST_F(RuntimeTest, StaticPlusDynamicSharedMemoryOver48KiBIsOptedIn) {
  driver().staticSharedBytes = 40 * 1024;
  CUfunction k = kernel("reduce_rows_static");
  mgpuLaunchKernel(k, 1, 1, 1, 32, 1, 1, 16 * 1024, nullptr, nullptr, nullptr,
                   0);
  ASSERT_EQ(driver().attributesSet.size(), 1u);
  EXPECT_EQ(driver().attributesSet[0].second, 16 * 1024);
}

TEST_F(RuntimeTest, SmallSharedMemoryNeedsNoOptIn) {
  CUfunction k = kernel("axpy");
  mgpuLaunchKernel(k, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  EXPECT_EQ(count("cuFuncGetAttribute"), 0);
  mgpuLaunchKernel(k, 1, 1, 1, 32, 1, 1, 48 * 1024, nullptr, nullptr, nullptr,
                   0);
  EXPECT_EQ(count("cuFuncSetAttribute"), 0);
  EXPECT_EQ(count("cuLaunchKernel"), 2);
}

TEST_F(RuntimeTest, SharedMemoryOptInFailureNamesTheKernel) {
  CUfunction k = kernel("attention_fwd");
  fail("cuFuncSetAttribute", CUDA_ERROR_INVALID_VALUE);
  mgpuLaunchKernel(k, 1, 1, 1, 32, 1, 1, 300 * 1024, nullptr, nullptr, nullptr,
                   0);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0],
            "mgpuLaunchKernel: cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_"
            "BYTES) failed for kernel 'attention_fwd' (307200 bytes of dynamic "
            "shared memory): CUDA_ERROR_INVALID_VALUE (1)");
  EXPECT_EQ(count("cuLaunchKernel"), 0);
}

TEST_F(RuntimeTest, EmptyGridLaunchesNothing) {
  CUfunction k = kernel("scale");
  mgpuLaunchKernel(k, 0, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  mgpuLaunchClusterKernel(k, 1, 1, 1, 4, 0, 1, 128, 1, 1, 0, nullptr, nullptr,
                          nullptr);
  EXPECT_EQ(count("cuLaunchKernel") + count("cuLaunchKernelEx"), 0);
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, OutOfRangeExtentsAreReportedNotTruncated) {
  CUfunction k = kernel("scale");
  mgpuLaunchKernel(k, int64_t(1) << 32, 1, 1, 128, 1, 1, 0, nullptr, nullptr,
                   nullptr, 0);
  mgpuLaunchKernel(k, 1, 1, 1, -1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  EXPECT_EQ(count("cuLaunchKernel"), 0);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0],
            "mgpuLaunchKernel: cuLaunchKernel failed for kernel 'scale' (grid "
            "4294967296x1x1, block 128x1x1, 0 bytes of dynamic shared "
            "memory): an extent is out of range: CUDA_ERROR_INVALID_VALUE (1)");
  EXPECT_EQ(codes[1], int32_t(CUDA_ERROR_INVALID_VALUE));
}

TEST_F(RuntimeTest, ClusterLaunchPassesTheClusterShape) {
  CUfunction k = kernel("wgmma_gemm");
  mgpuLaunchClusterKernel(k, 2, 1, 1, 8, 4, 1, 384, 1, 1, 64 * 1024, nullptr,
                          nullptr, nullptr);
  const fake::Launch &launch = driver().lastLaunch;
  EXPECT_EQ(launch.cluster[0], 2u);
  EXPECT_EQ(launch.cluster[1], 1u);
  EXPECT_EQ(launch.grid[0], 8u);
  EXPECT_EQ(launch.grid[1], 4u);
  EXPECT_EQ(launch.block[0], 384u);
  EXPECT_EQ(launch.sharedBytes, 64u * 1024);
  // Only the shared memory opt-in: 2 blocks per cluster are portable.
  ASSERT_EQ(driver().attributesSet.size(), 1u);

  mgpuLaunchClusterKernel(k, 16, 1, 1, 32, 1, 1, 128, 1, 1, 0, nullptr, nullptr,
                          nullptr);
  ASSERT_EQ(driver().attributesSet.size(), 2u);
  EXPECT_EQ(driver().attributesSet[1].first,
            CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED);
  EXPECT_EQ(driver().lastLaunch.cluster[0], 16u);

  mgpuLaunchClusterKernel(k, 0, 1, 1, 32, 1, 1, 128, 1, 1, 0, nullptr, nullptr,
                          nullptr);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("in clusters of 0x1x1: a cluster extent is out "
                             "of range"),
            std::string::npos);
  EXPECT_TRUE(driver().lastLaunch.cluster[0] == 16u);
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, AllocationsAreStreamOrderedFromThePool) {
  CUstream stream = mgpuStreamCreate();
  void *ptr = mgpuMemAlloc(1024, stream, 0);
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(count("cuMemAllocFromPoolAsync"), 1);
  EXPECT_EQ(count("cuStreamSynchronize"), 0);
  mgpuMemFree(ptr, stream);
  EXPECT_EQ(count("cuMemFreeAsync"), 1);
  EXPECT_EQ(count("cuMemFree"), 0);
}

TEST_F(RuntimeTest, AllocationWithoutStreamIsSynchronous) {
  void *ptr = mgpuMemAlloc(1024, nullptr, 0);
  ASSERT_NE(ptr, nullptr);
  EXPECT_EQ(count("cuStreamSynchronize"), 1);
  mgpuMemFree(ptr, nullptr);
}

TEST_F(RuntimeTest, ManagedAndPoolLessAllocationsAreFreedWithMemFree) {
  void *managed = mgpuMemAlloc(64, nullptr, 1);
  EXPECT_EQ(count("cuMemAllocManaged"), 1);
  mgpuMemFree(managed, nullptr);
  EXPECT_EQ(count("cuMemFree"), 1);

  mgpuSetDefaultDevice(7); // The fake device 7 has no memory pools.
  void *plain = mgpuMemAlloc(64, nullptr, 0);
  EXPECT_EQ(count("cuMemAlloc"), 1);
  EXPECT_EQ(count("cuMemPoolCreate"), 0);
  mgpuMemFree(plain, nullptr);
  EXPECT_EQ(count("cuMemFree"), 2);
  EXPECT_EQ(count("cuMemFreeAsync"), 0);
}

TEST_F(RuntimeTest, EmptyTransfersAndNullFreesDoNotReachTheDriver) {
  EXPECT_EQ(mgpuMemAlloc(0, nullptr, 0), nullptr);
  mgpuMemFree(nullptr, nullptr);
  mgpuMemcpy(nullptr, nullptr, 0, nullptr);
  mgpuMemset32(nullptr, 1, 0, nullptr);
  mgpuMemset16(nullptr, 1, 0, nullptr);
  EXPECT_EQ(mptMemAlloc(0), nullptr);
  mptMemFree(nullptr);
  mptMemcpy(nullptr, nullptr, 0);
  EXPECT_TRUE(driver().calls.empty());
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, CopiesAndSetsReachTheDriver) {
  CUstream stream = mgpuStreamCreate();
  auto *words = static_cast<uint32_t *>(mgpuMemAlloc(16, stream, 0));
  mgpuMemset32(words, 0xdeadbeef, 4, stream);
  EXPECT_EQ(words[3], 0xdeadbeefu);
  mgpuMemset16(words, 0x1234, 2, stream);
  EXPECT_EQ(words[0], 0x12341234u);
  uint32_t host[4] = {1, 2, 3, 4};
  mgpuMemcpy(words, host, sizeof(host), stream);
  EXPECT_EQ(words[2], 3u);
  uint32_t back[4] = {};
  mptMemcpy(back, words, sizeof(back));
  EXPECT_EQ(back[3], 4u);
  EXPECT_EQ(count("cuStreamSynchronize"), 1) << "mptMemcpy waits for its copy";
  mgpuMemFree(words, stream);
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, ExtrasAnswer) {
  EXPECT_EQ(mptDeviceComputeCapability(), 90);
  uint64_t free = 0, total = 0;
  mptMemGetInfo(&free, &total);
  EXPECT_EQ(free, 3u);
  EXPECT_EQ(total, 4u);
  void *ptr = mptMemAlloc(8);
  EXPECT_EQ(count("cuMemAlloc"), 1);
  mptMemFree(ptr);
  EXPECT_EQ(count("cuMemFree"), 1);
  mptSynchronize();
  EXPECT_EQ(count("cuCtxSynchronize"), 1);
  EXPECT_TRUE(messages.empty());
}

//===----------------------------------------------------------------------===//
// Memrefs: host registration and TMA descriptors
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, HostRegistrationCoversTheMemRefsElements) {
  float data[64] = {};
  // 3x4 floats, row stride 8 (a strided view), starting at element 2.
  MemRef<2> view = {data, data, 2, {3, 4}, {8, 1}};
  mgpuMemHostRegisterMemRef(2, &view, sizeof(float));
  ASSERT_EQ(driver().hostRegistrations.size(), 1u);
  EXPECT_EQ(driver().hostRegistrations[0].first, data + 2);
  EXPECT_EQ(driver().hostRegistrations[0].second, (2 * 8 + 3 + 1) * 4u);
  mgpuMemHostUnregisterMemRef(2, &view, sizeof(float));
  ASSERT_EQ(driver().hostUnregistrations.size(), 1u);
  EXPECT_EQ(driver().hostUnregistrations[0], data + 2);

  MemRef<1> empty = {data, data, 0, {0}, {1}};
  mgpuMemHostRegisterMemRef(1, &empty, sizeof(float));
  mgpuMemHostUnregisterMemRef(1, &empty, sizeof(float));
  EXPECT_EQ(driver().hostRegistrations.size(), 1u);
  EXPECT_EQ(driver().hostUnregistrations.size(), 1u);

  MemRef<1> reversed = {data, data, 63, {4}, {-1}};
  mgpuMemHostRegisterMemRef(1, &reversed, sizeof(float));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("negative strides are not supported"),
            std::string::npos);
}

TEST_F(RuntimeTest, TensorMapGetsInnermostFirstShapeStridesAndBox) {
  alignas(128) static uint16_t data[256 * 128];
  // A 128x64 tile of a 256x128 f16 matrix, starting at row 1.
  MemRef<2> view = {data, data, 128, {256, 128}, {128, 1}};
  int64_t box[2] = {128, 64};
  void *map = mgpuTensorMapEncodeTiledMemref(
      2, &view, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE,
      CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE, box);
  ASSERT_NE(map, nullptr);
  const fake::TensorMapEncoding &e = driver().lastEncoding;
  EXPECT_EQ(e.dataType, CU_TENSOR_MAP_DATA_TYPE_FLOAT16);
  EXPECT_EQ(e.rank, 2u);
  EXPECT_EQ(e.address, data + 128);
  EXPECT_EQ(e.globalDim, (std::vector<cuuint64_t>{128, 256}));
  EXPECT_EQ(e.globalStrides, (std::vector<cuuint64_t>{256}));
  EXPECT_EQ(e.boxDim, (std::vector<cuuint32_t>{64, 128}));
  EXPECT_EQ(e.elementStrides, (std::vector<cuuint32_t>{1, 1}));
  EXPECT_EQ(e.swizzle, CU_TENSOR_MAP_SWIZZLE_128B);
  // The returned "device" copy holds the encoded map.
  CUtensorMap copy;
  std::memcpy(&copy, map, sizeof(copy));
  EXPECT_EQ(copy.opaque[0], reinterpret_cast<uintptr_t>(data + 128));
  EXPECT_EQ(uintptr_t(map) % alignof(CUtensorMap), 0u);
}

TEST_F(RuntimeTest, EqualTensorMapsShareOneDeviceCopy) {
  static float data[32 * 32];
  MemRef<2> view = {data, data, 0, {32, 32}, {32, 1}};
  int64_t box[2] = {8, 32};
  auto encode = [&] {
    return mgpuTensorMapEncodeTiledMemref(2, &view, 7, 0, 0, 0, 0, box);
  };
  void *first = encode();
  fake::reset();
  void *again = encode();
  EXPECT_EQ(first, again);
  EXPECT_EQ(count("cuMemcpyHtoD"), 0);
  box[0] = 16;
  void *other = encode();
  EXPECT_NE(other, first);
  EXPECT_EQ(count("cuMemcpyHtoD"), 1);
  EXPECT_EQ(count("cuMemAlloc"), 0) << "copies are carved out of one slab";
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, TensorMapStoreIsBoundedAndReusesItsSlabs) {
  // One new map a call, as a step whose buffers move between calls makes:
  // 4096 maps fill 8 slabs; the next synchronises the device and goes to a
  // second set of slabs, so that the map returned just before (the other
  // operand of the same launch) is not overwritten; 4096 maps later the
  // first set is reused.
  static float data[64 * 64];
  int64_t box[2] = {8, 8};
  auto encode = [&](int64_t offset) {
    MemRef<2> view = {data, data, offset, {32, 32}, {64, 1}};
    return mgpuTensorMapEncodeTiledMemref(2, &view, 7, 0, 0, 0, 0, box);
  };
  void *first = encode(0);
  void *last = nullptr;
  for (int64_t i = 1; i < 4096; ++i)
    ASSERT_NE(last = encode(i), nullptr);
  EXPECT_EQ(count("cuCtxSynchronize"), 0);
  EXPECT_EQ(count("cuMemAlloc"), 8);
  CUtensorMap before;
  std::memcpy(&before, last, sizeof(before));
  fake::reset();
  void *next = encode(4096);
  EXPECT_EQ(count("cuCtxSynchronize"), 1);
  EXPECT_EQ(count("cuMemAlloc"), 1) << "the second set's first slab";
  EXPECT_NE(next, first);
  EXPECT_EQ(std::memcmp(&before, last, sizeof(before)), 0)
      << "the map returned before the switch is intact";
  for (int64_t i = 4097; i < 8192; ++i)
    ASSERT_NE(encode(i), nullptr);
  fake::reset();
  EXPECT_EQ(encode(8192), first) << "back to the first set's first slot";
  EXPECT_EQ(count("cuCtxSynchronize"), 1);
  EXPECT_EQ(count("cuMemAlloc"), 0);
  EXPECT_TRUE(messages.empty());
}

TEST_F(RuntimeTest, TensorMapArgumentsOutsideTheDriversRangeAreReported) {
  static float data[64];
  MemRef<1> view = {data, data, 0, {64}, {1}};
  int64_t box[6] = {8, 8, 8, 8, 8, 8};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(6, &view, 7, 0, 0, 0, 0, box),
            nullptr);
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(1, &view, 13, 0, 0, 0, 0, box),
            nullptr);
  int64_t huge[1] = {int64_t(1) << 33};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(1, &view, 7, 0, 0, 0, 0, huge),
            nullptr);
  EXPECT_EQ(count("cuTensorMapEncodeTiled"), 0);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0], "mgpuTensorMapEncodeTiledMemref: "
                         "cuTensorMapEncodeTiled failed for rank 6 and data "
                         "type 7: supported are ranks 1 to 5 and data types 0 "
                         "to 12: CUDA_ERROR_INVALID_VALUE (1)");
  EXPECT_NE(messages[2].find("box 8589934592"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Host profile
//===----------------------------------------------------------------------===//

std::string profileReport() {
  int64_t size = mptRuntimeHostProfileReport(nullptr, 0);
  std::string text(size_t(size), '\0');
  EXPECT_EQ(mptRuntimeHostProfileReport(text.data(), size), size);
  text.resize(size_t(size - 1));
  return text;
}

TEST_F(RuntimeTest, HostProfileCountsEachFunctionOnlyWhileEnabled) {
  mptRuntimeHostProfileEnable(0);
  mptRuntimeHostProfileReset();
  CUfunction scale = kernel("scale");
  EXPECT_EQ(profileReport(), "{}") << "nothing counted while disabled";

  mptRuntimeHostProfileEnable(1);
  EXPECT_EQ(mptRuntimeHostProfileEnabled(), 1);
  CUstream stream = mgpuStreamCreate();
  for (int i = 0; i < 3; ++i)
    mgpuLaunchKernel(scale, 1, 1, 1, 32, 1, 1, 0, stream, nullptr, nullptr, 0);
  void *buffer = mgpuMemAlloc(256, stream, 0);
  mgpuMemFree(buffer, stream);
  mptRuntimeHostProfileEnable(0);
  mgpuStreamDestroy(stream);

  std::string text = profileReport();
  EXPECT_EQ(text.front(), '{');
  EXPECT_EQ(text.back(), '}');
  EXPECT_NE(text.find("\"mgpuLaunchKernel\": {\"calls\": 3, \"us\": "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"mgpuStreamCreate\": {\"calls\": 1,"),
            std::string::npos);
  EXPECT_NE(text.find("\"mgpuMemAlloc\": {\"calls\": 1,"), std::string::npos);
  EXPECT_NE(text.find("\"mgpuMemFree\": {\"calls\": 1,"), std::string::npos);
  EXPECT_EQ(text.find("mgpuStreamDestroy"), std::string::npos)
      << "called after the profile was turned off";
  EXPECT_EQ(text.find("mgpuModuleGetFunction"), std::string::npos);

  // Truncated to the buffer, always terminated.
  char small[8];
  EXPECT_EQ(mptRuntimeHostProfileReport(small, sizeof(small)),
            int64_t(text.size()) + 1);
  EXPECT_EQ(std::string(small), text.substr(0, 7));

  mptRuntimeHostProfileReset();
  EXPECT_EQ(profileReport(), "{}");
  EXPECT_TRUE(messages.empty());
}

} // namespace
