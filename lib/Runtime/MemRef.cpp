//===- MemRef.cpp - mgpu* functions that take memref descriptors ----------===//
//
// Host registration of a memref's memory and the TMA descriptor encoder the
// NVGPU lowering calls (`nvgpu.tma.create.descriptor`). Both read a ranked
// strided memref descriptor: {allocated, aligned, offset, sizes[rank],
// strides[rank]}, sizes and strides in elements.
//
//===----------------------------------------------------------------------===//

#include "mpt/Runtime/CudaRuntime.h"

#include "Support.h"

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

using namespace mpt::runtime;

namespace {
/// A read-only view of a ranked memref descriptor.
class MemRefView {
public:
  MemRefView(int64_t rank, void *descriptor)
      : rank(rank), base(static_cast<char *>(descriptor)) {}

  char *aligned() const {
    char *ptr;
    std::memcpy(&ptr, base + sizeof(char *), sizeof(ptr));
    return ptr;
  }
  int64_t offset() const { return field(0); }
  int64_t size(int64_t dim) const { return field(1 + dim); }
  int64_t stride(int64_t dim) const { return field(1 + rank + dim); }

  /// The address of element 0 of the view.
  char *start(int64_t elementBytes) const {
    return aligned() + offset() * elementBytes;
  }

  /// Elements between the first and one past the last element of the view,
  /// or -1 for a negative stride.
  int64_t spanElements() const {
    int64_t span = 1;
    for (int64_t dim = 0; dim < rank; ++dim) {
      if (size(dim) == 0)
        return 0;
      if (stride(dim) < 0)
        return -1;
      span += (size(dim) - 1) * stride(dim);
    }
    return span;
  }

  std::string describe() const {
    std::string sizes, strides;
    for (int64_t dim = 0; dim < rank; ++dim) {
      sizes += (dim ? "x" : "") + std::to_string(size(dim));
      strides += (dim ? "x" : "") + std::to_string(stride(dim));
    }
    return "memref of rank " + std::to_string(rank) + " (sizes " + sizes +
           ", strides " + strides + ")";
  }

  const int64_t rank;

private:
  int64_t field(int64_t index) const {
    int64_t value;
    std::memcpy(&value, base + 2 * sizeof(char *) + index * sizeof(int64_t),
                sizeof(value));
    return value;
  }

  char *base;
};

//===----------------------------------------------------------------------===//
// TMA descriptors
//===----------------------------------------------------------------------===//

/// Bytes per element of CUtensorMapDataType UINT8 (0) .. TFLOAT32_FTZ (12).
constexpr int64_t kTensorMapElementBytes[] = {1, 2, 4, 4, 8, 8, 2,
                                              4, 8, 2, 4, 4, 4};
constexpr int64_t kNumTensorMapDataTypes =
    sizeof(kTensorMapElementBytes) / sizeof(kTensorMapElementBytes[0]);
constexpr int64_t kMaxTensorMapRank = 5;

/// Device copies of tensor maps, one per distinct (device, map), carved out
/// of 64 KiB slabs. A step whose buffers move between calls makes new maps
/// every call (seen: one a step of the MLP benchmark), so the store is
/// bounded: when a device's store is full, the device is synchronised (no
/// kernel reads a map any more), the maps are forgotten and new ones go to
/// the other of two sets of slabs. A map returned just before (for the same
/// launch: host code encodes A's map, then B's, then launches) stays intact
/// in the set it was written to until the next switch, 4096 maps later.
class TensorMapStore {
public:
  /// At most this many maps a device are known (8 slabs a set).
  static constexpr size_t kMaxMaps = 4096;

  /// The device copy of `map`; 0 after a failure, described in `failure`.
  /// The caller has made the device's context current.
  CUdeviceptr get(int32_t device, const CUtensorMap &map,
                  const char *&failedCall, CUresult &failure) {
    std::string key(reinterpret_cast<const char *>(&map), sizeof(map));
    std::lock_guard<std::mutex> lock(mutex);
    Device &d = devices[device];
    auto it = d.copies.find(key);
    if (it != d.copies.end())
      return it->second;
    if (d.copies.size() >= kMaxMaps) {
      if ((failure = cuCtxSynchronize()) != CUDA_SUCCESS) {
        failedCall = "cuCtxSynchronize";
        return 0;
      }
      d.copies.clear();
      d.used = 0;
      d.set ^= 1;
    }
    std::vector<CUdeviceptr> &slabs = d.slabs[d.set];
    size_t slab = d.used / kMapsPerSlab;
    if (slab == slabs.size()) {
      CUdeviceptr base = 0;
      if ((failure = cuMemAlloc(&base, kSlabBytes)) != CUDA_SUCCESS) {
        failedCall = "cuMemAlloc";
        return 0;
      }
      slabs.push_back(base);
    }
    CUdeviceptr copy =
        slabs[slab] + (d.used % kMapsPerSlab) * sizeof(CUtensorMap);
    // The copy is on the legacy stream; waiting for it makes the map visible
    // to kernels on any stream.
    if ((failure = cuMemcpyHtoD(copy, &map, sizeof(map))) != CUDA_SUCCESS) {
      failedCall = "cuMemcpyHtoD";
      return 0;
    }
    if ((failure = cuStreamSynchronize(nullptr)) != CUDA_SUCCESS) {
      failedCall = "cuStreamSynchronize";
      return 0;
    }
    ++d.used;
    d.copies.emplace(std::move(key), copy);
    return copy;
  }

private:
  static constexpr size_t kSlabBytes = 64 * 1024;
  static constexpr size_t kMapsPerSlab = kSlabBytes / sizeof(CUtensorMap);
  struct Device {
    /// Two sets of slabs, used in turn; `set` receives the new maps.
    std::vector<CUdeviceptr> slabs[2];
    int set = 0;
    /// Maps placed since the last switch; the next goes to slot `used`.
    size_t used = 0;
    std::unordered_map<std::string, CUdeviceptr> copies;
  };

  std::mutex mutex;
  std::unordered_map<int32_t, Device> devices;
};

TensorMapStore &tensorMapStore() {
  static auto *store = new TensorMapStore;
  return *store;
}

std::string describeTensorMap(const MemRefView &view, const int64_t *boxDims,
                              int64_t dataType, int64_t swizzle) {
  std::string box;
  for (int64_t dim = 0; dim < view.rank; ++dim)
    box += (dim ? "x" : "") + std::to_string(boxDims[dim]);
  return view.describe() + ", box " + box + ", data type " +
         std::to_string(dataType) + ", swizzle " + std::to_string(swizzle);
}
} // namespace

extern "C" void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                          int64_t elementSizeBytes) {
  ProfileScope profile(ProfiledCall::MemHostRegister);
  const char *api = "mgpuMemHostRegisterMemRef";
  MemRefView view(rank, descriptor);
  int64_t span = view.spanElements();
  if (span < 0) {
    reportError(CUDA_ERROR_INVALID_VALUE, api, "cuMemHostRegister",
                view.describe() + ": negative strides are not supported");
    return;
  }
  if (span == 0)
    return;
  ContextGuard guard(api);
  if (guard)
    check(cuMemHostRegister(view.start(elementSizeBytes),
                            size_t(span * elementSizeBytes), /*Flags=*/0),
          api, "cuMemHostRegister", [&] { return view.describe(); });
}

extern "C" void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                            int64_t elementSizeBytes) {
  ProfileScope profile(ProfiledCall::MemHostUnregister);
  const char *api = "mgpuMemHostUnregisterMemRef";
  MemRefView view(rank, descriptor);
  // Empty views were not registered (see above).
  if (view.spanElements() <= 0)
    return;
  ContextGuard guard(api);
  if (guard)
    check(cuMemHostUnregister(view.start(elementSizeBytes)), api,
          "cuMemHostUnregister", [&] { return view.describe(); });
}

extern "C" void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill, int64_t *boxDims) {
  ProfileScope profile(ProfiledCall::TensorMapEncode);
  const char *api = "mgpuTensorMapEncodeTiledMemref";
  const char *call = "cuTensorMapEncodeTiled";
  if (rank < 1 || rank > kMaxTensorMapRank || dataType < 0 ||
      dataType >= kNumTensorMapDataTypes) {
    reportError(CUDA_ERROR_INVALID_VALUE, api, call,
                "rank " + std::to_string(rank) + " and data type " +
                    std::to_string(dataType) +
                    ": supported are ranks 1 to 5 and data types 0 to 12");
    return nullptr;
  }
  MemRefView view(rank, descriptor);
  auto describe = [&] {
    return describeTensorMap(view, boxDims, dataType, swizzle);
  };
  // The driver orders dimensions innermost first; memrefs outermost first.
  int64_t elementBytes = kTensorMapElementBytes[dataType];
  cuuint64_t globalDim[kMaxTensorMapRank], globalStrides[kMaxTensorMapRank];
  cuuint32_t boxDim[kMaxTensorMapRank], elementStrides[kMaxTensorMapRank];
  for (int64_t i = 0; i < rank; ++i) {
    int64_t dim = rank - 1 - i;
    if (view.size(dim) < 0 || view.stride(dim) < 0 || boxDims[dim] < 0 ||
        boxDims[dim] > int64_t(UINT32_MAX)) {
      reportError(CUDA_ERROR_INVALID_VALUE, api, call,
                  describe() + ": sizes, strides and box must be "
                               "non-negative and fit the driver's types");
      return nullptr;
    }
    globalDim[i] = cuuint64_t(view.size(dim));
    boxDim[i] = cuuint32_t(boxDims[dim]);
    elementStrides[i] = 1;
    // Strides in bytes of every dimension but the innermost.
    if (i > 0)
      globalStrides[i - 1] = cuuint64_t(view.stride(dim) * elementBytes);
  }
  CUtensorMap map = {}; // zeroed, so equal maps compare equal bytewise
  if (!check(cuTensorMapEncodeTiled(
                 &map, CUtensorMapDataType(dataType), cuuint32_t(rank),
                 view.start(elementBytes), globalDim, globalStrides, boxDim,
                 elementStrides, CUtensorMapInterleave(interleave),
                 CUtensorMapSwizzle(swizzle),
                 CUtensorMapL2promotion(l2Promotion),
                 CUtensorMapFloatOOBfill(oobFill)),
             api, call, describe))
    return nullptr;

  ContextGuard guard(api);
  if (!guard)
    return nullptr;
  const char *failedCall = nullptr;
  CUresult failure = CUDA_SUCCESS;
  CUdeviceptr copy =
      tensorMapStore().get(guard.device().ordinal, map, failedCall, failure);
  if (!copy) {
    reportError(failure, api, failedCall,
                "the device copy of the " + describe());
    return nullptr;
  }
  return reinterpret_cast<void *>(copy);
}
