// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py | FileCheck %s
// RUN: mpt-opt %s --mpt-lower-to-nvvm="format=isa fuse-rows=false" \
// RUN:   | %PYTHON %S/../Integration/GPU/Inputs/extract_ptx.py \
// RUN:   | FileCheck %s --check-prefix=OFF

// Attention's softmax over f32 scores of 8 heads x 512 x 512, rounded to
// bf16, as mpt-fuse-elementwise leaves it (a max, the exponentials, a sum,
// the divide and cast): one kernel of 128 threads a row (fuse-rows), the
// scores read once, reductions by warp shuffles and shared memory, the
// exponentials kept in registers (nothing but the bf16 probabilities is
// stored). With fuse-rows=false: a fill and a reduction kernel for each
// of the max and the sum, and two elementwise kernels.

// CHECK:       .entry step_0_rows(
// CHECK:       .maxntid 128, 1, 1
// CHECK-COUNT-4: ld.global.b32
// CHECK-NOT:   ld.global
// CHECK:       shfl.sync.bfly.b32
// CHECK:       bar.sync
// CHECK:       ex2.approx
// CHECK:       shfl.sync.bfly.b32
// CHECK:       bar.sync
// CHECK-COUNT-4: st.global.b16
// CHECK-NOT:   st.global
// CHECK:       ret;
// CHECK-NOT:   .entry

// OFF-COUNT-6: .entry step_{{[0-9]+}}_{{fill|generic}}(
// OFF-NOT:     .entry
// OFF-NOT:     _rows

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @step(%s: tensor<8x512x512xf32>) -> tensor<8x512x512xbf16> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %m0 = tensor.empty() : tensor<8x512xf32>
  %m1 = linalg.fill ins(%ninf : f32) outs(%m0 : tensor<8x512xf32>) -> tensor<8x512xf32>
  %m = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%s : tensor<8x512x512xf32>) outs(%m1 : tensor<8x512xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.maximumf %a, %o : f32
    linalg.yield %y : f32
  } -> tensor<8x512xf32>
  %e0 = tensor.empty() : tensor<8x512x512xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %m : tensor<8x512x512xf32>, tensor<8x512xf32>) outs(%e0 : tensor<8x512x512xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<8x512x512xf32>
  %s0 = tensor.empty() : tensor<8x512xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<8x512xf32>) -> tensor<8x512xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : tensor<8x512x512xf32>) outs(%s1 : tensor<8x512xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = arith.addf %a, %o : f32
    linalg.yield %y : f32
  } -> tensor<8x512xf32>
  %p0 = tensor.empty() : tensor<8x512x512xbf16>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<8x512x512xf32>, tensor<8x512xf32>) outs(%p0 : tensor<8x512x512xbf16>) {
  ^bb0(%a: f32, %b: f32, %o: bf16):
    %d = arith.divf %a, %b : f32
    %y = arith.truncf %d : f32 to bf16
    linalg.yield %y : bf16
  } -> tensor<8x512x512xbf16>
  return %p : tensor<8x512x512xbf16>
}
