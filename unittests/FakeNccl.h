//===- FakeNccl.h - What the fake NCCL records ------------------*- C++ -*-===//

#ifndef MPT_UNITTESTS_FAKENCCL_H
#define MPT_UNITTESTS_FAKENCCL_H

#include <cstddef>
#include <vector>

namespace fake {

struct NcclUniqueId {
  char bytes[128];
};

struct AllReduceCall {
  const void *send;
  void *recv;
  size_t count;
  int dtype, op;
  void *stream;
};

struct NcclState {
  /// ncclResult_t the next ncclCommInitRank / ncclAllReduce return (0: ok).
  int failInit = 0, failAllReduce = 0;
  int initRanks = 0, initRank = -1;
  char initId[128] = {};
  /// Communicators made and not destroyed.
  int comms = 0;
  std::vector<AllReduceCall> allReduces;
  char lastError[128] = {};
};

} // namespace fake

/// The state of the loaded fake (found with dlsym).
extern "C" fake::NcclState *fakeNcclState();

#endif // MPT_UNITTESTS_FAKENCCL_H
