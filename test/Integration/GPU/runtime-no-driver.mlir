// REQUIRES: cuda-toolkit, mpt-cuda-runtime
// A program compiled from GPU host code, linked against libmpt_cuda_runtime
// and run where the driver is the toolkit's stub (as on a machine without a
// GPU): its global constructor loads the module, the runtime reports the
// failure by function, driver call and device, and aborts before main.
//
// RUN: mpt-opt %s --gpu-lower-to-nvvm-pipeline | mlir-translate --mlir-to-llvmir -o %t.ll
// RUN: llc -filetype=obj -relocation-model=pic %t.ll -o %t.o
// RUN: %host_cc %t.o %mpt_cuda_runtime -Wl,-rpath,%cuda_stub_dir/.. -Wl,-rpath-link,%cuda_stub_dir -o %t.exe
// RUN: env LD_LIBRARY_PATH=%cuda_stub_dir not --crash %t.exe 2>&1 | FileCheck %s

// CHECK: mpt-cuda-runtime: mgpuModuleLoad: cuInit failed for device 0: CUDA_ERROR_STUB_LIBRARY (34)
// CHECK-NOT: main ran

module attributes {gpu.container_module} {
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "cubin bytes">]

  llvm.func @puts(!llvm.ptr) -> i32
  llvm.mlir.global internal constant @ran("main ran\00") {addr_space = 0 : i32}

  func.func @main() -> i32 {
    %c1 = arith.constant 1 : index
    %p = llvm.mlir.addressof @ran : !llvm.ptr
    %r = llvm.call @puts(%p) : (!llvm.ptr) -> i32
    gpu.launch_func @kernels::@scale blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    %z = arith.constant 0 : i32
    return %z : i32
  }
}
