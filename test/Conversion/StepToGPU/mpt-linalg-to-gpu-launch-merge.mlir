// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=merge-elementwise=false --split-input-file | FileCheck %s --check-prefix=OFF

// SGD with momentum on a step that may be skipped (dynamic loss scaling):
// the update writes the new weights and velocity (one op, two results),
// then a select per result keeps the old values when the step had Inf/NaN.
// One kernel: the update's results pass to the selects in registers, their
// buffers and frees are gone; the kernel stores only the two results.
// CHECK-LABEL: func.func @skipped_update
// CHECK-NOT:     gpu.alloc
// CHECK:         function(@skipped_update_0_generic)
// CHECK:           memref.load %arg4[]
// CHECK:           memref.store %{{.*}}, %arg5[
// CHECK:           memref.store %{{.*}}, %arg6[
// CHECK-NOT:     gpu.launch
// CHECK-NOT:     gpu.dealloc
// CHECK:         return
// OFF-LABEL: func.func @skipped_update
// OFF-COUNT-3: gpu.launch
// OFF-NOT:     gpu.launch
// OFF:         return
#id = affine_map<(d0, d1) -> (d0, d1)>
#s = affine_map<(d0, d1) -> ()>
func.func @skipped_update(%w: memref<33x130xf32>, %v: memref<33x130xf32>, %g: memref<33x130xf32>, %lr: memref<f32>, %skip: memref<i1>, %w2: memref<33x130xf32>, %v2: memref<33x130xf32>) {
  %nw = gpu.alloc () : memref<33x130xf32>
  %nv = gpu.alloc () : memref<33x130xf32>
  linalg.generic {indexing_maps = [#id, #id, #id, #s, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%w, %v, %g, %lr : memref<33x130xf32>, memref<33x130xf32>, memref<33x130xf32>, memref<f32>) outs(%nw, %nv : memref<33x130xf32>, memref<33x130xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %r: f32, %o: f32, %p: f32):
    %m = arith.constant 0.9 : f32
    %bm = arith.mulf %b, %m : f32
    %vn = arith.addf %bm, %c : f32
    %step = arith.mulf %vn, %r : f32
    %wn = arith.subf %a, %step : f32
    linalg.yield %wn, %vn : f32, f32
  }
  linalg.generic {indexing_maps = [#s, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%skip, %w, %nw : memref<i1>, memref<33x130xf32>, memref<33x130xf32>) outs(%w2 : memref<33x130xf32>) {
  ^bb0(%k: i1, %a: f32, %b: f32, %o: f32):
    %y = arith.select %k, %a, %b : f32
    linalg.yield %y : f32
  }
  gpu.dealloc %nw : memref<33x130xf32>
  linalg.generic {indexing_maps = [#s, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%skip, %v, %nv : memref<i1>, memref<33x130xf32>, memref<33x130xf32>) outs(%v2 : memref<33x130xf32>) {
  ^bb0(%k: i1, %a: f32, %b: f32, %o: f32):
    %y = arith.select %k, %a, %b : f32
    linalg.yield %y : f32
  }
  gpu.dealloc %nv : memref<33x130xf32>
  return
}

// -----

// Not merged: a consumer that reads a result at another point (the
// transposed read of %a), one that writes what an earlier member read (in
// place into %a, which the negation read), another shape, and ops after an
// op that is none of them (the copy): five kernels.
// CHECK-LABEL: func.func @apart
// CHECK:         function(@apart_0_generic)
// CHECK:         function(@apart_1_generic)
// CHECK:         function(@apart_2_generic)
// CHECK:         function(@apart_3_generic)
// CHECK:         memref.copy
// CHECK:         function(@apart_4_generic)
// CHECK-NOT:     gpu.launch
// CHECK:         return
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
func.func @apart(%x: memref<8x8xf32>, %y: memref<8x8xf32>, %u: memref<4x8xf32>, %v: memref<4x8xf32>) {
  %a = gpu.alloc () : memref<8x8xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<8x8xf32>) outs(%a : memref<8x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = math.exp %i : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]} ins(%a : memref<8x8xf32>) outs(%y : memref<8x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.negf %i : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y : memref<8x8xf32>) outs(%a : memref<8x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.addf %i, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%u : memref<4x8xf32>) outs(%v : memref<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.mulf %i, %i : f32
    linalg.yield %r : f32
  }
  memref.copy %a, %x : memref<8x8xf32> to memref<8x8xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%v : memref<4x8xf32>) outs(%u : memref<4x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.addf %i, %i : f32
    linalg.yield %r : f32
  }
  gpu.dealloc %a : memref<8x8xf32>
  return
}
