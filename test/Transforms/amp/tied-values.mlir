// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s
// RUN: mpt-opt %s --auto-mixed-precision --mpt-lower-to-cpu -o /dev/null

// Values tied by a loop (init, iter_arg, yield, result) keep one type, f32:
// ops inside the body are coloured as usual and cast at the boundary.
// CHECK-LABEL: func.func @loop
// CHECK: scf.for {{.*}} iter_args(%[[H:[a-z0-9]+]] = %{{.*}}) -> (tensor<8x4xf32>)
// CHECK: %[[HH:.*]] = arith.truncf %[[H]] : tensor<8x4xf32> to tensor<8x4xf16>
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[HH]], %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>) outs(%{{.*}} : tensor<8x4xf32>)
// CHECK: scf.yield %[[M]] : tensor<8x4xf32>
func.func @loop(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%h = %x) -> (tensor<8x4xf32>) {
    %m = linalg.matmul ins(%h, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    scf.yield %m : tensor<8x4xf32>
  }
  return %r : tensor<8x4xf32>
}

// The weight, read in every iteration, is cast once outside the loop.
// CHECK-LABEL: func.func @loop_invariant_cast
// CHECK: %[[WH:.*]] = arith.truncf %arg1
// CHECK: scf.for
// CHECK-NOT: arith.truncf %arg1
// CHECK: linalg.matmul ins(%{{.*}}, %[[WH]] :
func.func @loop_invariant_cast(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%h = %x) -> (tensor<8x4xf32>) {
    %m = linalg.matmul ins(%h, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    scf.yield %m : tensor<8x4xf32>
  }
  return %r : tensor<8x4xf32>
}

// Both branches of scf.if yield f32; each branch's matmul is 16-bit.
// CHECK-LABEL: func.func @branch
// CHECK: scf.if %{{.*}} -> (tensor<8x4xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
// CHECK: scf.yield %{{.*}} : tensor<8x4xf32>
// CHECK: else
// CHECK: scf.yield %{{.*}} : tensor<8x4xf32>
func.func @branch(%c: i1, %x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %r = scf.if %c -> (tensor<8x4xf32>) {
    %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    scf.yield %m : tensor<8x4xf32>
  } else {
    scf.yield %x : tensor<8x4xf32>
  }
  return %r : tensor<8x4xf32>
}

// A linalg.generic's block arguments follow its operands: a 16-bit
// elementwise generic has 16-bit block arguments and body, and its scalar
// constant becomes 16-bit too.
// CHECK-LABEL: func.func @generic_body
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x4xf16>) outs(%{{.*}} : tensor<8x4xf16>)
// CHECK: ^bb0(%[[A:.*]]: f16, %{{.*}}: f16):
// CHECK: %[[HALF:.*]] = arith.constant 5.000000e-01 : f16
// CHECK: arith.mulf %[[A]], %[[HALF]] : f16
func.func @generic_body(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %init = tensor.empty() : tensor<8x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<8x4xf32>) outs(%init : tensor<8x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %h = arith.mulf %a, %half : f32
    linalg.yield %h : f32
  } -> tensor<8x4xf32>
  %m2 = linalg.matmul ins(%g, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2 : tensor<8x4xf32>
}
