"""Executed check: each example's mixed-precision step against its FP32 step.

The FP32 step and the step rewritten by `mpt-opt --auto-mixed-precision`
run on the CPU path (16-bit ops rounded per op as on a GPU) with the same
random inputs. The loss and every gradient must agree normwise within
C * u of the format (u = 2^-11 for f16, 2^-8 for bf16). C bounds how many
16-bit roundings a value meets on its longest path times the growth of
their error through the graph; see TOLERANCE_FACTOR. The rewritten step must
also contain 16-bit tensors and differ from the FP32 one (a check that
16-bit arithmetic really ran).

  python3 -m mpt.testing.ampcheck mlp cnn transformer --dtype f16 bf16 \
      --seeds 3
"""

import argparse
import sys

import numpy as np

from mpt import aot, gen
from mpt.testing import gradcheck

UNIT_ROUNDOFF = {"f16": 2.0 ** -11, "bf16": 2.0 ** -8}
# Normwise error budget in units of u: the number of 16-bit roundings on a
# gradient's longest path (casts at inputs, each 16-bit op, each cast back)
# is at most ~4 per layer for these graphs; 64 allows for the growth of
# relative error through softmax/layernorm backward at small sizes.
TOLERANCE_FACTOR = 64


def normwise(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def check(model, dtype, seeds, dynamic, verbose, scaling="none", batch=4,
          label=None, fan_in=False, **sizes):
    text, _ = gen.generate(model, dtype="f32", batch=batch, dynamic=dynamic,
                           **sizes)
    ref = aot.compile_module(text)
    amp = aot.compile_module(text, extra_passes=[
        "--auto-mixed-precision=dtype=%s loss-scaling=%s" % (dtype, scaling)])
    low_ops = amp.text.count("xf16>") + amp.text.count("xbf16>")
    arg_types, _ = aot.parse_signature(text, "step")
    roles = gradcheck.roles_of(text)
    tol = TOLERANCE_FACTOR * UNIT_ROUNDOFF[dtype]
    ok, worst = low_ops > 0, 0.0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        arrays = gradcheck.random_inputs(arg_types, roles, rng, batch,
                                         fan_in=fan_in)
        gradcheck.one_hot_labels(arrays, roles, rng)
        arrays = [a.astype(np.float32) for a in arrays]
        want = ref.call("step", *arrays)
        state = []
        # A scale of 2^10: 2^16 overflows the CNN's f16 weight gradients
        # (a real found_inf, which the step then reports and skips).
        if scaling == "dynamic":
            state = [np.float32(2.0 ** 10), np.int32(0), np.int32(1)]
        got = amp.call("step", *arrays, *[np.array(v) for v in state])
        if scaling != "none":
            # found_inf, then (dynamic) the next scale, tracker, hysteresis.
            extra = [bool(got[len(want)])] + [
                float(v) for v in got[len(want) + 1:]]
            expect = [False] + ([2.0 ** 10, 1.0, 1.0]
                                if scaling == "dynamic" else [])
            if extra != expect:
                ok = False
                print("  %s %s seed %d: loss-scaling state %s, expected %s"
                      % (model, dtype, seed, extra, expect))
        for i, (g, w) in enumerate(zip(got, want)):
            err = normwise(g, w)
            worst = max(worst, err)
            if err > tol or not np.all(np.isfinite(g)):
                ok = False
                print("  %s %s seed %d result #%d: normwise error %.3g > "
                      "%.3g" % (model, dtype, seed, i, err, tol))
    ok &= worst > 0.0
    print("%s %s %s%s%s: worst normwise error %.3g = %.2f u (budget %d u)" % (
        "PASS" if ok else "FAIL", label or model, dtype,
        " dynamic" if dynamic else "",
        "" if scaling == "none" else " %s-scaling" % scaling, worst,
        worst / UNIT_ROUNDOFF[dtype], TOLERANCE_FACTOR))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.ampcheck")
    ap.add_argument("models", nargs="+", choices=gen.MODELS)
    ap.add_argument("--dtype", nargs="+", default=["f16", "bf16"],
                    choices=sorted(UNIT_ROUNDOFF))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--dynamic-batch", action="store_true")
    ap.add_argument("--loss-scaling", default="none",
                    choices=("none", "static", "dynamic"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    ok = all([check(m, d, args.seeds, args.dynamic_batch, args.verbose,
                    args.loss_scaling)
              for m in args.models for d in args.dtype])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
