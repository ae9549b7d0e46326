// RUN: mpt-opt %s --mpt-lower-to-cpu | %mpt_cpu_run | FileCheck %s

// A matmul with f16 inputs and an f32 accumulator, as a tensor core computes
// it, beside the f32 matmul of the same (unrounded) values. The inputs are
// chosen so that f16 rounding shows: 0.1 -> 0.0999755859375 (f16).
// Products of two f16 values are exact in f32, so the mixed result equals the
// f32 matmul of the rounded inputs:
//   row 0, col 0: 1*0.0999756 + 2*0.300049 + 3*0.5 = 2.200073
// f32 reference with unrounded inputs: 1*0.1 + 2*0.3 + 3*0.5 = 2.2

func.func @mixed(%a: tensor<2x3xf16>, %b: tensor<3x2xf16>) -> tensor<2x2xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %m = linalg.matmul ins(%a, %b : tensor<2x3xf16>, tensor<3x2xf16>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}

func.func @reference(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %m = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>) outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %m : tensor<2x2xf32>
}

// 2049 is not an f16 value (f16 has 11 significant bits): it rounds to 2048
// (tie to even). The accumulator is f32, so 2048 + 1 + 1 is exact 2050,
// where an f16 accumulator would have stayed at 2048.
func.func @accumulate(%a: tensor<1x3xf16>, %b: tensor<3x1xf16>) -> tensor<1x1xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x1xf32>) -> tensor<1x1xf32>
  %m = linalg.matmul ins(%a, %b : tensor<1x3xf16>, tensor<3x1xf16>) outs(%f : tensor<1x1xf32>) -> tensor<1x1xf32>
  return %m : tensor<1x1xf32>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]> : tensor<3x2xf32>
  %ah = arith.truncf %a : tensor<2x3xf32> to tensor<2x3xf16>
  %bh = arith.truncf %b : tensor<3x2xf32> to tensor<3x2xf16>
  %m = call @mixed(%ah, %bh) : (tensor<2x3xf16>, tensor<3x2xf16>) -> tensor<2x2xf32>
  %mu = tensor.cast %m : tensor<2x2xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[}}[2.20007, 2.80005],
  // CHECK-NEXT: [4.90015, 6.3999]]
  call @printMemrefF32(%mu) : (tensor<*xf32>) -> ()
  %r = call @reference(%a, %b) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %ru = tensor.cast %r : tensor<2x2xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[}}[2.2, 2.8],
  // CHECK-NEXT: [4.9, 6.4]]
  call @printMemrefF32(%ru) : (tensor<*xf32>) -> ()
  %c = arith.constant dense<[[2049.0, 1.0, 1.0]]> : tensor<1x3xf32>
  %ones = arith.constant dense<1.0> : tensor<3x1xf32>
  %ch = arith.truncf %c : tensor<1x3xf32> to tensor<1x3xf16>
  %oh = arith.truncf %ones : tensor<3x1xf32> to tensor<3x1xf16>
  %s = call @accumulate(%ch, %oh) : (tensor<1x3xf16>, tensor<3x1xf16>) -> tensor<1x1xf32>
  %su = tensor.cast %s : tensor<1x1xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: {{\[}}[2050]]
  call @printMemrefF32(%su) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
