// RUN: mpt-opt %s --mpt-collectives-to-runtime --split-input-file | FileCheck %s

// Each all-reduce: the input through a read-only buffer, the result in a new
// one, mptAllReduce(send, recv, count, NCCL type, NCCL op) between; the
// grid's size and the rank from the runtime; the grid erased.
// CHECK-NOT: shard.
// CHECK-LABEL: func.func @all
// CHECK: %[[IN:.*]] = bufferization.to_buffer %arg0 read_only : tensor<4x3xf32> to memref<4x3xf32>
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<4x3xf32>
// CHECK: %[[N:.*]] = arith.constant 12 : index
// CHECK: %[[S:.*]] = memref.extract_aligned_pointer_as_index %[[IN]]
// CHECK: %[[R:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK: %[[N64:.*]] = arith.index_castui %[[N]] : index to i64
// CHECK: %[[F32:.*]] = arith.constant 7 : i32
// CHECK: %[[SUM:.*]] = arith.constant 0 : i32
// CHECK: call @mptAllReduce(%[[S]], %[[R]], %[[N64]], %[[F32]], %[[SUM]]) : (index, index, i64, i32, i32) -> ()
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<4x3xf32> to tensor<4x3xf32>
// A widening all-reduce of a dynamic tensor: converted first, counted at
// run time.
// CHECK: %[[D:.*]] = tensor.dim %arg1
// CHECK: %[[WIDE:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<?xf16>) outs(%{{.*}} : tensor<?xf32>)
// CHECK: arith.extf
// CHECK: bufferization.to_buffer %[[WIDE]] read_only : tensor<?xf32> to memref<?xf32>
// CHECK: %[[WD:.*]] = tensor.dim %[[WIDE]]
// CHECK: memref.alloc(%[[WD]]) : memref<?xf32>
// CHECK: %[[ONE:.*]] = arith.constant 1 : index
// CHECK: arith.muli %[[ONE]], %[[WD]] : index
// CHECK: call @mptAllReduce
// A flag: max over bytes (NCCL int8 = 0, max = 2), back to i1.
// CHECK: arith.extui %{{.*}} : i1 to i8
// CHECK: %[[I8:.*]] = arith.constant 0 : i32
// CHECK: %[[MAX:.*]] = arith.constant 2 : i32
// CHECK: call @mptAllReduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[I8]], %[[MAX]])
// CHECK: arith.trunci %{{.*}} : i8 to i1
// CHECK: %[[WS:.*]] = call @mptDistributedWorldSize() : () -> i32
// CHECK: arith.index_castui %[[WS]] : i32 to index
// CHECK: %[[RK:.*]] = call @mptDistributedRank() : () -> i32
// CHECK: func.func private @mptAllReduce(index, index, i64, i32, i32)
// CHECK: func.func private @mptDistributedWorldSize() -> i32
// CHECK: func.func private @mptDistributedRank() -> i32
shard.grid @dp(shape = ?)
func.func @all(%x: tensor<4x3xf32>, %h: tensor<?xf16>, %b: tensor<i1>) -> (tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, index, index) {
  %r = shard.all_reduce %x on @dp grid_axes = [0] : tensor<4x3xf32> -> tensor<4x3xf32>
  %w = shard.all_reduce %h on @dp grid_axes = [0] : tensor<?xf16> -> tensor<?xf32>
  %m = shard.all_reduce %b on @dp grid_axes = [0] reduction = max : tensor<i1> -> tensor<i1>
  %n = shard.grid_shape @dp axes = [0] : index
  %i = shard.process_linear_index on @dp : index
  return %r, %w, %m, %n, %i : tensor<4x3xf32>, tensor<?xf32>, tensor<i1>, index, index
}

// -----

// bf16 and min / product / average: NCCL's codes (bfloat16 = 9, min = 3,
// prod = 1, avg = 4).
// CHECK-LABEL: func.func @codes
// CHECK: %[[BF:.*]] = arith.constant 9 : i32
// CHECK: %[[MIN:.*]] = arith.constant 3 : i32
// CHECK: call @mptAllReduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[BF]], %[[MIN]])
// CHECK: %[[I64:.*]] = arith.constant 4 : i32
// CHECK: %[[PROD:.*]] = arith.constant 1 : i32
// CHECK: call @mptAllReduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[I64]], %[[PROD]])
// CHECK: %[[F64:.*]] = arith.constant 8 : i32
// CHECK: %[[AVG:.*]] = arith.constant 4 : i32
// CHECK: call @mptAllReduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[F64]], %[[AVG]])
shard.grid @g(shape = 2)
func.func @codes(%x: tensor<8xbf16>, %n: tensor<2xi64>, %d: tensor<3xf64>) -> (tensor<8xbf16>, tensor<2xi64>, tensor<3xf64>) {
  %r = shard.all_reduce %x on @g grid_axes = [0] reduction = min : tensor<8xbf16> -> tensor<8xbf16>
  %p = shard.all_reduce %n on @g grid_axes = [0] reduction = product : tensor<2xi64> -> tensor<2xi64>
  %a = shard.all_reduce %d on @g grid_axes = [0] reduction = average : tensor<3xf64> -> tensor<3xf64>
  return %r, %p, %a : tensor<8xbf16>, tensor<2xi64>, tensor<3xf64>
}
