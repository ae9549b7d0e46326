// REQUIRES: cuda-toolkit, mpt-cuda-runtime
// libmpt_cuda_runtime defines every mgpu* function the host code of MLIR
// 22.1 calls: this module uses each GPU host op (launches with and without
// clusters, both kinds of gpu.binary object, stream joins, memory, host
// registration, TMA descriptors), is lowered by upstream's pipeline and LLVM
// translation, and the object must link against the runtime with no symbol
// left undefined. The DECL lines pin the signatures 22.1 emits.
//
// RUN: mpt-opt %s --gpu-lower-to-nvvm-pipeline | mlir-translate --mlir-to-llvmir -o %t.ll
// RUN: FileCheck %s --check-prefix=DECL --input-file=%t.ll
// RUN: llc -filetype=obj -relocation-model=pic %t.ll -o %t.o
// RUN: %host_cc -shared %t.o %mpt_cuda_runtime -Wl,--no-undefined -o %t.so
// RUN: llvm-nm -D --defined-only %mpt_cuda_runtime | FileCheck %s --check-prefix=NM
// RUN: llvm-nm -D --defined-only %mpt_cuda_runtime | FileCheck %s --check-prefix=ONLY
// RUN: llvm-nm -D --undefined-only %t.so | FileCheck %s --check-prefix=USES
// RUN: llvm-nm -D --undefined-only %t.so | FileCheck %s --check-prefix=NODRIVER

// DECL-DAG: declare ptr @mgpuModuleLoad(ptr, i64)
// DECL-DAG: declare ptr @mgpuModuleLoadJIT(ptr, i32)
// DECL-DAG: declare void @mgpuModuleUnload(ptr)
// DECL-DAG: declare ptr @mgpuModuleGetFunction(ptr, ptr)
// DECL-DAG: declare void @mgpuLaunchKernel(ptr, i64, i64, i64, i64, i64, i64, i32, ptr, ptr, ptr, i64)
// DECL-DAG: declare void @mgpuLaunchClusterKernel(ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32, ptr, ptr, ptr)
// DECL-DAG: declare ptr @mgpuStreamCreate()
// DECL-DAG: declare void @mgpuStreamDestroy(ptr)
// DECL-DAG: declare void @mgpuStreamSynchronize(ptr)
// DECL-DAG: declare void @mgpuStreamWaitEvent(ptr, ptr)
// DECL-DAG: declare ptr @mgpuEventCreate()
// DECL-DAG: declare void @mgpuEventDestroy(ptr)
// DECL-DAG: declare void @mgpuEventRecord(ptr, ptr)
// DECL-DAG: declare ptr @mgpuMemAlloc(i64, ptr, i8)
// DECL-DAG: declare void @mgpuMemFree(ptr, ptr)
// DECL-DAG: declare void @mgpuMemcpy(ptr, ptr, i64, ptr)
// DECL-DAG: declare void @mgpuMemset32(ptr, i32, i64, ptr)
// DECL-DAG: declare void @mgpuMemset16(ptr, i16, i64, ptr)
// DECL-DAG: declare void @mgpuMemHostRegisterMemRef(i64, ptr, i64)
// DECL-DAG: declare void @mgpuMemHostUnregisterMemRef(i64, ptr, i64)
// DECL-DAG: declare void @mgpuSetDefaultDevice(i32)
// DECL-DAG: declare ptr @mgpuTensorMapEncodeTiledMemref(i64, ptr, i64, i64, i64, i64, i64, ptr)

// The runtime exports the whole ABI (mgpuEventSynchronize too, which this
// module has no use for) and its mpt* extras.
// NM-DAG: T mgpuEventCreate
// NM-DAG: T mgpuEventDestroy
// NM-DAG: T mgpuEventRecord
// NM-DAG: T mgpuEventSynchronize
// NM-DAG: T mgpuLaunchClusterKernel
// NM-DAG: T mgpuLaunchKernel
// NM-DAG: T mgpuMemAlloc
// NM-DAG: T mgpuMemFree
// NM-DAG: T mgpuMemHostRegisterMemRef
// NM-DAG: T mgpuMemHostUnregisterMemRef
// NM-DAG: T mgpuMemcpy
// NM-DAG: T mgpuMemset16
// NM-DAG: T mgpuMemset32
// NM-DAG: T mgpuModuleGetFunction
// NM-DAG: T mgpuModuleLoad
// NM-DAG: T mgpuModuleLoadJIT
// NM-DAG: T mgpuModuleUnload
// NM-DAG: T mgpuSetDefaultDevice
// NM-DAG: T mgpuStreamCreate
// NM-DAG: T mgpuStreamDestroy
// NM-DAG: T mgpuStreamSynchronize
// NM-DAG: T mgpuStreamWaitEvent
// NM-DAG: T mgpuTensorMapEncodeTiledMemref
// NM-DAG: T mptDeviceComputeCapability
// NM-DAG: T mptGetDefaultDevice
// NM-DAG: T mptMemAlloc
// NM-DAG: T mptMemFree
// NM-DAG: T mptMemGetInfo
// NM-DAG: T mptMemcpy
// NM-DAG: T mptRuntimeClearError
// NM-DAG: T mptRuntimeGetError
// NM-DAG: T mptRuntimeGetErrorCode
// NM-DAG: T mptRuntimeSetErrorHandler
// NM-DAG: T mptSynchronize
// Nothing else: C++ library internals stay local.
// ONLY-NOT: {{ [A-Za-z] [^m]}}

// The linked object takes the ABI from the runtime, nothing from the driver.
// USES: U mgpuLaunchKernel
// NODRIVER-NOT: {{ U cu[A-Z]}}

!tmap = !nvgpu.tensormap.descriptor<tensor = memref<128x64xf16, 3>, swizzle = swizzle_128b, l2promo = none, oob = zero, interleave = none>
module attributes {gpu.container_module} {
  // Translation only embeds the objects; they are never loaded here.
  gpu.binary @cubin [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "cubin bytes">]
  gpu.binary @ptx [#gpu.object<#nvvm.target<chip = "sm_90a">, assembly = "PTX text">]

  func.func @step(%h: memref<256xf32>, %u: memref<*xf16>) {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    %c128 = arith.constant 128 : index
    %c256 = arith.constant 256 : index
    %s = arith.constant 2.0 : f32
    %z16 = arith.constant 0 : i16
    %smem = arith.constant 65536 : i32
    %dev = arith.constant 0 : i32
    gpu.set_default_device %dev
    %t0 = gpu.wait async
    %t1 = gpu.wait async
    %d, %ta = gpu.alloc async [%t0] () : memref<256xf32>
    %d16, %tb = gpu.alloc async [%t1] () : memref<256xi16>
    %tc = gpu.memcpy async [%ta] %d, %h : memref<256xf32>, memref<256xf32>
    %td = gpu.memset async [%tc] %d, %s : memref<256xf32>, f32
    %te = gpu.memset async [%tb] %d16, %z16 : memref<256xi16>, i16
    // Joining two streams: an event recorded on one, waited for on the other.
    %tj = gpu.wait async [%td, %te]
    %tf = gpu.launch_func async [%tj] @cubin::@scale blocks in (%c2, %c1, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %smem args(%d : memref<256xf32>, %s : f32)
    %tg = gpu.launch_func async [%tf] @ptx::@scale clusters in (%c2, %c1, %c1) blocks in (%c2, %c1, %c1) threads in (%c256, %c1, %c1) args(%d : memref<256xf32>, %s : f32)
    %th = gpu.dealloc async [%tg] %d : memref<256xf32>
    %ti = gpu.dealloc async [%th] %d16 : memref<256xi16>
    gpu.wait [%ti]
    %cast = memref.cast %h : memref<256xf32> to memref<*xf32>
    gpu.host_register %cast : memref<*xf32>
    gpu.host_unregister %cast : memref<*xf32>
    %map = nvgpu.tma.create.descriptor %u box[%c128, %c64] : memref<*xf16> -> !tmap
    return
  }
}
