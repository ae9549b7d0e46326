// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch --canonicalize --cse | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=vectorize=false | FileCheck %s --check-prefix=OFF

// Elementwise kernels on vectors (mpt-linalg-to-gpu-launch, `vectorize`,
// default on): where every output and some input are contiguous along a
// static innermost dimension, a thread loads and stores W consecutive
// points at once (16 bytes of the widest element); blocks wholly inside
// whose vector operands are aligned (checked in the kernel) take that path.

// OFF-NOT: vector.

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#t3 = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#t2 = affine_map<(d0, d1) -> (d1, d0)>

// CHECK-LABEL: func.func @exp_row
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c16, {{.*}} threads({{.*}}) in (%{{.*}} = %c256,
// CHECK:           %[[FULL:.*]] = arith.cmpi ule
// CHECK:           %[[PX:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK:           %[[RX:.*]] = arith.remui %[[PX]], %c16
// CHECK:           %[[AX:.*]] = arith.cmpi eq, %[[RX]], %c0
// CHECK:           %[[OK:.*]] = arith.andi %[[FULL]], %[[AX]]
// CHECK:           %[[PY:.*]] = memref.extract_aligned_pointer_as_index %arg2
// CHECK:           %[[RY:.*]] = arith.remui %[[PY]], %c16
// CHECK:           %[[AY:.*]] = arith.cmpi eq, %[[RY]], %c0
// CHECK:           %[[OK2:.*]] = arith.andi %[[OK]], %[[AY]]
// CHECK:           scf.if %[[OK2]] {
// CHECK:             %[[V:.*]] = vector.load %arg0[%[[I:.*]], %[[J:.*]], %[[K:.*]]] {alignment = 16 : i64} : memref<4x8x1024xf32>, vector<4xf32>
// CHECK-COUNT-4:     vector.extract %[[V]]
// CHECK-NEXT:        memref.load %arg1[%[[I]], %[[J]]] : memref<4x8xf32>
// CHECK-COUNT-4:     math.exp
// CHECK:             vector.from_elements
// CHECK:             vector.load %arg0{{.*}} vector<4xf32>
// CHECK-COUNT-4:     math.exp
// CHECK:             vector.from_elements
// CHECK-COUNT-2:     vector.store %{{.*}}, %arg2[{{.*}}] {alignment = 16 : i64} : memref<4x8x1024xf32>, vector<4xf32>
// CHECK:           } else {
// CHECK-NOT:         vector.
// CHECK-COUNT-8:     memref.store {{.*}} : memref<4x8x1024xf32>
// CHECK-NOT:         vector.
// CHECK:           gpu.terminator
// f32 with a row broadcast: vectors of 4, the row's value loaded once a vector.
func.func @exp_row(%x: memref<4x8x1024xf32>, %m: memref<4x8xf32>, %y: memref<4x8x1024xf32>) {
  linalg.generic {indexing_maps = [#id3, #row3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %m : memref<4x8x1024xf32>, memref<4x8xf32>) outs(%y : memref<4x8x1024xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    %e = math.exp %s : f32
    linalg.yield %e : f32
  }
  return
}

// CHECK-LABEL: func.func @add_f16
// CHECK-COUNT-2: vector.load {{.*}} {alignment = 16 : i64} : memref<37x1000xf16>, vector<8xf16>
// CHECK:         vector.store {{.*}} {alignment = 16 : i64} : memref<37x1000xf16>, vector<8xf16>
// CHECK-NOT:     vector.load
// CHECK:         } else {
// 16-bit only: vectors of 8 (16 bytes).
func.func @add_f16(%a: memref<37x1000xf16>, %b: memref<37x1000xf16>, %y: memref<37x1000xf16>) {
  linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : memref<37x1000xf16>, memref<37x1000xf16>) outs(%y : memref<37x1000xf16>) {
  ^bb0(%p: f16, %q: f16, %o: f16):
    %s = arith.addf %p, %q : f16
    linalg.yield %s : f16
  }
  return
}

// CHECK-LABEL: func.func @tcast
// CHECK-NOT:     vector.
// CHECK:         memref.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}] : memref<6x68x130xf32>
// CHECK-NOT:     vector.
// CHECK:         return
// Only a transposed read: no input is a vector, the point-at-a-time form.
func.func @tcast(%x: memref<6x68x130xf32>, %y: memref<6x130x68xbf16>) {
  linalg.generic {indexing_maps = [#t3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<6x68x130xf32>) outs(%y : memref<6x130x68xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %t = arith.truncf %a : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// CHECK-LABEL: func.func @odd
// CHECK-NOT:     vector.
// CHECK:         return
// An odd innermost size: no vector divides it.
func.func @odd(%a: memref<5x1003xf32>, %y: memref<5x1003xf32>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<5x1003xf32>) outs(%y : memref<5x1003xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.negf %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @dynamic
// CHECK-NOT:     vector.
// CHECK:         return
// A dynamic innermost size.
func.func @dynamic(%a: memref<4x?xf32>, %y: memref<4x?xf32>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x?xf32>) outs(%y : memref<4x?xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.negf %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @transposed_out
// CHECK-NOT:     vector.
// CHECK:         return
// A transposed output: its elements are not consecutive along the vector.
func.func @transposed_out(%a: memref<64x64xf32>, %y: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [#id2, #t2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<64x64xf32>) outs(%y : memref<64x64xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.negf %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @offset_view
// CHECK-NOT:     vector.
// CHECK:         return
// The only input is a view one element off a vector boundary.
func.func @offset_view(%a: memref<4x65xf32>, %y: memref<4x64xf32>) {
  %v = memref.subview %a[0, 1] [4, 64] [1, 1] : memref<4x65xf32> to memref<4x64xf32, strided<[65, 1], offset: 1>>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%v : memref<4x64xf32, strided<[65, 1], offset: 1>>) outs(%y : memref<4x64xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.negf %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @compare
// CHECK-NOT:     vector.
// CHECK:         return
// i1 results are not vectors.
func.func @compare(%a: memref<8x64xf32>, %y: memref<8x64xi1>) {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<8x64xf32>) outs(%y : memref<8x64xi1>) {
  ^bb0(%p: f32, %o: i1):
    %z = arith.constant 0.0 : f32
    %c = arith.cmpf olt, %p, %z : f32
    linalg.yield %c : i1
  }
  return
}
