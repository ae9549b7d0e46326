// RUN: mpt-opt %s --mpt-gpu-async-region | FileCheck %s
// RUN: mpt-opt %s --mpt-gpu-async-region="host-local-callees=host_log" \
// RUN:   | FileCheck %s --check-prefix=LISTED
// RUN: mpt-opt %s --mpt-gpu-async-region="stream-ordered-callees=enqueue" \
// RUN:   | FileCheck %s --check-prefix=ORDERED

module attributes {gpu.container_module} {
gpu.module @kernels {
  gpu.func @k(%arg0: memref<16xf32>) kernel { gpu.return }
}
llvm.func @mgpuTensorMapEncodeTiledMemref(i64, !llvm.ptr, i64, i64, i64, i64, i64, !llvm.ptr) -> !llvm.ptr
llvm.func @opaque(!llvm.ptr)
func.func private @host_log(index)
func.func private @enqueue(index)

// A Hopper step's host code: TMA descriptors are encoded between launches
// from a box stored on the stack. One chain from the first allocation to the
// return; the host waits once.
// CHECK-LABEL: func.func @tma_maps
// CHECK:         %[[T0:.*]] = gpu.wait async
// CHECK:         %[[A:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] ()
// CHECK:         %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @kernels::@k
// CHECK-NOT:     gpu.wait
// CHECK:         llvm.alloca
// CHECK:         llvm.store
// CHECK:         llvm.store
// CHECK:         llvm.load
// CHECK:         llvm.call @mgpuTensorMapEncodeTiledMemref
// CHECK-NOT:     gpu.wait
// CHECK:         %[[T3:.*]] = gpu.launch_func async [%[[T2]]] @kernels::@k
// CHECK:         %[[T4:.*]] = gpu.dealloc async [%[[T3]]]
// CHECK-NEXT:    gpu.wait [%[[T4]]]
// CHECK-NEXT:    return
func.func @tma_maps(%desc: !llvm.ptr) {
  %c1 = arith.constant 1 : index
  %c1_i64 = arith.constant 1 : i64
  %c2_i64 = arith.constant 2 : i64
  %c64_i64 = arith.constant 64 : i64
  %a = gpu.alloc () : memref<16xf32>
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  %box = llvm.alloca %c2_i64 x i64 : (i64) -> !llvm.ptr
  llvm.store %c64_i64, %box : i64, !llvm.ptr
  %box1 = llvm.getelementptr %box[1] : (!llvm.ptr) -> !llvm.ptr, i64
  llvm.store %c64_i64, %box1 : i64, !llvm.ptr
  %first = llvm.load %box : !llvm.ptr -> i64
  %map = llvm.call @mgpuTensorMapEncodeTiledMemref(%c2_i64, %desc, %first, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %box) : (i64, !llvm.ptr, i64, i64, i64, i64, i64, !llvm.ptr) -> !llvm.ptr
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  gpu.dealloc %a : memref<16xf32>
  return
}

// An unknown call may read what the kernels write: the host waits before
// it and starts a new chain after it.
// CHECK-LABEL: func.func @unknown_call
// CHECK:         %[[T:.*]] = gpu.launch_func async
// CHECK-NEXT:    gpu.wait [%[[T]]]
// CHECK-NEXT:    llvm.call @opaque
// CHECK-NEXT:    %[[U:.*]] = gpu.wait async
// CHECK-NEXT:    %[[V:.*]] = gpu.launch_func async [%[[U]]]
// CHECK-NEXT:    gpu.wait [%[[V]]]
// CHECK-NEXT:    return
func.func @unknown_call(%p: !llvm.ptr, %a: memref<16xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  llvm.call @opaque(%p) : (!llvm.ptr) -> ()
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  return
}

// Stores through a pointer that is not a stack slot of the function, and
// volatile stores to one, wait.
// CHECK-LABEL: func.func @stores
// CHECK:         gpu.launch_func async
// CHECK-NEXT:    gpu.wait [
// CHECK-NEXT:    llvm.store %{{.*}}, %arg0
// CHECK:         gpu.launch_func async
// CHECK-NEXT:    gpu.wait [
// CHECK-NEXT:    llvm.store volatile
func.func @stores(%p: !llvm.ptr, %a: memref<16xf32>) {
  %c1 = arith.constant 1 : index
  %c1_i64 = arith.constant 1 : i64
  %slot = llvm.alloca %c1_i64 x i64 : (i64) -> !llvm.ptr
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  llvm.store %c1_i64, %p : i64, !llvm.ptr
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  llvm.store volatile %c1_i64, %slot : i64, !llvm.ptr
  return
}

// A callee named in host-local-callees does not wait; by default it does.
// CHECK-LABEL: func.func @listed_callee
// CHECK:         gpu.launch_func async
// CHECK-NEXT:    gpu.wait [
// CHECK-NEXT:    call @host_log
// LISTED-LABEL:  func.func @listed_callee
// LISTED:        %[[T:.*]] = gpu.launch_func async
// LISTED-NEXT:   call @host_log
// LISTED-NEXT:   gpu.launch_func async [%[[T]]]
func.func @listed_callee(%n: index, %a: memref<16xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  call @host_log(%n) : (index) -> ()
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  return
}

// A callee named in stream-ordered-callees enqueues on the current stream:
// no wait before it, and a stream is started for it when the block has
// none yet (here at the entry, then after a host wait).
// ORDERED-LABEL: func.func @stream_ordered
// ORDERED-NEXT:  %[[S:.*]] = gpu.wait async
// ORDERED-NEXT:  call @enqueue
// ORDERED:       %[[T:.*]] = gpu.launch_func async [%[[S]]]
// ORDERED-NEXT:  call @enqueue
// ORDERED-NEXT:  %[[U:.*]] = gpu.launch_func async [%[[T]]]
// ORDERED-NEXT:  gpu.wait [%[[U]]]
// ORDERED-NEXT:  call @host_log
// ORDERED-NEXT:  %[[V:.*]] = gpu.wait async
// ORDERED-NEXT:  call @enqueue
// ORDERED-NEXT:  gpu.wait [%[[V]]]
// CHECK-LABEL: func.func @stream_ordered
// CHECK:         gpu.launch_func async
// CHECK-NEXT:    gpu.wait [
// CHECK-NEXT:    call @enqueue
func.func @stream_ordered(%n: index, %a: memref<16xf32>) {
  call @enqueue(%n) : (index) -> ()
  %c1 = arith.constant 1 : index
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  call @enqueue(%n) : (index) -> ()
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  call @host_log(%n) : (index) -> ()
  call @enqueue(%n) : (index) -> ()
  return
}

// A loop body is a chain of its own, ended before its terminator; the host
// waits for the work before the loop (the loop holds GPU ops), and an
// existing synchronous gpu.wait ends a chain.
// CHECK-LABEL: func.func @nested
// CHECK:         %[[T:.*]] = gpu.launch_func async
// CHECK-NEXT:    gpu.wait [%[[T]]]
// CHECK-NEXT:    scf.for
// CHECK-NEXT:      %[[U:.*]] = gpu.wait async
// CHECK-NEXT:      %[[V:.*]] = gpu.launch_func async [%[[U]]]
// CHECK-NEXT:      gpu.wait [%[[V]]]
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[W:.*]] = gpu.wait async
// CHECK-NEXT:    %[[X:.*]] = gpu.launch_func async [%[[W]]]
// CHECK-NEXT:    gpu.wait [%[[X]]]
// CHECK-NEXT:    return
func.func @nested(%n: index, %a: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  scf.for %i = %c0 to %n step %c1 {
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  }
  gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%a : memref<16xf32>)
  gpu.wait
  return
}
}
