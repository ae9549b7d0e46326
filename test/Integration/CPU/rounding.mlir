// RUN: mpt-opt %s --mpt-lower-to-cpu | %mpt_cpu_run | FileCheck %s

// Rounding of f32 values to f16 and bf16 (arith.truncf, round to nearest,
// ties to even), printed after widening back to f32.

func.func @to_f16(%x: tensor<14xf32>) -> tensor<14xf32> {
  %h = arith.truncf %x : tensor<14xf32> to tensor<14xf16>
  %r = arith.extf %h : tensor<14xf16> to tensor<14xf32>
  return %r : tensor<14xf32>
}

func.func @to_bf16(%x: tensor<10xf32>) -> tensor<10xf32> {
  %h = arith.truncf %x : tensor<10xf32> to tensor<10xbf16>
  %r = arith.extf %h : tensor<10xbf16> to tensor<10xf32>
  return %r : tensor<10xf32>
}

// An f16 op rounds its result: 2048 + 1 is a tie between 2048 and 2050 and
// goes to even (2048); 1 + 0.0006 (f16: 0.00060009956) lies nearer to
// 1 + 2^-10 = 1.000977 than to 1.
func.func @f16_ops(%a: tensor<2xf16>, %b: tensor<2xf16>) -> tensor<2xf32> {
  %s = arith.addf %a, %b : tensor<2xf16>
  %r = arith.extf %s : tensor<2xf16> to tensor<2xf32>
  return %r : tensor<2xf32>
}

// Each op of one body rounds its own result: (x + 2048) - 2048 in f16 is
// 0, 2, 4 for x = 1, 2, 3 (2049 and 2051 are ties to even), not x; in bf16
// (x + 65536) - 65536 gives 0, 0, 512 for x = 1, 128, 384.
#id = affine_map<(d0) -> (d0)>
func.func @fused_f16(%x: tensor<3xf16>) -> tensor<3xf32> {
  %e = tensor.empty() : tensor<3xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<3xf16>) outs(%e : tensor<3xf32>) {
  ^bb0(%a: f16, %o: f32):
    %c = arith.constant 2048.0 : f16
    %s = arith.addf %a, %c : f16
    %d = arith.subf %s, %c : f16
    %w = arith.extf %d : f16 to f32
    linalg.yield %w : f32
  } -> tensor<3xf32>
  return %r : tensor<3xf32>
}

func.func @fused_bf16(%x: tensor<3xbf16>) -> tensor<3xf32> {
  %e = tensor.empty() : tensor<3xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<3xbf16>) outs(%e : tensor<3xf32>) {
  ^bb0(%a: bf16, %o: f32):
    %c = arith.constant 65536.0 : bf16
    %s = arith.addf %a, %c : bf16
    %d = arith.subf %s, %c : bf16
    %w = arith.extf %d : bf16 to f32
    linalg.yield %w : f32
  } -> tensor<3xf32>
  return %r : tensor<3xf32>
}

func.func @main() {
  // f16 (11 significant bits, max 65504, min subnormal 2^-24):
  //  1 + 2^-11          tie -> 1 (even)
  //  1 + 3*2^-11        tie -> 1 + 2^-9 = 1.00195
  //  65504              max finite, exact
  //  65519              below the midpoint 65520 -> 65504
  //  65520              midpoint, ties to even 65536 -> overflow -> inf
  //  1e6, -1e6          -> inf, -inf
  //  2^-24              min subnormal, exact (5.96046e-08)
  //  2^-25              tie between 0 and 2^-24 -> 0 (even)
  //  3*2^-26            0.75 * 2^-24 -> 2^-24
  //  1e-8               -> 0
  //  6.1035156e-05      min normal 2^-14, exact
  //  nan                -> nan
  //  -0.0               -> -0
  %f = arith.constant dense<[1.00048828125, 1.00146484375, 65504.0, 65519.0,
                             65520.0, 1.0e6, -1.0e6, 5.9604644775390625e-08,
                             2.98023223876953125e-08, 4.470348358154296875e-08,
                             1.0e-8, 6.103515625e-05, 0x7FC00000, -0.0]> : tensor<14xf32>
  %rf = call @to_f16(%f) : (tensor<14xf32>) -> tensor<14xf32>
  %uf = tensor.cast %rf : tensor<14xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: [1, 1.00195, 65504, 65504, inf, inf, -inf, 5.96046e-08, 0, 5.96046e-08, 0, 6.10352e-05, nan, -0]
  call @printMemrefF32(%uf) : (tensor<*xf32>) -> ()

  // bf16 (8 significant bits, f32's exponent range):
  //  1 + 2^-8           tie -> 1 (even)
  //  1 + 3*2^-8         tie -> 1 + 2^-6 = 1.01562
  //  3.3895314e38       max finite, exact
  //  3.4e38             above the midpoint to 2^128 -> inf
  //  -3.4e38            -> -inf
  //  1.0e-40            f32 subnormal -> nearest multiple of 2^-133: 9.18355e-41
  //  0.1                -> 0.100098
  //  nan                -> nan
  //  -0.0               -> -0
  //  65519              -> 65536 (bf16 steps are 256 there)
  %b = arith.constant dense<[1.00390625, 1.01171875, 3.3895313892515355e38, 3.4e38,
                             -3.4e38, 1.0e-40, 0.1, 0x7FC00000, -0.0, 65519.0]> : tensor<10xf32>
  %rb = call @to_bf16(%b) : (tensor<10xf32>) -> tensor<10xf32>
  %ub = tensor.cast %rb : tensor<10xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: [1, 1.01562, 3.38953e+38, inf, -inf, 9.18355e-41, 0.100098, nan, -0, 65536]
  call @printMemrefF32(%ub) : (tensor<*xf32>) -> ()

  %x = arith.constant dense<[2048.0, 1.0]> : tensor<2xf16>
  %y = arith.constant dense<[1.0, 0.0006]> : tensor<2xf16>
  %r = call @f16_ops(%x, %y) : (tensor<2xf16>, tensor<2xf16>) -> tensor<2xf32>
  %ur = tensor.cast %r : tensor<2xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: [2048, 1.00098]
  call @printMemrefF32(%ur) : (tensor<*xf32>) -> ()

  %xh = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
  %fh = call @fused_f16(%xh) : (tensor<3xf16>) -> tensor<3xf32>
  %ufh = tensor.cast %fh : tensor<3xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: [0, 2, 4]
  call @printMemrefF32(%ufh) : (tensor<*xf32>) -> ()

  %xb = arith.constant dense<[1.0, 128.0, 384.0]> : tensor<3xbf16>
  %fb = call @fused_bf16(%xb) : (tensor<3xbf16>) -> tensor<3xf32>
  %ufb = tensor.cast %fb : tensor<3xf32> to tensor<*xf32>
  // CHECK: data =
  // CHECK-NEXT: [0, 0, 512]
  call @printMemrefF32(%ufb) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>)
