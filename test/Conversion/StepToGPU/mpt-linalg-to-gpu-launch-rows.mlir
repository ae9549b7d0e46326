// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch --canonicalize --cse --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=fuse-rows=false --split-input-file | FileCheck %s --check-prefix=OFF

// A softmax over rows of 100 (fills, max, exp(x - max), sum, divide) is one
// kernel, a block of 32 threads per row (about four elements a thread; the
// last element of a thread may fall outside the row: clamped loads, a
// masked fold, a guarded store). Each reduction folds a thread's elements,
// then the warp's lanes by shuffles, then the warps' partials from shared
// memory. The row's exponentials and its max and sum never reach device
// memory: their buffers, fills and frees are gone; only the output is
// written.
// CHECK-LABEL: func.func @softmax
// CHECK-NOT:     gpu.alloc
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c32,
// CHECK-SAME:      function(@softmax_0_rows) workgroup(%[[MAX:.*]] : memref<1xf32, #gpu.address_space<workgroup>>, %[[SUM:.*]] : memref<1xf32, #gpu.address_space<workgroup>>)
// CHECK:           %[[LAST:.*]] = arith.addi %[[T]], %c96
// CHECK:           %[[IN:.*]] = arith.cmpi ult, %[[LAST]], %c100
// CHECK:           %[[CLAMP:.*]] = arith.minui %[[LAST]], %c99
// CHECK-COUNT-4:   memref.load %arg0
// CHECK-NOT:       memref.load %arg0
// CHECK:           arith.select %[[IN]]
// CHECK-COUNT-5:   gpu.shuffle xor
// CHECK:           memref.store %{{.*}}, %[[MAX]]
// CHECK:           gpu.barrier
// CHECK-COUNT-4:   math.exp
// CHECK:           arith.select %[[IN]]
// CHECK-COUNT-5:   gpu.shuffle xor
// CHECK:           memref.store %{{.*}}, %[[SUM]]
// CHECK:           gpu.barrier
// CHECK-COUNT-4:   arith.divf
// CHECK-COUNT-3:   memref.store %{{.*}}, %arg1
// CHECK:           scf.if %[[IN]] {
// CHECK-NEXT:        memref.store %{{.*}}, %arg1[%{{.*}}, %[[CLAMP]]]
// CHECK:           gpu.terminator
// CHECK-NEXT:    }
// CHECK-NEXT:    return
// OFF-LABEL: func.func @softmax
// OFF-COUNT-6: gpu.launch
// OFF-NOT:     gpu.launch
// OFF:         return
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @softmax(%x: memref<4x100xf32>, %p: memref<4x100xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %m = gpu.alloc () : memref<4xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<4xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x100xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.maximumf %a, %o : f32
    linalg.yield %y : f32
  }
  %e = gpu.alloc () : memref<4x100xf32>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %m : memref<4x100xf32>, memref<4xf32>) outs(%e : memref<4x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    %y = math.exp %s : f32
    linalg.yield %y : f32
  }
  gpu.dealloc %m : memref<4xf32>
  %s = gpu.alloc () : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<4xf32>)
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%e : memref<4x100xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.addf %a, %o : f32
    linalg.yield %y : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%e, %s : memref<4x100xf32>, memref<4xf32>) outs(%p : memref<4x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %y = arith.divf %a, %b : f32
    linalg.yield %y : f32
  }
  gpu.dealloc %e : memref<4x100xf32>
  gpu.dealloc %s : memref<4xf32>
  return
}

// -----

// Row values that outlive the chain are written by thread 0 (the row sum),
// elements likewise by their threads (the scaled input); a scalar memref
// is read once. Rows of 2 x 3 outer dims and 512 elements: 128 threads, 4
// warps, whose partials every thread combines in the same order.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#scalar3 = affine_map<(d0, d1, d2) -> ()>
// CHECK-LABEL: func.func @kept_outputs
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c6, {{.*}} threads({{.*}}) in (%{{.*}} = %c128,
// CHECK-SAME:      workgroup(%[[SUM:.*]] : memref<4xf32, #gpu.address_space<workgroup>>)
// CHECK:           memref.load %arg1[]
// CHECK-COUNT-4:   memref.store %{{.*}}, %arg2[
// CHECK:           gpu.barrier
// CHECK:           memref.load %[[SUM]][%c0]
// CHECK:           memref.load %[[SUM]][%c1]
// CHECK:           memref.load %[[SUM]][%c2]
// CHECK:           memref.load %[[SUM]][%c3]
// CHECK:           scf.if
// CHECK-NEXT:        memref.store %{{.*}}, %arg3[
// CHECK:         return
func.func @kept_outputs(%x: memref<2x3x512xf32>, %scale: memref<f32>, %e: memref<2x3x512xf32>, %s: memref<2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id3, #scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %scale : memref<2x3x512xf32>, memref<f32>) outs(%e : memref<2x3x512xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %y = arith.mulf %a, %b : f32
    linalg.yield %y : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<2x3xf32>)
  linalg.generic {indexing_maps = [#id3, #row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : memref<2x3x512xf32>) outs(%s : memref<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.addf %a, %o : f32
    linalg.yield %y : f32
  }
  return
}

// -----

// Where chains stop: an op that is no row op between them (the copy), a
// member that would write what an earlier one read (the sum into %m, which
// the subtraction read: it starts the next chain, with the divide; the sum
// then folds into the value %m holds), dynamic rows, and rows longer than
// 8192: op by op.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @not_fused
// CHECK:         function(@not_fused_1_generic)
// CHECK:         function(@not_fused_2_generic)
// CHECK:         function(@not_fused_0_rows)
// CHECK:           %[[M:.*]] = memref.load %arg2[%{{.*}}] : memref<4xf32>
// CHECK:           arith.addf %[[M]],
// CHECK-NOT:     _rows
// CHECK:         return
func.func @not_fused(%x: memref<4x100xf32>, %y: memref<4x100xf32>, %m: memref<4xf32>, %d: memref<?x100xf32>, %dm: memref<?xf32>, %l: memref<2x8193xf32>, %lm: memref<2xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x100xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  }
  memref.copy %m, %m : memref<4xf32> to memref<4xf32>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %m : memref<4x100xf32>, memref<4xf32>) outs(%y : memref<4x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%y : memref<4x100xf32>) outs(%m : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %m : memref<4x100xf32>, memref<4xf32>) outs(%x : memref<4x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%d : memref<?x100xf32>) outs(%dm : memref<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%d, %dm : memref<?x100xf32>, memref<?xf32>) outs(%d : memref<?x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%l : memref<2x8193xf32>) outs(%lm : memref<2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%l, %lm : memref<2x8193xf32>, memref<2xf32>) outs(%l : memref<2x8193xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.divf %a, %b : f32
    linalg.yield %r : f32
  }
  return
}
