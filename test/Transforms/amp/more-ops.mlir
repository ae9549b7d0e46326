// RUN: mpt-opt %s --auto-mixed-precision | FileCheck %s
// The result lowers to the CPU: every op stays well-typed after the rewrite.
// RUN: mpt-opt %s --auto-mixed-precision --mpt-lower-to-cpu -o /dev/null

// Clear ops of the tensor dialect between two matmuls run in 16 bits.
// CHECK-LABEL: func.func @tensor_data_movement
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [8, 2] [1, 1] : tensor<8x4xf16> to tensor<8x2xf16>
// CHECK: tensor.concat dim(1) %{{.*}}, %{{.*}} : (tensor<8x2xf16>, tensor<8x2xf16>) -> tensor<8x4xf16>
// CHECK: tensor.pad %{{.*}} low[0, 0] high[0, 0]
// CHECK: tensor.yield %{{.*}} : f16
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [8, 4] [1, 1] : tensor<8x4xf16> into tensor<8x4xf16>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
func.func @tensor_data_movement(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %a = tensor.extract_slice %m[0, 0] [8, 2] [1, 1] : tensor<8x4xf32> to tensor<8x2xf32>
  %b = tensor.extract_slice %m[0, 2] [8, 2] [1, 1] : tensor<8x4xf32> to tensor<8x2xf32>
  %c = tensor.concat dim(1) %b, %a : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x4xf32>
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %c low[0, 0] high[0, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<8x4xf32> to tensor<8x4xf32>
  %i = tensor.insert_slice %p into %m[0, 0] [8, 4] [1, 1] : tensor<8x4xf32> into tensor<8x4xf32>
  %m2 = linalg.matmul ins(%i, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2 : tensor<8x4xf32>
}

// linalg.map and the named elementwise ops are infer ops like arith.
// CHECK-LABEL: func.func @maps_and_named_elementwise
// CHECK: linalg.map { arith.negf } ins(%{{.*}} : tensor<8x4xf16>) outs(%{{.*}} : tensor<8x4xf16>)
// CHECK: linalg.add ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<8x4xf16>) outs(%{{.*}} : tensor<8x4xf16>)
// CHECK: linalg.exp ins(%{{.*}} : tensor<8x4xf32>)
func.func @maps_and_named_elementwise(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %m = linalg.matmul ins(%x, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %init = tensor.empty() : tensor<8x4xf32>
  %n = linalg.map { arith.negf } ins(%m : tensor<8x4xf32>) outs(%init : tensor<8x4xf32>)
  %s = linalg.add ins(%n, %m : tensor<8x4xf32>, tensor<8x4xf32>) outs(%init : tensor<8x4xf32>) -> tensor<8x4xf32>
  %m2 = linalg.matmul ins(%s, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  %e = linalg.exp ins(%m2 : tensor<8x4xf32>) outs(%init : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2, %e : tensor<8x4xf32>, tensor<8x4xf32>
}

// A while loop ties its values like scf.for; several blocks are fine.
// CHECK-LABEL: func.func @while_and_blocks
// CHECK: scf.while (%{{.*}} = %{{.*}}) : (tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
// CHECK: cf.br ^bb1
// CHECK: ^bb1:
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<8x4xf16>, tensor<4x4xf16>)
func.func @while_and_blocks(%x: tensor<8x4xf32>, %w: tensor<4x4xf32>, %acc: tensor<8x4xf32>, %go: i1) -> tensor<8x4xf32> {
  %r = scf.while (%h = %x) : (tensor<8x4xf32>) -> tensor<8x4xf32> {
    scf.condition(%go) %h : tensor<8x4xf32>
  } do {
  ^bb0(%h: tensor<8x4xf32>):
    %m = linalg.matmul ins(%h, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
    scf.yield %m : tensor<8x4xf32>
  }
  cf.br ^bb1
^bb1:
  %m2 = linalg.matmul ins(%r, %w : tensor<8x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %m2 : tensor<8x4xf32>
}
