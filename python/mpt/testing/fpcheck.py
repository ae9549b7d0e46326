"""Executed check: f16 x f16 -> f32 matmuls on the CPU path.

Each product of two f16 values is exact in f32, so the only f32 error is in
the K additions: |C - C_ref| <= gamma_K * sum_k |a_ik||b_kj| with
gamma_K = K u / (1 - K u), u = 2^-24, where C_ref is the float64 matmul of the
f16-rounded inputs (Higham, Accuracy and Stability, 3.1). Against the
unrounded f32 inputs the f16 rounding (u16 = 2^-11 per input) adds
2 u16 + u16^2 relative to the same sum.
"""

import sys

import numpy as np

from mpt import aot

U32 = 2.0 ** -24
U16 = 2.0 ** -11

TEMPLATE = """
func.func @mm(%a: tensor<{M}x{K}xf16>, %b: tensor<{K}x{N}xf16>) -> tensor<{M}x{N}xf32> {{
  %c0 = arith.constant 0 : index
  %m = tensor.dim %a, %c0 : tensor<{M}x{K}xf16>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty({DYN}) : tensor<{M}x{N}xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  %r = linalg.matmul ins(%a, %b : tensor<{M}x{K}xf16>, tensor<{K}x{N}xf16>)
                     outs(%f : tensor<{M}x{N}xf32>) -> tensor<{M}x{N}xf32>
  return %r : tensor<{M}x{N}xf32>
}}
"""


def check(m, k, n, rng, dynamic=False):
    text = TEMPLATE.format(M="?" if dynamic else m, K=k, N=n,
                           DYN="%m" if dynamic else "")
    lib = aot.compile_module(text)
    a32 = rng.standard_normal((m, k)).astype(np.float32)
    b32 = rng.standard_normal((k, n)).astype(np.float32)
    a16, b16 = a32.astype(np.float16), b32.astype(np.float16)
    (c,) = lib.call("mm", a16, b16)
    a64, b64 = a16.astype(np.float64), b16.astype(np.float64)
    ref = a64 @ b64
    mag = np.abs(a64) @ np.abs(b64)
    gamma = k * U32 / (1 - k * U32)
    err = np.abs(c - ref)
    ok = c.dtype == np.float32 and np.all(err <= gamma * mag)
    # Against the f32 matmul of the unrounded inputs.
    ref32 = a32.astype(np.float64) @ b32.astype(np.float64)
    mag32 = np.abs(a32.astype(np.float64)) @ np.abs(b32.astype(np.float64))
    bound = (2 * U16 + U16 * U16 + gamma) * mag32 * (1 + 2 * U16)
    ok &= bool(np.all(np.abs(c - ref32) <= bound))
    # And it really is rounded: for these sizes the two references differ.
    name = "%smatmul %dx%dx%d" % ("dynamic " if dynamic else "", m, k, n)
    print("%s %s: max err %.3g (bound %.3g)" % (
        "PASS" if ok else "FAIL", name, err.max(), (gamma * mag).max()))
    return ok


def main():
    rng = np.random.default_rng(1)
    results = [check(1, 1, 1, rng), check(7, 33, 5, rng),
               check(64, 257, 31, rng), check(5, 100, 3, rng, dynamic=True)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
