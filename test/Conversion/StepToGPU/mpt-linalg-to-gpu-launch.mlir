// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=elements-per-thread=1 --cse --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=elements-per-thread=4 --cse --split-input-file | FileCheck %s --check-prefix=EPT
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=block-size=128 --split-input-file | FileCheck %s --check-prefix=BS
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=block-reductions=false --split-input-file | FileCheck %s --check-prefix=NOBR

// A reduction over rows: one thread per row (the parallel dim, here of
// dynamic size), a sequential loop over the reduced dim, a bounds check;
// at least one block.
// CHECK-LABEL: func.func @row_sums
// CHECK-SAME: (%[[X:.*]]: memref<?x8xf32>, %[[Y:.*]]: memref<?xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[X]]
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[P:.*]] = arith.muli %[[C1]], %[[N]]
// CHECK: %[[G:.*]] = arith.ceildivui %[[P]], %[[C256]]
// CHECK: %[[G1:.*]] = arith.maxui %[[G]], %[[C1]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[G1]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
// CHECK-SAME: module(@row_sums_kernels) function(@row_sums_0_reduce)
// CHECK: %[[M:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK: %[[I:.*]] = arith.addi %[[M]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[I]], %[[P]]
// CHECK: scf.if %[[IN]]
// CHECK: scf.for %[[K:.*]] =
// CHECK: %[[R:.*]] = affine.apply #{{.*}}(%[[I]], %[[K]])
// CHECK: %[[C:.*]] = affine.apply #{{.*}}(%[[I]], %[[K]])
// CHECK: memref.load %[[X]][%[[R]], %[[C]]]
// CHECK: memref.load %[[Y]][%[[R]]]
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[Y]][%[[R]]]
// CHECK-NOT: linalg.reduce
// BS-LABEL: func.func @row_sums
// BS: arith.constant 128 : index
func.func @row_sums(%x: memref<?x8xf32>, %y: memref<?xf32>) {
  linalg.reduce ins(%x : memref<?x8xf32>) outs(%y : memref<?xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// -----

// Two parallel dims: the innermost varies fastest (coalesced), and the
// outer index is the quotient. With elements-per-thread=4 (EPT; default 8) each thread takes 4
// points 256 apart: 6 points give one block; as the block is not wholly
// inside, each point is checked; a full block loads and computes all four
// points before the first store.
// EPT-LABEL: func.func @transpose
// EPT: %[[G:.*]] = arith.ceildivui %c6, %c1024
// EPT: %[[G1:.*]] = arith.maxui %[[G]], %c1
// EPT: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[G1]], %{{.*}} = %c1, %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256,
// EPT: %[[S:.*]] = arith.muli %{{.*}}, %c1024
// EPT: %[[F:.*]] = arith.addi %[[S]], %{{.*}}
// EPT: %[[END:.*]] = arith.addi %[[S]], %c1024
// EPT: %[[FULL:.*]] = arith.cmpi ule, %[[END]], %c6
// EPT: scf.if %[[FULL]] {
// EPT-COUNT-4: memref.load
// EPT-COUNT-4: memref.store
// EPT: } else {
// EPT-COUNT-4: scf.if
// CHECK-LABEL: func.func @transpose
// CHECK: %[[I:.*]] = arith.addi
// CHECK: scf.if
// CHECK: %[[J:.*]] = arith.remui %[[I]], %c3
// CHECK: %[[K:.*]] = arith.divui %[[I]], %c3
// CHECK: %[[A:.*]] = affine.apply #{{.*}}(%[[K]], %[[J]])
// CHECK: %[[B:.*]] = affine.apply #{{.*}}(%[[K]], %[[J]])
// CHECK: memref.load %{{.*}}[%[[A]], %[[B]]]
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[B]], %[[A]]]
func.func @transpose(%x: memref<3x2xf32>, %y: memref<2x3xf32>) {
  linalg.transpose ins(%x : memref<3x2xf32>) outs(%y : memref<2x3xf32>) permutation = [1, 0]
  return
}

// -----

// A full reduction (no parallel dim) with a sum: one block of 256 lanes
// (8 elements give no split) folds strided elements with the op's body
// from the neutral element, then a tree in shared memory; lane 0 adds the
// total to the output. A constant read by the op is sunk into the kernel.
// mpt-linalg-to-gpu-launch-reductions.mlir checks the kernel in detail.
// CHECK-LABEL: func.func @full_reduction
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %c1, %{{.*}} = %c1) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1, %{{.*}} = %c1)
// CHECK-SAME: workgroup(%[[SH:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK-NEXT: arith.constant 8 : index
// CHECK-NEXT: %[[G:.*]] = memref.get_global @w
// CHECK: scf.for
// CHECK: memref.load %[[G]]
// CHECK: memref.store %{{.*}}, %[[SH]][%[[T]]]
// CHECK-COUNT-9: gpu.barrier
// CHECK: %[[TOTAL:.*]] = memref.load %[[SH]][%[[T]]]
// CHECK: %[[OLD:.*]] = memref.load %arg1[]
// CHECK: arith.addf %[[OLD]], %[[TOTAL]]
// CHECK: memref.store %{{.*}}, %arg1[]
// CHECK-NOT: gpu.launch
// NOBR-LABEL: func.func @full_reduction
// NOBR: threads({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %c1, %{{.*}} = %c1)
// NOBR-NOT: workgroup
memref.global "private" constant @w : memref<8xf32> = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>
func.func @full_reduction(%x: memref<8xf32>, %y: memref<f32>) {
  %w = memref.get_global @w : memref<8xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x, %w : memref<8xf32>, memref<8xf32>) outs(%y : memref<f32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Negative: an op already in a kernel (a tensor-core kernel, say) is left
// alone.
// CHECK-LABEL: func.func @negative_in_launch
// CHECK: gpu.launch
// CHECK: linalg.fill
// CHECK-NOT: gpu.launch
func.func @negative_in_launch(%y: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f32
  gpu.launch blocks(%a, %b, %c) in (%x = %c1, %yy = %c1, %zz = %c1)
             threads(%d, %e, %f) in (%u = %c1, %v = %c1, %w = %c1) {
    linalg.fill ins(%z : f32) outs(%y : memref<4xf32>)
    gpu.terminator
  }
  return
}
