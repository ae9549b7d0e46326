// RUN: mpt-opt %s --mpt-data-parallel="remarks bucket-mb=0.00008" -split-input-file -verify-diagnostics -o /dev/null

// One remark per bucket, at the op that computes its last grad. Buckets of
// 83.9 bytes: the bias grad (32 bytes) takes the next grad too (96 bytes:
// full), the next weight grad (256 bytes) is alone, the dynamic one alone;
// a grad that is an argument is reduced at the entry.
func.func @step(%w: tensor<4x4xf32> {mpt.role = "param"}, %b: tensor<8xf32> {mpt.role = "param"},
                %v: tensor<8x8xf32> {mpt.role = "param"}, %d: tensor<?xf32> {mpt.role = "param"})
    -> (tensor<4x4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64},
        tensor<8xf32> {mpt.role = "grad", mpt.grad_of = 1 : i64},
        tensor<8x8xf32> {mpt.role = "grad", mpt.grad_of = 2 : i64},
        tensor<?xf32> {mpt.role = "grad", mpt.grad_of = 3 : i64}) {
  %gb = arith.addf %b, %b : tensor<8xf32>
  // expected-remark @+1 {{mpt-data-parallel: bucket 0: 2 grads, 96 bytes, after arith.mulf}}
  %gw = arith.mulf %w, %w : tensor<4x4xf32>
  // expected-remark @+1 {{mpt-data-parallel: bucket 1: 1 grad, 256 bytes, after arith.mulf}}
  %gv = arith.mulf %v, %v : tensor<8x8xf32>
  // expected-remark @+1 {{mpt-data-parallel: bucket 2: 1 grad, dynamic size, after arith.mulf}}
  %gd = arith.mulf %d, %d : tensor<?xf32>
  return %gw, %gb, %gv, %gd : tensor<4x4xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<?xf32>
}

// -----

// expected-remark @+1 {{mpt-data-parallel: bucket 0: 1 grad, 16 bytes, at entry}}
func.func @argument(%w: tensor<4xf32> {mpt.role = "param"})
    -> (tensor<4xf32> {mpt.role = "grad", mpt.grad_of = 0 : i64}) {
  return %w : tensor<4xf32>
}
