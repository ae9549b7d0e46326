//===- FakeNccl.cpp - A scriptable NCCL for the runtime's tests -----------===//
//
// Built as a shared library that the runtime loads in place of libnccl.so.2
// (MPT_NCCL_LIBRARY): NCCL's C functions, which record their arguments and
// fail when told to. "Device memory" is host memory (FakeCudaDriver), so an
// all-reduce in a world of one copies.
//
//===----------------------------------------------------------------------===//

#include "FakeNccl.h"

#include <cstdio>
#include <cstring>

namespace {
fake::NcclState state;
int commToken;
} // namespace

extern "C" {

fake::NcclState *fakeNcclState() { return &state; }

int ncclGetVersion(int *version) {
  *version = 22703;
  return 0;
}

int ncclGetUniqueId(fake::NcclUniqueId *id) {
  for (int i = 0; i < 128; ++i)
    id->bytes[i] = static_cast<char>(i);
  return 0;
}

int ncclCommInitRank(void **comm, int nranks, fake::NcclUniqueId id, int rank) {
  state.initRanks = nranks;
  state.initRank = rank;
  std::memcpy(state.initId, id.bytes, sizeof(state.initId));
  if (state.failInit) {
    std::snprintf(state.lastError, sizeof(state.lastError),
                  "rank %d could not connect", rank);
    return state.failInit;
  }
  *comm = &commToken;
  state.comms += 1;
  return 0;
}

int ncclCommDestroy(void *comm) {
  if (comm == &commToken)
    state.comms -= 1;
  return 0;
}

int ncclAllReduce(const void *send, void *recv, size_t count, int dtype, int op,
                  void *comm, void *stream) {
  state.allReduces.push_back({send, recv, count, dtype, op, stream});
  if (comm != &commToken)
    return 4; // ncclInvalidArgument
  if (state.failAllReduce) {
    std::snprintf(state.lastError, sizeof(state.lastError), "peer 1 exited");
    return state.failAllReduce;
  }
  size_t bytes = dtype == 7 ? 4 : 1; // enough for the tests: f32, bytes
  if (send != recv)
    std::memcpy(recv, send, count * bytes);
  return 0;
}

const char *ncclGetErrorString(int result) {
  switch (result) {
  case 4:
    return "invalid argument";
  case 5:
    return "invalid usage";
  case 6:
    return "remote process exited or there was a network error";
  default:
    return "unknown result";
  }
}

const char *ncclGetLastError(void *) { return state.lastError; }

} // extern "C"
