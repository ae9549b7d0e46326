# REQUIRES: numpy
# RUN: %PYTHON %s | FileCheck %s
# mpt-data-parallel on random training graphs (mpt.testing.fuzzgraph: loops,
# calls, generic bodies, constants near the formats' limits, grads that do
# not read the seed), after the AMP pipeline in f16 with dynamic loss
# scaling and in bf16, with small buckets (1 KiB: several a step, grads of
# every shape laid end to end): on the CPU path (one process) every result
# is the step's without the pass, bit for bit. A graph the AMP pipeline
# refuses (documented diagnostics) is skipped; any failure of the pass is
# not.
# CHECK: PASS {{[1-9][0-9]*}} graphs bit-identical, 0 failed

import sys

import numpy as np

from mpt import aot
from mpt.testing import fuzzgraph

SEEDS = range(12)
AMPS = ["--auto-mixed-precision=dtype=f16 loss-scaling=dynamic",
        "--auto-mixed-precision=dtype=bf16"]
DP = "--mpt-data-parallel=bucket-mb=0.001"


def arguments(text, seed):
    arg_types, _ = aot.parse_signature(text, "step")
    rng = np.random.default_rng(seed)
    args = []
    for t in arg_types:
        shape = [3 if d is None else d for d in t.shape or []]
        dtype = np.dtype(aot._NP_TYPES[t.elem])
        if t.shape == [] and t.elem == "f32":
            args.append(np.array(1024.0, dtype))  # a positive loss scale
        elif dtype.kind == "f":
            args.append((rng.standard_normal(shape) * 0.5).astype(dtype))
        else:
            args.append(np.ones(shape, dtype))
    return args


def main():
    ok = failed = 0
    for seed in SEEDS:
        text = fuzzgraph.emit(fuzzgraph.generate(seed))
        for amp in AMPS:
            try:
                plain = aot.compile_module(text, extra_passes=[amp])
            except aot.ToolError:
                continue  # refused by the AMP pipeline, with a diagnostic
            try:
                dp = aot.compile_module(text, extra_passes=[amp, DP])
                args = arguments(plain.text, seed)
                same = all(a.tobytes() == b.tobytes() for a, b in zip(
                    plain.call("step", *args), dp.call("step", *args)))
            except Exception as e:  # reported, counted
                print("seed %d %s: %s" % (seed, amp, str(e)[-600:]))
                same = False
            if same:
                ok += 1
            else:
                failed += 1
                print("FAIL seed %d %s" % (seed, amp))
    print("PASS %d graphs bit-identical, %d failed" % (ok, failed))
    sys.exit(1 if failed or not ok else 0)


if __name__ == "__main__":
    main()
