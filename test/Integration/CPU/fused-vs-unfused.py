# REQUIRES: numpy
# RUN: %PYTHON %s | FileCheck %s
# mpt-fuse-elementwise changes where values live, not what is computed:
# every result of a step compiled with and without it is bit for bit the
# same, FP32 and after --auto-mixed-precision (f16 rounded per op).
# CHECK: PASS chain f32
# CHECK: PASS mlp f32
# CHECK: PASS mlp f16
# CHECK: PASS transformer f32
# CHECK: PASS transformer f16

import os
import sys

import numpy as np

from mpt import aot, gen

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Pipelines", "Inputs"))
import pathological  # noqa: E402

UNFUSED = "mpt-lower-to-cpu=fuse-elementwise=false"


def inputs(text, rng):
    args, _ = aot.parse_signature(text, "step")
    return [rng.standard_normal([d or 4 for d in t.shape]).astype(np.float32)
            for t in args]


def check(name, text, amp):
    extra = ["--auto-mixed-precision=dtype=f16 loss-scaling=none"] if amp else []
    fused = aot.compile_module(text, extra_passes=extra)
    unfused = aot.compile_module(text, extra_passes=extra, pipeline=UNFUSED)
    rng = np.random.default_rng(0)
    args = inputs(text, rng)
    a, b = fused.call("step", *args), unfused.call("step", *args)
    same = len(a) == len(b) and all(
        x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(a, b))
    print("%s %s %s" % ("PASS" if same else "FAIL", name,
                        "f16" if amp else "f32"))
    return same


def main():
    chain = "\n".join(pathological.chain(300)).replace("@chain", "@step")
    ok = check("chain", chain, False)
    for model in ("mlp", "transformer"):
        text, _ = gen.generate(model)
        ok &= check(model, text, False)
        ok &= check(model, text, True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
