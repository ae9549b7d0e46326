# REQUIRES: numpy
# The AOT loader (python/mpt/aot.py) frees each result buffer once, also when
# results share one allocation: a value returned twice, a value with its
# reshape or a slice of it, two equal results folded into one buffer, and an
# argument returned as is (never freed: the caller owns it). Before the fix
# the second result was read after free and freed again (SIGABRT).
# MALLOC_CHECK_=3 makes glibc abort on any double or invalid free.
# RUN: env MALLOC_CHECK_=3 %PYTHON %s | FileCheck %s
# CHECK: PASS twice
# CHECK: PASS reshaped
# CHECK: PASS sliced
# CHECK: PASS folded
# CHECK: PASS passthrough
# CHECK: PASS 200 calls

import numpy as np

from mpt import aot

MODULE = """
func.func @twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y, %y : tensor<4xf32>, tensor<4xf32>
}
func.func @reshaped(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>) {
  %y = arith.mulf %x, %x : tensor<2x3xf32>
  %z = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  return %y, %z : tensor<2x3xf32>, tensor<6xf32>
}
func.func @sliced(%x: tensor<2x3xf32>) -> (tensor<1x2xf32>, tensor<2x3xf32>) {
  %y = arith.mulf %x, %x : tensor<2x3xf32>
  %s = tensor.extract_slice %y[1, 1] [1, 2] [1, 1]
      : tensor<2x3xf32> to tensor<1x2xf32>
  return %s, %y : tensor<1x2xf32>, tensor<2x3xf32>
}
func.func @folded(%x: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = arith.addf %x, %x : tensor<4xf32>
  %b = arith.addf %x, %x : tensor<4xf32>
  return %a, %b, %a : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
func.func @passthrough(%x: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = arith.addf %x, %x : tensor<4xf32>
  return %x, %a, %x : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
"""


def same(got, want):
    # Small integers: every operation here is exact in f32 (tolerance 0).
    return len(got) == len(want) and all(
        g.shape == w.shape and np.array_equal(g, w) for g, w in zip(got, want))


def expect(name, got, want):
    print("%s %s" % ("PASS" if same(got, want) else "FAIL", name))


def main():
    lib = aot.compile_module(MODULE)
    v = np.arange(4, dtype=np.float32)
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    expect("twice", lib.call("twice", v), [2 * v, 2 * v])
    expect("reshaped", lib.call("reshaped", m), [m * m, (m * m).reshape(6)])
    expect("sliced", lib.call("sliced", m), [(m * m)[1:2, 1:3], m * m])
    expect("folded", lib.call("folded", v), [2 * v] * 3)
    got = lib.call("passthrough", v)
    expect("passthrough", got, [v, 2 * v, v])
    # The results are copies, not views of the caller's buffer.
    assert got[0] is not v and not np.shares_memory(got[0], v)
    # Many calls: a heap corrupted by a bad free shows up at the latest here.
    ok = all(same(lib.call("reshaped", m + i),
                  [(m + i) ** 2, ((m + i) ** 2).reshape(6)])
             for i in range(200))
    print("%s 200 calls" % ("PASS" if ok else "FAIL"))


if __name__ == "__main__":
    main()
