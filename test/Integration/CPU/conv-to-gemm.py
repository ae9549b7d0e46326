# REQUIRES: numpy
# RUN: %PYTHON %s | FileCheck %s
# mpt-conv-to-gemm changes how a convolution is stated (im2col and a 2-D
# contraction), not the products it sums nor their order (the flattened
# reduction runs in the loops' order): the steps of the CNN example and a
# generated CNN give the same results on the CPU path with and without it,
# FP32 (with all-types) and after --auto-mixed-precision (f16, bf16), and
# all five convolutions (two forward, two weight gradients, one input
# gradient) are rewritten.
# CHECK: PASS cnn f32 rewritten=5
# CHECK: PASS cnn f16 rewritten=5
# CHECK: PASS cnn bf16 rewritten=5
# CHECK: PASS gen-cnn f32 rewritten=
# CHECK: PASS gen-cnn f16 rewritten=
# CHECK: PASS gen-cnn bf16 rewritten=

import os
import subprocess
import sys

import numpy as np

from mpt import aot, gen

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "..", "examples")
U = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}


def inputs(text, rng):
    args, _ = aot.parse_signature(text, "step")
    return [rng.standard_normal([d or 4 for d in t.shape]).astype(np.float32)
            for t in args]


def rewritten(text, amp, opts):
    """How many ops mpt-conv-to-gemm rewrites: the tensor.expand_shape ops
    it adds (one each)."""
    mpt_opt = aot._tool("mpt-opt", "MPT_TOOLS_DIR")
    before = text
    if amp:
        before = subprocess.run([mpt_opt, "-", "--auto-mixed-precision=" + amp],
                                input=text, capture_output=True, text=True,
                                check=True).stdout
    after = subprocess.run([mpt_opt, "-", "--mpt-conv-to-gemm=" + opts],
                           input=before, capture_output=True, text=True,
                           check=True).stdout
    return after.count("tensor.expand_shape") - before.count(
        "tensor.expand_shape")


def check(name, text, prec):
    amp = {"f32": None, "f16": "dtype=f16 loss-scaling=none",
           "bf16": "dtype=bf16"}[prec]
    opts = "all-types=true" if prec == "f32" else "all-types=false"
    extra = ["--auto-mixed-precision=" + amp] if amp else []
    plain = aot.compile_module(text, extra_passes=extra)
    gemm = aot.compile_module(
        text, extra_passes=extra + ["--mpt-conv-to-gemm=" + opts])
    rng = np.random.default_rng(0)
    args = inputs(text, rng)
    a, b = plain.call("step", *args), gemm.call("step", *args)
    worst = 0.0
    for x, y in zip(a, b):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        scale = max(np.max(np.abs(x)), 1e-30)
        worst = max(worst, float(np.max(np.abs(x - y))) / scale)
    n = rewritten(text, amp, opts)
    # Same order of the same products: equal up to the last bit of f32
    # (an optimizer's reassociation), 4 u_f32 normwise.
    ok = len(a) == len(b) and worst <= 4 * U["f32"] and n > 0
    print("%s %s %s rewritten=%d worst=%.3g" % (
        "PASS" if ok else "FAIL", name, prec, n, worst))
    return ok


def main():
    with open(os.path.join(EXAMPLES, "cnn.mlir")) as f:
        cnn = f.read()
    generated, _ = gen.generate("cnn")
    ok = True
    for name, text in (("cnn", cnn), ("gen-cnn", generated)):
        for prec in ("f32", "f16", "bf16"):
            ok &= check(name, text, prec)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
