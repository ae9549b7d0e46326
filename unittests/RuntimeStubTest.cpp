//===- RuntimeStubTest.cpp - libmpt_cuda_runtime on the toolkit's stub ----===//
//
// The shared library as built, loaded with the CUDA toolkit's stub libcuda
// (its RPATH points at the build tree's libcuda.so.1 -> stubs/libcuda.so):
// every driver call fails with CUDA_ERROR_STUB_LIBRARY, as it does on a
// machine where a program picked up the stub instead of the driver. Each
// exported function must report that, by name, and return a null result.
//
//===----------------------------------------------------------------------===//

#include "mpt/Runtime/CudaRuntime.h"

#include "gtest/gtest.h"

#include <functional>
#include <string>
#include <vector>

namespace {

struct Reported {
  std::vector<std::string> messages;
  std::vector<int32_t> codes;
};

void record(int32_t code, const char *message, void *userData) {
  auto *reported = static_cast<Reported *>(userData);
  reported->messages.push_back(message);
  reported->codes.push_back(code);
}

/// What every function reports: the driver cannot even be initialised.
std::string stubFailure(const std::string &api) {
  return api + ": cuInit failed for device 0: CUDA_ERROR_STUB_LIBRARY (34)";
}

class RuntimeStubTest : public ::testing::Test {
protected:
  void SetUp() override {
    mptRuntimeSetErrorHandler(&record, &reported);
    mptRuntimeClearError();
  }
  void TearDown() override { mptRuntimeSetErrorHandler(nullptr, nullptr); }

  Reported reported;
};

TEST_F(RuntimeStubTest, EveryFunctionReportsTheStubByName) {
  char image[16] = {};
  float host[16] = {};
  int64_t view[7] = {0, 0, 0, 4, 4, 4, 1};
  view[0] = view[1] = reinterpret_cast<int64_t>(host);
  auto *stream = reinterpret_cast<CUstream_st *>(0x10);
  auto *event = reinterpret_cast<CUevent_st *>(0x20);
  auto *module = reinterpret_cast<CUmod_st *>(0x30);
  auto *function = reinterpret_cast<CUfunc_st *>(0x40);

  std::vector<std::pair<std::string, std::function<bool()>>> calls = {
      {"mgpuModuleLoad", [&] { return !mgpuModuleLoad(image, 16); }},
      {"mgpuModuleLoadJIT", [&] { return !mgpuModuleLoadJIT(image, 2); }},
      {"mgpuModuleUnload", [&] { return mgpuModuleUnload(module), true; }},
      {"mgpuModuleGetFunction",
       [&] { return !mgpuModuleGetFunction(module, "scale"); }},
      {"mgpuLaunchKernel",
       [&] {
         mgpuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0, stream, nullptr,
                          nullptr, 0);
         return true;
       }},
      {"mgpuLaunchClusterKernel",
       [&] {
         mgpuLaunchClusterKernel(function, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, stream,
                                 nullptr, nullptr);
         return true;
       }},
      {"mgpuStreamCreate", [&] { return !mgpuStreamCreate(); }},
      {"mgpuStreamDestroy", [&] { return mgpuStreamDestroy(stream), true; }},
      {"mgpuStreamSynchronize",
       [&] { return mgpuStreamSynchronize(stream), true; }},
      {"mgpuStreamWaitEvent",
       [&] { return mgpuStreamWaitEvent(stream, event), true; }},
      {"mgpuEventCreate", [&] { return !mgpuEventCreate(); }},
      {"mgpuEventDestroy", [&] { return mgpuEventDestroy(event), true; }},
      {"mgpuEventSynchronize",
       [&] { return mgpuEventSynchronize(event), true; }},
      {"mgpuEventRecord", [&] { return mgpuEventRecord(event, stream), true; }},
      {"mgpuMemAlloc", [&] { return !mgpuMemAlloc(64, stream, 0); }},
      {"mgpuMemFree", [&] { return mgpuMemFree(host, stream), true; }},
      {"mgpuMemcpy", [&] { return mgpuMemcpy(host, host, 4, stream), true; }},
      {"mgpuMemset32", [&] { return mgpuMemset32(host, 0, 1, stream), true; }},
      {"mgpuMemset16", [&] { return mgpuMemset16(host, 0, 1, stream), true; }},
      {"mgpuMemHostRegisterMemRef",
       [&] { return mgpuMemHostRegisterMemRef(2, view, 4), true; }},
      {"mgpuMemHostUnregisterMemRef",
       [&] { return mgpuMemHostUnregisterMemRef(2, view, 4), true; }},
      {"mptMemAlloc", [&] { return !mptMemAlloc(64); }},
      {"mptMemFree", [&] { return mptMemFree(host), true; }},
      {"mptMemcpy", [&] { return mptMemcpy(host, host + 4, 4), true; }},
      {"mptSynchronize", [&] { return mptSynchronize(), true; }},
      {"mptMemGetInfo",
       [&] {
         uint64_t free = 1, total = 1;
         mptMemGetInfo(&free, &total);
         return free == 0 && total == 0;
       }},
      {"mptDeviceComputeCapability",
       [&] { return mptDeviceComputeCapability() == -1; }},
  };
  for (auto &[api, call] : calls) {
    SCOPED_TRACE(api);
    reported = Reported();
    EXPECT_TRUE(call()) << "a failed call returns a null result";
    ASSERT_EQ(reported.messages.size(), 1u);
    EXPECT_EQ(reported.messages[0], stubFailure(api));
    EXPECT_EQ(reported.codes[0], 34);
  }
}

TEST_F(RuntimeStubTest, TensorMapEncodingNamesTheDriverCall) {
  // Encoding needs no context, so the stub answers the encoder itself.
  alignas(128) static float data[64 * 64];
  int64_t view[7] = {0, 0, 0, 64, 64, 64, 1};
  view[0] = view[1] = reinterpret_cast<int64_t>(data);
  int64_t box[2] = {32, 32};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(2, view, 7, 0, 0, 0, 0, box),
            nullptr);
  ASSERT_EQ(reported.messages.size(), 1u);
  EXPECT_EQ(reported.messages[0],
            "mgpuTensorMapEncodeTiledMemref: cuTensorMapEncodeTiled failed "
            "for memref of rank 2 (sizes 64x64, strides 64x1), box 32x32, "
            "data type 7, swizzle 0: CUDA_ERROR_STUB_LIBRARY (34)");
}

TEST_F(RuntimeStubTest, FirstErrorIsKeptForCallersThatCheck) {
  mgpuModuleLoad(nullptr, 0);
  mgpuModuleGetFunction(nullptr, "scale");
  ASSERT_EQ(reported.messages.size(), 2u);
  ASSERT_NE(mptRuntimeGetError(), nullptr);
  EXPECT_EQ(std::string(mptRuntimeGetError()), stubFailure("mgpuModuleLoad"));
  EXPECT_EQ(mptRuntimeGetErrorCode(), 34);
  mptRuntimeClearError();
  EXPECT_EQ(mptRuntimeGetError(), nullptr);
  EXPECT_EQ(mptRuntimeGetErrorCode(), 0);
}

TEST_F(RuntimeStubTest, SettingTheDefaultDeviceIsNotAnError) {
  mgpuSetDefaultDevice(1);
  mgpuSetDefaultDevice(0);
  EXPECT_TRUE(reported.messages.empty());
}

TEST(RuntimeStubDeathTest, WithoutHandlerTheRuntimePrintsAndAborts) {
  EXPECT_DEATH(mgpuStreamCreate(),
               "mpt-cuda-runtime: mgpuStreamCreate: cuInit failed for device "
               "0: CUDA_ERROR_STUB_LIBRARY");
}

} // namespace
