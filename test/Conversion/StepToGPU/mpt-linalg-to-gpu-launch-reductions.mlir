// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=reduction-unroll=4 --canonicalize --cse --split-input-file | FileCheck %s
// RUN: mpt-opt %s --mpt-linalg-to-gpu-launch=num-sms=4 --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=SMS

// Column sums (the bias gradient): the innermost dim is parallel, so 32
// neighbouring threads take 32 neighbouring columns and 8 lanes share a
// column's rows. 1000 columns give 32 blocks, fewer than eight per SM: the
// 8192 rows are split in 32 parts of 256 (a multiple of the 8 lanes, at
// least 32 rows a lane) along grid y into a device buffer of partial sums,
// which a second launch adds to the output. Each lane keeps four
// accumulators here (reduction-unroll=4; default 8: main loop of 4
// elements, then a tail loop).
// CHECK-LABEL: func.func @column_sums
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C1000:.*]] = arith.constant 1000 : index
// CHECK: %[[PART:.*]] = gpu.alloc (%[[C32]], %[[C1000]]) : memref<?x?xf32>
// CHECK: gpu.launch blocks(%[[BX:.*]], %[[BY:.*]], %{{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %[[C32]], %{{.*}} = %{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]],
// CHECK-SAME: function(@column_sums_0_reduce) workgroup(%[[SH:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[LP:.*]] = arith.remui %[[T]], %[[C32]]
// CHECK: %[[LR:.*]] = arith.divui %[[T]], %[[C32]]
// CHECK: %[[P0:.*]] = arith.muli %[[BX]], %[[C32]]
// CHECK: %[[P:.*]] = arith.addi %[[P0]], %[[LP]]
// CHECK: %[[START:.*]] = arith.muli %[[BY]], %c256
// CHECK: scf.if
// CHECK: scf.for {{.*}} step %c4 iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK-COUNT-4: memref.load %arg0[%{{.*}}, %[[P]]] : memref<8192x1000xf16>
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: memref.load %arg0[%{{.*}}, %[[P]]]
// CHECK: memref.store %{{.*}}, %[[SH]][%[[T]]]
// CHECK: gpu.barrier
// CHECK: arith.addi %[[T]], %c128
// CHECK: gpu.barrier
// CHECK: arith.addi %[[T]], %c64
// CHECK: gpu.barrier
// CHECK: arith.addi %[[T]], %[[C32]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[PART]][%[[BY]], %[[P]]]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C32]], %{{.*}} = %c1,
// CHECK-SAME: function(@column_sums_1_reduce)
// CHECK: memref.load %[[PART]]
// CHECK: %[[OLD:.*]] = memref.load %arg1[%{{.*}}] : memref<1000xf32>
// CHECK: arith.addf %[[OLD]]
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<1000xf32>
// CHECK: gpu.dealloc %[[PART]]
// CHECK-NOT: gpu.launch
// With 4 SMs, 32 blocks are enough: no split.
// SMS-LABEL: func.func @column_sums
// SMS-NOT: gpu.alloc
// SMS: gpu.launch
// SMS-NOT: gpu.launch
// SMS: return
func.func @column_sums(%x: memref<8192x1000xf16>, %y: memref<1000xf32>) {
  linalg.reduce ins(%x : memref<8192x1000xf16>) outs(%y : memref<1000xf32>) dimensions = [0]
    (%in: f16, %acc: f32) {
      %e = arith.extf %in : f16 to f32
      %s = arith.addf %e, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// -----

// Row maxima: the innermost dim is reduced, so 32 neighbouring lanes read
// neighbouring elements of one row and a block takes 8 rows; 5000 rows
// give 625 blocks, enough: no split. The neutral element of maximumf is
// -inf.
// CHECK-LABEL: func.func @row_max
// CHECK-NOT: gpu.alloc
// CHECK-DAG: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c625, %{{.*}} = %c1,
// CHECK: %[[LP:.*]] = arith.divui %{{.*}}, %c32
// CHECK: %[[LR:.*]] = arith.remui %{{.*}}, %c32
// CHECK: iter_args(%{{.*}} = %[[NINF]], %{{.*}} = %[[NINF]], %{{.*}} = %[[NINF]], %{{.*}} = %[[NINF]])
// CHECK: arith.maximumf
// CHECK: arith.cmpi ult, %[[LR]], %c16
// CHECK: arith.cmpi ult, %[[LR]], %c1
// CHECK: arith.maximumf
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<5000xf32>
// CHECK-NOT: gpu.launch
func.func @row_max(%x: memref<5000x1001xf32>, %y: memref<5000xf32>) {
  linalg.reduce ins(%x : memref<5000x1001xf32>) outs(%y : memref<5000xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  return
}

// -----

// A full reduction of a dynamic size with two outputs (a sum of squares
// and an any-non-finite flag, the unscale check's shape): the number of
// splits is computed at run time (at most eight blocks per SM, at least 32
// elements per lane), so both launches are made and the first writes
// partials for each output.
// CHECK-LABEL: func.func @dynamic_full
// CHECK: %[[N:.*]] = memref.dim %arg0
// CHECK: %[[Q:.*]] = arith.divui %[[N]], %c8192
// CHECK: %[[MOST:.*]] = arith.maxui %[[Q]], %c1
// CHECK: %[[S:.*]] = arith.minui %[[MOST]], %c1056
// CHECK-DAG: %[[PA:.*]] = gpu.alloc (%[[S]], %c1) : memref<?x?xf32>
// CHECK-DAG: %[[PB:.*]] = gpu.alloc (%[[S]], %c1) : memref<?x?xi1>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, %{{.*}} = %[[S]],
// CHECK-SAME: workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xi1, #gpu.address_space<workgroup>>)
// CHECK: arith.ori
// CHECK: memref.store %{{.*}}, %[[PA]]
// CHECK: memref.store %{{.*}}, %[[PB]]
// CHECK: gpu.launch
// CHECK: memref.load %[[PA]]
// CHECK: memref.load %[[PB]]
// CHECK: memref.store %{{.*}}, %arg1[]
// CHECK: memref.store %{{.*}}, %arg2[]
// CHECK-DAG: gpu.dealloc %[[PA]]
// CHECK-DAG: gpu.dealloc %[[PB]]
#id = affine_map<(d0) -> (d0)>
#scalar = affine_map<(d0) -> ()>
func.func @dynamic_full(%x: memref<?xf32>, %sum: memref<f32>, %bad: memref<i1>) {
  %inf = arith.constant 0x7F800000 : f32
  linalg.generic {indexing_maps = [#id, #scalar, #scalar], iterator_types = ["reduction"]}
      ins(%x : memref<?xf32>) outs(%sum, %bad : memref<f32>, memref<i1>) {
  ^bb0(%a: f32, %s: f32, %b: i1):
    %sq = arith.mulf %a, %a : f32
    %s2 = arith.addf %s, %sq : f32
    %abs = math.absf %a : f32
    %nf = arith.cmpf ult, %abs, %inf : f32
    %t = arith.constant true
    %isbad = arith.xori %nf, %t : i1
    %b2 = arith.ori %b, %isbad : i1
    linalg.yield %s2, %b2 : f32, i1
  }
  return
}

// -----

// A mixed reduction over dims 0 and 2 of a 3-D tensor: the innermost dim
// of the input is reduced (lanes over a row), the reduction index is
// linearized over (d0, d2), d2 fastest.
// CHECK-LABEL: func.func @mixed
// CHECK: gpu.launch
// CHECK: %[[D2:.*]] = arith.remui %[[R:.*]], %c129
// CHECK: %[[D0:.*]] = arith.divui %[[R]], %c129
// CHECK: memref.load %arg0[%[[D0]], %{{.*}}, %[[D2]]] : memref<33x517x129xf32>
func.func @mixed(%x: memref<33x517x129xf32>, %y: memref<517xf32>) {
  linalg.reduce ins(%x : memref<33x517x129xf32>) outs(%y : memref<517xf32>) dimensions = [0, 2]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// -----

// Not tiled: a reduction of 8 static elements per output (fewer than the
// 32 lanes of a row) and an f32 contraction keep one thread per output.
// CHECK-LABEL: func.func @short_and_contraction
// CHECK-NOT: workgroup
// CHECK: gpu.launch
// CHECK-NOT: workgroup
// CHECK: gpu.launch
// CHECK-NOT: workgroup
func.func @short_and_contraction(%x: memref<64x8xf32>, %y: memref<64xf32>,
                                 %a: memref<64x64xf32>, %b: memref<64x64xf32>,
                                 %c: memref<64x64xf32>) {
  linalg.reduce ins(%x : memref<64x8xf32>) outs(%y : memref<64xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  linalg.matmul ins(%a, %b : memref<64x64xf32>, memref<64x64xf32>) outs(%c : memref<64x64xf32>)
  return
}

// -----

// A row dot product (the loss's sum over classes of onehot * logits) is a
// contraction without an n dim: a block reduction, lanes over the row.
// CHECK-LABEL: func.func @row_dot
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @row_dot(%a: memref<8192x1000xf32>, %b: memref<8192x1000xf32>, %y: memref<8192xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a, %b : memref<8192x1000xf32>, memref<8192x1000xf32>) outs(%y : memref<8192xf32>) {
  ^bb0(%x: f32, %z: f32, %acc: f32):
    %p = arith.mulf %x, %z : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  return
}
