// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py | FileCheck %s
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa vectorize=false" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=SCALAR

// An elementwise kernel in mpt-lower-to-nvvm: the softmax numerator of
// attention scores, exp(x - rowmax), rounded to bf16. Its constants stay in
// the kernel (sunk back into the launch before outlining, after the
// canonicalizer hoisted them), so that delinearizing by the static sizes
// is shifts and masks, not 64-bit divisions by kernel arguments; the
// scores are read 16 bytes at a time, the bf16 results stored 8 at a time.

// CHECK-LABEL: .entry step_0_generic(
// CHECK-NOT:   {{div|rem}}.{{[us]}}64
// CHECK:       ld.global.v4.b32
// CHECK-NOT:   {{div|rem}}.{{[us]}}64
// CHECK:       ex2.approx
// CHECK-NOT:   {{div|rem}}.{{[us]}}64
// CHECK:       st.global.v2.b32
// CHECK-NOT:   {{div|rem}}.{{[us]}}64
// CHECK:       ret;

// SCALAR-LABEL: .entry step_0_generic(
// SCALAR-NOT:   {{div|rem}}.{{[us]}}64
// SCALAR-NOT:   .v{{[248]}}.
// SCALAR:       ld.global.b32
// SCALAR-NOT:   .v{{[248]}}.
// SCALAR:       st.global.b16
// SCALAR-NOT:   .v{{[248]}}.
// SCALAR:       ret;

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @step(%x: tensor<64x128x256xf32>, %m: tensor<64x128xf32>) -> tensor<64x128x256xbf16> {
  %e = tensor.empty() : tensor<64x128x256xbf16>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %m : tensor<64x128x256xf32>, tensor<64x128xf32>) outs(%e : tensor<64x128x256xbf16>) {
  ^bb0(%a: f32, %b: f32, %o: bf16):
    %s = arith.subf %a, %b : f32
    %v = math.exp %s : f32
    %t = arith.truncf %v : f32 to bf16
    linalg.yield %t : bf16
  } -> tensor<64x128x256xbf16>
  return %r : tensor<64x128x256xbf16>
}
