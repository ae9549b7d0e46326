//===- DistributedTest.cpp - The runtime's NCCL communicator and all-reduce
//===//
//
// Against the fake driver and a fake NCCL loaded as NCCL would be
// (MPT_NCCL_LIBRARY names it; the CMake file passes its path). The test
// `NcclMissing` runs in a process of its own where no NCCL can be loaded.
//
//===----------------------------------------------------------------------===//

#include "FakeCudaDriver.h"
#include "FakeNccl.h"
#include "mpt/Runtime/CudaRuntime.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

fake::NcclState &ncclState() {
  // The runtime loaded the library by the same path: the same copy.
  static fake::NcclState *state = [] {
    void *handle = dlopen(std::getenv("MPT_NCCL_LIBRARY"), RTLD_NOW);
    auto get = reinterpret_cast<fake::NcclState *(*)()>(
        handle ? dlsym(handle, "fakeNcclState") : nullptr);
    return get ? get() : nullptr;
  }();
  return *state;
}

class DistributedTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::getenv("MPT_TEST_NCCL_MISSING"))
      GTEST_SKIP() << "NCCL is missing in this run";
    mgpuSetDefaultDevice(0);
    mptRuntimeSetErrorHandler(&DistributedTest::record, this);
    mptSynchronize();
    fake::reset();
    mptRuntimeClearError();
    ncclState() = fake::NcclState();
  }

  void TearDown() override {
    mptDistributedFinalize();
    mptRuntimeSetErrorHandler(nullptr, nullptr);
  }

  static void record(int32_t code, const char *message, void *self) {
    static_cast<DistributedTest *>(self)->messages.push_back(message);
    static_cast<DistributedTest *>(self)->codes.push_back(code);
  }

  void init(int32_t rank, int32_t size) {
    char id[MPT_DISTRIBUTED_UNIQUE_ID_BYTES];
    ASSERT_EQ(mptDistributedGetUniqueId(id), 0);
    ASSERT_EQ(mptDistributedInit(id, rank, size), 0);
  }

  std::vector<std::string> messages;
  std::vector<int32_t> codes;
};

TEST_F(DistributedTest, WithoutCommunicatorAWorldOfOneCopiesOnTheStepStream) {
  EXPECT_EQ(mptDistributedWorldSize(), 1);
  EXPECT_EQ(mptDistributedRank(), 0);
  CUstream stream = mgpuStreamCreate();
  auto *send = static_cast<float *>(mgpuMemAlloc(16, stream, false));
  auto *recv = static_cast<float *>(mgpuMemAlloc(16, stream, false));
  for (int i = 0; i < 4; ++i)
    send[i] = 1.5f * i;
  fake::driver().calls.clear();
  mptAllReduce(send, recv, 4, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  ASSERT_FALSE(fake::driver().calls.empty());
  EXPECT_EQ(fake::driver().calls.back(), "cuMemcpyAsync");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(recv[i], 1.5f * i);
  // In place: nothing to do.
  fake::driver().calls.clear();
  mptAllReduce(send, send, 4, MPT_NCCL_FLOAT32, MPT_NCCL_MAX);
  EXPECT_TRUE(fake::driver().calls.empty());
  EXPECT_TRUE(ncclState().allReduces.empty());
  mgpuMemFree(send, stream);
  mgpuMemFree(recv, stream);
  mgpuStreamDestroy(stream);
  EXPECT_TRUE(messages.empty());
}

TEST_F(DistributedTest, AllReduceRunsOnTheCurrentStepStream) {
  init(1, 2);
  EXPECT_EQ(mptDistributedWorldSize(), 2);
  EXPECT_EQ(mptDistributedRank(), 1);
  EXPECT_EQ(ncclState().initRanks, 2);
  EXPECT_EQ(ncclState().initRank, 1);
  EXPECT_EQ(ncclState().initId[5], 5) << "the unique id, passed on";
  float data[2] = {1, 2};
  CUstream outer = mgpuStreamCreate();
  CUstream inner = mgpuStreamCreate();
  ASSERT_NE(outer, inner);
  mptAllReduce(data, data, 2, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  mgpuStreamDestroy(inner);
  mptAllReduce(data, data, 2, MPT_NCCL_UINT8, MPT_NCCL_MAX);
  mgpuStreamDestroy(outer);
  ASSERT_EQ(ncclState().allReduces.size(), 2u);
  const fake::AllReduceCall &first = ncclState().allReduces[0];
  EXPECT_EQ(first.stream, inner);
  EXPECT_EQ(first.count, 2u);
  EXPECT_EQ(first.dtype, MPT_NCCL_FLOAT32);
  EXPECT_EQ(first.op, MPT_NCCL_SUM);
  EXPECT_EQ(ncclState().allReduces[1].stream, outer);
  EXPECT_EQ(ncclState().allReduces[1].op, MPT_NCCL_MAX);
  EXPECT_TRUE(messages.empty());
  mptDistributedFinalize();
  EXPECT_EQ(ncclState().comms, 0);
  EXPECT_EQ(mptDistributedWorldSize(), 1);
}

TEST_F(DistributedTest, AllReduceOutsideAStepIsAnError) {
  float data[1] = {1};
  mptAllReduce(data, data, 1, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mptAllReduce: called outside a step: no stream of "
                         "a step is live on this thread (mgpuStreamCreate)");
  EXPECT_EQ(codes[0], CUDA_ERROR_INVALID_VALUE);
}

TEST_F(DistributedTest, AllReduceArgumentsAreChecked) {
  CUstream stream = mgpuStreamCreate();
  float data[1] = {1};
  mptAllReduce(data, data, 1, 42, MPT_NCCL_SUM);
  mptAllReduce(data, data, 1, MPT_NCCL_FLOAT32, 9);
  mptAllReduce(data, data, -1, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  mptAllReduce(nullptr, data, 1, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  mgpuStreamDestroy(stream);
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0], "mptAllReduce: count 1, NCCL type 42, NCCL op 0");
  EXPECT_EQ(messages[1], "mptAllReduce: count 1, NCCL type 7, NCCL op 9");
}

TEST_F(DistributedTest, InitChecksRankAndWorldSize) {
  char id[MPT_DISTRIBUTED_UNIQUE_ID_BYTES] = {};
  EXPECT_EQ(mptDistributedInit(id, 2, 2), -1);
  EXPECT_EQ(mptDistributedInit(id, 0, 0), -1);
  EXPECT_EQ(mptDistributedInit(nullptr, 0, 1), -1);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0], "mptDistributedInit: rank 2 of world size 2: "
                         "expected 0 <= rank < world size");
  EXPECT_EQ(messages[2], "mptDistributedInit: rank 0 of world size 1, null "
                         "unique id: expected 0 <= rank < world size");
  EXPECT_EQ(ncclState().initRank, -1) << "NCCL was not asked";
}

TEST_F(DistributedTest, SecondInitIsAnError) {
  init(0, 1);
  char id[MPT_DISTRIBUTED_UNIQUE_ID_BYTES] = {};
  EXPECT_EQ(mptDistributedInit(id, 0, 1), -1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mptDistributedInit: a communicator exists already "
                         "(rank 0 of 1); call mptDistributedFinalize first");
}

TEST_F(DistributedTest, NcclFailuresNameTheCallTheResultAndTheLastError) {
  ncclState().failInit = 5;
  char id[MPT_DISTRIBUTED_UNIQUE_ID_BYTES] = {};
  EXPECT_EQ(mptDistributedInit(id, 0, 2), -1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "mptDistributedInit: ncclCommInitRank failed: "
                         "invalid usage (NCCL error 5): rank 0 could not "
                         "connect");
  EXPECT_EQ(codes[0], MPT_NCCL_ERROR_BASE + 5);
  EXPECT_EQ(mptDistributedWorldSize(), 1) << "no communicator";

  ncclState().failInit = 0;
  init(0, 2);
  ncclState().failAllReduce = 6;
  CUstream stream = mgpuStreamCreate();
  float data[1] = {1};
  mptAllReduce(data, data, 1, MPT_NCCL_FLOAT32, MPT_NCCL_SUM);
  mgpuStreamDestroy(stream);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1],
            "mptAllReduce: ncclAllReduce failed: remote process exited or "
            "there was a network error (NCCL error 6): peer 1 exited");
  EXPECT_EQ(codes[1], MPT_NCCL_ERROR_BASE + 6);
}

TEST_F(DistributedTest, VersionComesFromNccl) {
  EXPECT_EQ(mptDistributedNcclVersion(), 22703);
}

// Run with MPT_NCCL_LIBRARY naming no library (ctest
// mpt-runtime-nccl-missing): every entry point that needs NCCL says where
// it looked and what to set.
TEST(DistributedMissingNccl, NamesTheLibraryAndTheVariable) {
  if (!std::getenv("MPT_TEST_NCCL_MISSING"))
    GTEST_SKIP() << "NCCL is there in this run";
  std::vector<std::string> messages;
  mptRuntimeSetErrorHandler(
      [](int32_t, const char *message, void *out) {
        static_cast<std::vector<std::string> *>(out)->push_back(message);
      },
      &messages);
  char id[MPT_DISTRIBUTED_UNIQUE_ID_BYTES];
  EXPECT_EQ(mptDistributedGetUniqueId(id), -1);
  EXPECT_EQ(mptDistributedNcclVersion(), -1);
  mptRuntimeSetErrorHandler(nullptr, nullptr);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].find("mptDistributedGetUniqueId: cannot load NCCL "
                             "from '"),
            std::string::npos)
      << messages[0];
  EXPECT_NE(messages[0].find("set MPT_NCCL_LIBRARY"), std::string::npos);
  EXPECT_EQ(mptRuntimeGetErrorCode(), MPT_NCCL_ERROR_BASE);
  // Steps without a communicator still run.
  EXPECT_EQ(mptDistributedWorldSize(), 1);
}

} // namespace
