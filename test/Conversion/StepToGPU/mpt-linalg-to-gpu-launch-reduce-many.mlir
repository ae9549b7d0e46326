// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch --canonicalize --cse --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=fuse-reductions=false --split-input-file | FileCheck %s --check-prefix=OFF

// The loss-scaling check of three gradients (any Inf/NaN of g / scale, and
// the sum of squares), each folded into the same two scalars: two kernels
// in all. The first gives each block 2048 elements of one tensor (1 + 1 +
// 3 blocks: the block index picks the tensor), each block's partial
// results go to a device buffer of 5; the second folds them into what the
// scalars held. The reduction into other scalars, and the ones after an op
// that reads the flag, are not part of it.
// CHECK-LABEL: func.func @check_grads
// CHECK-DAG:     %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[FLAGS:.*]] = gpu.alloc () : memref<5xi1>
// CHECK-DAG:     %[[SUMS:.*]] = gpu.alloc () : memref<5xf32>
// CHECK:         gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C5]], {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK-SAME:      function(@check_grads_0_reduce_many) workgroup(%[[SF:.*]] : memref<256xi1, {{.*}}>, %[[SS:.*]] : memref<256xf32, {{.*}}>)
// CHECK:           %[[W:.*]] = arith.select %{{.*}}, %c2, %{{.*}} : index
// CHECK:           scf.index_switch %[[W]] -> i1, f32
// CHECK:           case 1 {
// CHECK:             memref.load %arg1[
// CHECK:           case 2 {
// CHECK:             memref.load %arg2[
// CHECK:           default {
// CHECK:             memref.load %arg0[
// CHECK:           gpu.barrier
// CHECK:           memref.store %{{.*}}, %[[FLAGS]][%[[B]]]
// CHECK:           memref.store %{{.*}}, %[[SUMS]][%[[B]]]
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}} threads({{.*}}) in (%{{.*}} = %c256,
// CHECK-SAME:      function(@check_grads_1_reduce_many)
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[C5]] step %c256
// CHECK:             memref.load %[[FLAGS]]
// CHECK:             memref.load %[[SUMS]]
// CHECK:           memref.load %arg3[]
// CHECK:           arith.ori
// CHECK:           memref.store %{{.*}}, %arg3[]
// CHECK:           memref.load %arg4[]
// CHECK:           memref.store %{{.*}}, %arg4[]
// CHECK-DAG:     gpu.dealloc %[[FLAGS]]
// CHECK-DAG:     gpu.dealloc %[[SUMS]]
// CHECK:         function(@check_grads_{{[0-9]+}}_generic)
// CHECK:         function(@check_grads_{{[0-9]+}}_generic)
// CHECK-NOT:     reduce_many
// CHECK:         return
// OFF-LABEL: func.func @check_grads
// OFF-NOT:     reduce_many
// OFF:         return

#id1 = affine_map<(d0) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#s1 = affine_map<(d0) -> ()>
#s2 = affine_map<(d0, d1) -> ()>
func.func @check_grads(%g0: memref<100xf32>, %g1: memref<7x9xf32>, %g2: memref<5000xf32>, %flag: memref<i1>, %ssq: memref<f32>, %scale: memref<f32>, %other: memref<f32>) {
  linalg.generic {indexing_maps = [#id1, #s1, #s1], iterator_types = ["reduction"]} ins(%g0 : memref<100xf32>) outs(%flag, %ssq : memref<i1>, memref<f32>) {
  ^bb0(%in: f32, %o: i1, %q: f32):
    %s = memref.load %scale[] : memref<f32>
    %v = arith.divf %in, %s : f32
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %v : f32
    %fin = arith.cmpf olt, %a, %inf : f32
    %true = arith.constant true
    %bad = arith.xori %fin, %true : i1
    %any = arith.ori %o, %bad : i1
    %sq = arith.mulf %v, %v : f32
    %acc = arith.addf %q, %sq : f32
    linalg.yield %any, %acc : i1, f32
  }
  linalg.generic {indexing_maps = [#id2, #s2, #s2], iterator_types = ["reduction", "reduction"]} ins(%g1 : memref<7x9xf32>) outs(%flag, %ssq : memref<i1>, memref<f32>) {
  ^bb0(%in: f32, %o: i1, %q: f32):
    %s = memref.load %scale[] : memref<f32>
    %v = arith.divf %in, %s : f32
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %v : f32
    %fin = arith.cmpf olt, %a, %inf : f32
    %true = arith.constant true
    %bad = arith.xori %fin, %true : i1
    %any = arith.ori %o, %bad : i1
    %sq = arith.mulf %v, %v : f32
    %acc = arith.addf %q, %sq : f32
    linalg.yield %any, %acc : i1, f32
  }
  linalg.generic {indexing_maps = [#id1, #s1, #s1], iterator_types = ["reduction"]} ins(%g2 : memref<5000xf32>) outs(%flag, %ssq : memref<i1>, memref<f32>) {
  ^bb0(%in: f32, %o: i1, %q: f32):
    %s = memref.load %scale[] : memref<f32>
    %v = arith.divf %in, %s : f32
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %v : f32
    %fin = arith.cmpf olt, %a, %inf : f32
    %true = arith.constant true
    %bad = arith.xori %fin, %true : i1
    %any = arith.ori %o, %bad : i1
    %sq = arith.mulf %v, %v : f32
    %acc = arith.addf %q, %sq : f32
    linalg.yield %any, %acc : i1, f32
  }
  // Other outputs: alone.
  linalg.generic {indexing_maps = [#id1, #s1], iterator_types = ["reduction"]} ins(%g0 : memref<100xf32>) outs(%other : memref<f32>) {
  ^bb0(%in: f32, %q: f32):
    %acc = arith.addf %q, %in : f32
    linalg.yield %acc : f32
  }
  // After an op that is none of them: alone.
  memref.copy %ssq, %other : memref<f32> to memref<f32>
  linalg.generic {indexing_maps = [#id1, #s1], iterator_types = ["reduction"]} ins(%g2 : memref<5000xf32>) outs(%other : memref<f32>) {
  ^bb0(%in: f32, %q: f32):
    %acc = arith.addf %q, %in : f32
    linalg.yield %acc : f32
  }
  return
}

// -----

// Checks interleaved with other ops: the unscale of a gradient between two
// checks stays where it is and the checks run after it, together; an op
// that writes what a check read (in place into %g1) ends the group.
// CHECK-LABEL: func.func @interleaved
// CHECK:         function(@interleaved_{{[0-9]+}}_generic)
// CHECK:         function(@interleaved_{{[0-9]+}}_reduce_many)
// CHECK:         function(@interleaved_{{[0-9]+}}_reduce_many)
// CHECK:         function(@interleaved_{{[0-9]+}}_generic)
// CHECK:         function(@interleaved_{{[0-9]+}}_generic)
// CHECK-NOT:     reduce_many
// CHECK:         return
#id1 = affine_map<(d0) -> (d0)>
#s1 = affine_map<(d0) -> ()>
func.func @interleaved(%g0: memref<100xf32>, %g1: memref<300xf32>, %u0: memref<100xf32>, %flag: memref<i1>) {
  linalg.generic {indexing_maps = [#id1, #s1], iterator_types = ["reduction"]} ins(%g0 : memref<100xf32>) outs(%flag : memref<i1>) {
  ^bb0(%in: f32, %o: i1):
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %in : f32
    %bad = arith.cmpf oge, %a, %inf : f32
    %any = arith.ori %o, %bad : i1
    linalg.yield %any : i1
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%g0 : memref<100xf32>) outs(%u0 : memref<100xf32>) {
  ^bb0(%in: f32, %o: f32):
    %h = arith.constant 0.5 : f32
    %r = arith.mulf %in, %h : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id1, #s1], iterator_types = ["reduction"]} ins(%g1 : memref<300xf32>) outs(%flag : memref<i1>) {
  ^bb0(%in: f32, %o: i1):
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %in : f32
    %bad = arith.cmpf oge, %a, %inf : f32
    %any = arith.ori %o, %bad : i1
    linalg.yield %any : i1
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%u0 : memref<100xf32>) outs(%g0 : memref<100xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#id1, #s1], iterator_types = ["reduction"]} ins(%g0 : memref<100xf32>) outs(%flag : memref<i1>) {
  ^bb0(%in: f32, %o: i1):
    %inf = arith.constant 0x7F800000 : f32
    %a = math.absf %in : f32
    %bad = arith.cmpf oge, %a, %inf : f32
    %any = arith.ori %o, %bad : i1
    linalg.yield %any : i1
  }
  return
}
