/*===- CudaRuntime.h - mpt's CUDA host runtime (mgpu* ABI) --------*- C -*-===*\
|*                                                                            *|
|* The C interface of libmpt_cuda_runtime: the `mgpu*` functions that host    *|
|* code lowered by upstream MLIR 22.1 (`gpu-to-llvm` and the LLVM translation *|
|* of `gpu.binary` / `gpu.launch_func`) calls, plus a few `mpt*` extras for   *|
|* callers such as the Python AOT loader. See docs/Runtime.md.                *|
|*                                                                            *|
|* Handles are the CUDA driver's own types, forward declared so that this     *|
|* header does not need cuda.h. Every driver error is reported through one    *|
|* error path: by default it prints the message and aborts; a handler set     *|
|* with mptRuntimeSetErrorHandler gets the message instead, and the failing   *|
|* function then returns a null handle or pointer (or -1).                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef MPT_RUNTIME_CUDARUNTIME_H
#define MPT_RUNTIME_CUDARUNTIME_H

#include <stdint.h>

#if defined(_WIN32)
#define MPT_RUNTIME_EXPORT __declspec(dllexport)
#else
#define MPT_RUNTIME_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The driver's handle types (cuda.h: CUmodule, CUfunction, CUstream,
   CUevent). */
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;

/*===--------------------------------------------------------------------===*
 * The MLIR 22.1 `mgpu*` ABI. Integer widths are those of the emitted calls.
 *===--------------------------------------------------------------------===*/

/* Modules: a cubin or fatbin image, or PTX compiled by the driver's JIT. */
MPT_RUNTIME_EXPORT struct CUmod_st *mgpuModuleLoad(void *data, int64_t size);
MPT_RUNTIME_EXPORT struct CUmod_st *mgpuModuleLoadJIT(void *ptx,
                                                      int32_t optLevel);
MPT_RUNTIME_EXPORT void mgpuModuleUnload(struct CUmod_st *module);
MPT_RUNTIME_EXPORT struct CUfunc_st *
mgpuModuleGetFunction(struct CUmod_st *module, const char *name);

/* Launches. A grid with a zero extent launches nothing. More than 48 KiB of
   dynamic shared memory sets the kernel's
   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES first. `paramCount` is not
   needed by CUDA (the kernel knows its parameters). */
MPT_RUNTIME_EXPORT void
mgpuLaunchKernel(struct CUfunc_st *function, int64_t gridX, int64_t gridY,
                 int64_t gridZ, int64_t blockX, int64_t blockY, int64_t blockZ,
                 int32_t dynamicSharedBytes, struct CUstream_st *stream,
                 void **params, void **extra, int64_t paramCount);
MPT_RUNTIME_EXPORT void mgpuLaunchClusterKernel(
    struct CUfunc_st *function, int64_t clusterX, int64_t clusterY,
    int64_t clusterZ, int64_t gridX, int64_t gridY, int64_t gridZ,
    int64_t blockX, int64_t blockY, int64_t blockZ, int32_t dynamicSharedBytes,
    struct CUstream_st *stream, void **params, void **extra);

/* Streams (non-blocking) and events (no timing). */
MPT_RUNTIME_EXPORT struct CUstream_st *mgpuStreamCreate(void);
MPT_RUNTIME_EXPORT void mgpuStreamDestroy(struct CUstream_st *stream);
MPT_RUNTIME_EXPORT void mgpuStreamSynchronize(struct CUstream_st *stream);
MPT_RUNTIME_EXPORT void mgpuStreamWaitEvent(struct CUstream_st *stream,
                                            struct CUevent_st *event);
MPT_RUNTIME_EXPORT struct CUevent_st *mgpuEventCreate(void);
MPT_RUNTIME_EXPORT void mgpuEventDestroy(struct CUevent_st *event);
MPT_RUNTIME_EXPORT void mgpuEventSynchronize(struct CUevent_st *event);
MPT_RUNTIME_EXPORT void mgpuEventRecord(struct CUevent_st *event,
                                        struct CUstream_st *stream);

/* Device memory, ordered on `stream` (a null stream is the legacy default
   stream). `hostShared` asks for managed memory. Zero bytes give a null
   pointer; freeing a null pointer does nothing. */
MPT_RUNTIME_EXPORT void *
mgpuMemAlloc(uint64_t sizeBytes, struct CUstream_st *stream, int8_t hostShared);
MPT_RUNTIME_EXPORT void mgpuMemFree(void *ptr, struct CUstream_st *stream);
MPT_RUNTIME_EXPORT void mgpuMemcpy(void *dst, void *src, uint64_t sizeBytes,
                                   struct CUstream_st *stream);
MPT_RUNTIME_EXPORT void mgpuMemset32(void *dst, uint32_t value, uint64_t count,
                                     struct CUstream_st *stream);
MPT_RUNTIME_EXPORT void mgpuMemset16(void *dst, uint16_t value, uint64_t count,
                                     struct CUstream_st *stream);

/* Page-locks (registers) the memory a strided memref descriptor of `rank`
   covers; `descriptor` points to the ranked descriptor {allocated, aligned,
   offset, sizes[rank], strides[rank]}. */
MPT_RUNTIME_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank,
                                                  void *descriptor,
                                                  int64_t elementSizeBytes);
MPT_RUNTIME_EXPORT void mgpuMemHostUnregisterMemRef(int64_t rank,
                                                    void *descriptor,
                                                    int64_t elementSizeBytes);

/* Selects the device whose primary context later calls on this thread use. */
MPT_RUNTIME_EXPORT void mgpuSetDefaultDevice(int32_t device);

/* Encodes a tiled TMA descriptor (CUtensorMap) for the memref `descriptor` of
   `rank` (1 to 5) and returns a device pointer to a copy of it. `dataType`,
   `interleave`, `swizzle`, `l2Promotion` and `oobFill` are the values of the
   driver's CUtensorMap* enums; `boxDims` holds `rank` extents in memref order
   (outermost first). Identical descriptors share one device copy, which lives
   as long as the process. */
MPT_RUNTIME_EXPORT void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill, int64_t *boxDims);

/*===--------------------------------------------------------------------===*
 * mpt extras: error handling and a small synchronous API for loaders.
 *===--------------------------------------------------------------------===*/

/* Called with the driver's CUresult (or CUDA_ERROR_INVALID_VALUE for a bad
   argument caught by the runtime) and the full message. */
typedef void (*mptRuntimeErrorHandler)(int32_t code, const char *message,
                                       void *userData);

/* Installs a process-wide handler; null restores the default (print to
   stderr and abort). When the handler returns, the failing function returns
   a null handle or pointer (or -1) and the caller must check
   mptRuntimeGetError. Set it before loading a compiled step: the step's
   modules load in a global constructor. */
MPT_RUNTIME_EXPORT void
mptRuntimeSetErrorHandler(mptRuntimeErrorHandler handler, void *userData);

/* The first error reported on this thread since the last clear (the root
   cause when one failure leads to more), or null. Valid until the next
   mptRuntimeClearError on this thread. */
MPT_RUNTIME_EXPORT const char *mptRuntimeGetError(void);
/* Its CUresult, or 0 when there is none. */
MPT_RUNTIME_EXPORT int32_t mptRuntimeGetErrorCode(void);
MPT_RUNTIME_EXPORT void mptRuntimeClearError(void);

/* Synchronous device memory for callers that own buffers (not stream
   ordered; mptMemFree waits for the device as cuMemFree does). */
MPT_RUNTIME_EXPORT void *mptMemAlloc(uint64_t sizeBytes);
MPT_RUNTIME_EXPORT void mptMemFree(void *ptr);
/* Copies between any host or device pointers (unified addressing) and
   returns when the copy is complete. */
MPT_RUNTIME_EXPORT void mptMemcpy(void *dst, const void *src,
                                  uint64_t sizeBytes);
/* Waits for all work of the default device's primary context. */
MPT_RUNTIME_EXPORT void mptSynchronize(void);
/* Free and total memory of the default device, in bytes. */
MPT_RUNTIME_EXPORT void mptMemGetInfo(uint64_t *freeBytes,
                                      uint64_t *totalBytes);
/* Compute capability of the default device as 10 * major + minor (90 for
   sm_90), or -1 on error. */
MPT_RUNTIME_EXPORT int32_t mptDeviceComputeCapability(void);
/* The ordinal of this thread's default device (mgpuSetDefaultDevice, 0
   unless set): the device whose memory a step called on this thread reads.
   Touches no driver. */
MPT_RUNTIME_EXPORT int32_t mptGetDefaultDevice(void);

/* Host-time profile. With the environment variable MPT_CUDA_HOST_PROFILE set
   (to 1 or "stderr", or to a file path), every mgpu* function counts its
   calls and the wall time spent in it, driver calls included; at exit the
   totals are printed to stderr or appended to the file as one JSON object
   {"mgpuLaunchKernel": {"calls": N, "us": T}, ...}. Unset (or 0), nothing is
   timed. */
MPT_RUNTIME_EXPORT int32_t mptRuntimeHostProfileEnabled(void);
/* Turns the counting on or off from now on (the environment only sets where
   it starts, and whether a report is written at exit). */
MPT_RUNTIME_EXPORT void mptRuntimeHostProfileEnable(int32_t enable);
/* Zeroes the totals (e.g. after warm-up calls). */
MPT_RUNTIME_EXPORT void mptRuntimeHostProfileReset(void);
/* Writes the totals so far, as the JSON object above, into `buffer`
   (NUL-terminated, truncated to `size`); returns the size needed, NUL
   included. */
MPT_RUNTIME_EXPORT int64_t mptRuntimeHostProfileReport(char *buffer,
                                                       int64_t size);

/*===--------------------------------------------------------------------===*
 * Data-parallel steps (mpt-data-parallel): one NCCL communicator per
 * process. NCCL is loaded when first needed, from $MPT_NCCL_LIBRARY or else
 * libnccl.so.2 on the library path. Errors from NCCL are reported with code
 * MPT_NCCL_ERROR_BASE + its ncclResult_t (MPT_NCCL_ERROR_BASE alone: NCCL
 * could not be loaded).
 *===--------------------------------------------------------------------===*/

#define MPT_NCCL_ERROR_BASE 10000
#define MPT_DISTRIBUTED_UNIQUE_ID_BYTES 128

/* NCCL's ncclDataType_t and ncclRedOp_t values, which mptAllReduce takes. */
enum {
  MPT_NCCL_INT8 = 0,
  MPT_NCCL_UINT8 = 1,
  MPT_NCCL_INT32 = 2,
  MPT_NCCL_UINT32 = 3,
  MPT_NCCL_INT64 = 4,
  MPT_NCCL_UINT64 = 5,
  MPT_NCCL_FLOAT16 = 6,
  MPT_NCCL_FLOAT32 = 7,
  MPT_NCCL_FLOAT64 = 8,
  MPT_NCCL_BFLOAT16 = 9
};
enum {
  MPT_NCCL_SUM = 0,
  MPT_NCCL_PROD = 1,
  MPT_NCCL_MAX = 2,
  MPT_NCCL_MIN = 3,
  MPT_NCCL_AVG = 4
};

/* Writes a new NCCL unique id (MPT_DISTRIBUTED_UNIQUE_ID_BYTES bytes) to
   `out`: rank 0 makes it and every rank passes it to mptDistributedInit.
   Returns 0, or -1 after reporting an error. */
MPT_RUNTIME_EXPORT int32_t mptDistributedGetUniqueId(void *out);
/* Makes this process rank `rank` of `worldSize` (ncclCommInitRank on this
   thread's default device; blocks until every rank has joined). Returns 0,
   or -1 after reporting an error (a bad rank, a communicator that exists
   already, NCCL missing or failing). */
MPT_RUNTIME_EXPORT int32_t mptDistributedInit(const void *uniqueId,
                                              int32_t rank, int32_t worldSize);
/* Destroys the communicator, if any: the process is a world of one again. */
MPT_RUNTIME_EXPORT void mptDistributedFinalize(void);
/* The communicator's world size and this process's rank (1 and 0 without a
   communicator). Steps call the first for shard.grid_shape. */
MPT_RUNTIME_EXPORT int32_t mptDistributedWorldSize(void);
MPT_RUNTIME_EXPORT int32_t mptDistributedRank(void);
/* NCCL's version code (e.g. 22703 for 2.27.3), or -1 after reporting why
   NCCL cannot be loaded. */
MPT_RUNTIME_EXPORT int32_t mptDistributedNcclVersion(void);
/* Called by steps: reduces `count` elements of NCCL type `dtype` from `send`
   into `recv` (which may be `send`) across the ranks with NCCL op `op`,
   enqueued on the step's current stream (the last stream mgpuStreamCreate
   made on this thread and mgpuStreamDestroy has not destroyed: a step runs
   on one). Without a communicator it copies `send` to `recv` on that
   stream. */
MPT_RUNTIME_EXPORT void mptAllReduce(void *send, void *recv, int64_t count,
                                     int32_t dtype, int32_t op);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MPT_RUNTIME_CUDARUNTIME_H */
