// RUN: mpt-opt %s --mpt-split-deallocs --split-input-file | FileCheck %s

// %a is freed on its own; %b is what the caller keeps, so its condition
// becomes the ownership of the retained value.
// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[C:.*]]: i1)
// CHECK: %[[T:.*]] = arith.constant true
// CHECK: %[[A:.*]] = memref.alloc()
// CHECK: %[[B:.*]] = memref.alloc()
// CHECK: bufferization.dealloc (%[[A]] : memref<4xf32>) if (%[[T]])
// CHECK-NEXT: %[[R:.*]] = bufferization.dealloc retain (%[[B]] : memref<4xf32>)
// CHECK-NEXT: %[[O:.*]] = arith.ori %[[R]], %[[C]] : i1
// CHECK: return %[[B]], %[[O]]
func.func @split(%c: i1) -> (memref<4xf32>, i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %r = bufferization.dealloc (%a, %b : memref<4xf32>, memref<4xf32>)
      if (%true, %c) retain (%b : memref<4xf32>)
  return %b, %r : memref<4xf32>, i1
}

// -----

// A view of an allocation is that allocation; a function argument is
// distinct from an allocation made in the function.
// CHECK-LABEL: func.func @views
// CHECK-SAME: (%[[ARG:.*]]: memref<4xf32>
// CHECK: %[[A:.*]] = memref.alloc()
// CHECK: %[[V:.*]] = memref.subview %[[A]]
// CHECK: bufferization.dealloc (%[[V]] : memref<2xf32, strided<[1]>>)
// CHECK-NEXT: bufferization.dealloc retain (%[[ARG]] : memref<4xf32>)
func.func @views(%arg: memref<4xf32>, %c: i1) -> i1 {
  %a = memref.alloc() : memref<4xf32>
  %v = memref.subview %a[0][2][1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  %r = bufferization.dealloc (%v : memref<2xf32, strided<[1]>>) if (%c)
      retain (%arg : memref<4xf32>)
  return %r : i1
}

// -----

// @negative_maybe_retained: the retained value may be %a or %b, so neither
// may be freed or dropped here; the op is left to
// buffer-deallocation-simplification.
// CHECK-LABEL: func.func @negative_maybe_retained
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<4xf32>, memref<4xf32>) if
// CHECK-NOT: bufferization.dealloc
func.func @negative_maybe_retained(%c: i1) -> (memref<4xf32>, i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %s = arith.select %c, %a, %b : memref<4xf32>
  %r = bufferization.dealloc (%a, %b : memref<4xf32>, memref<4xf32>)
      if (%true, %true) retain (%s : memref<4xf32>)
  return %s, %r : memref<4xf32>, i1
}

// -----

// @negative_same_buffer: %a and its view are one buffer listed twice; the
// op frees it once, a split would free it twice.
// CHECK-LABEL: func.func @negative_same_buffer
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<4xf32>, memref<2xf32, strided<[1]>>)
// CHECK-NOT: bufferization.dealloc
func.func @negative_same_buffer(%c: i1) {
  %a = memref.alloc() : memref<4xf32>
  %v = memref.subview %a[0][2][1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  bufferization.dealloc (%a, %v : memref<4xf32>, memref<2xf32, strided<[1]>>)
      if (%c, %c)
  return
}

// -----

// @negative_loop_result: a memref that comes out of a loop may be %a
// (yielded through), so %a stays with it.
// CHECK-LABEL: func.func @negative_loop_result
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<4xf32>, memref<4xf32>)
// CHECK-NOT: bufferization.dealloc
func.func @negative_loop_result(%n: index, %c: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = memref.alloc() : memref<4xf32>
  %l = scf.for %i = %c0 to %n step %c1 iter_args(%x = %a) -> (memref<4xf32>) {
    scf.yield %x : memref<4xf32>
  }
  bufferization.dealloc (%a, %l : memref<4xf32>, memref<4xf32>) if (%c, %c)
  return
}
