# REQUIRES: numpy
# RUN: %PYTHON %s | FileCheck %s
# A step made data-parallel (mpt-data-parallel), run as one process on the
# CPU path (mpt-single-process-collectives: a grid of one), computes what
# the single-process step computes, bit for bit: three chained steps of an
# MLP and a transformer with f16 dynamic loss scaling and AdamW, the third
# with an Inf in the batch (skipped: parameters and optimizer state kept,
# the scale backed off), for the launcher's world size (grid ?), world-size
# 1, and one all-reduce per grad.
# CHECK: PASS mlp dp
# CHECK: PASS mlp dp world-size=1
# CHECK: PASS mlp dp bucket-mb=0
# CHECK: PASS transformer dp
# CHECK: PASS transformer dp world-size=1
# CHECK: PASS transformer dp bucket-mb=0
# reduce-type=bf16 (grads rounded to bf16 for the all-reduce): in a world of
# one each grad is its bf16 rounding, within bf16's unit roundoff (2^-8
# relative: 8 significant bits) of the plain step's, the loss unchanged.
# CHECK: PASS mlp reduce-type=bf16: grads within 2^-8 relative
# CHECK: PASS transformer reduce-type=bf16: grads within 2^-8 relative

import sys

import numpy as np

from mpt import aot, gen, signature

AMP = "--auto-mixed-precision=dtype=f16 loss-scaling=dynamic init-scale=1024"
OPT = "--mpt-attach-optimizer=kind=adamw lr=1e-2 weight-decay=0.01"
VARIANTS = [("dp", "--mpt-data-parallel"),
            ("dp world-size=1", "--mpt-data-parallel=world-size=1"),
            ("dp bucket-mb=0", "--mpt-data-parallel=bucket-mb=0")]


def first_args(lib, rng):
    sig = signature.parse(lib.text, "step")
    args = []
    for a in sig[0]:
        shape = [d or 4 for d in a.shape]
        dtype = aot._NP_TYPES[a.elem]
        if a.role == "loss_scale":
            args.append(np.array(1024.0, dtype))
        elif a.role == "hysteresis":
            args.append(np.array(1, dtype))
        elif a.role in ("growth_tracker", "opt_state"):
            args.append(np.zeros(shape, dtype))
        else:
            args.append((rng.standard_normal(shape) * 0.5).astype(dtype))
    return sig, args


def run(lib, args, sig):
    """Three steps, results fed back as the next step's state; the third
    with an Inf in the first input. All results of every step."""
    inputs = [a.index for a in sig[0] if a.role == "input"]
    out = []
    for step in range(3):
        if step == 2:
            args[inputs[0]] = args[inputs[0]].copy()
            args[inputs[0]].flat[0] = np.inf
        res = lib.call("step", *args)
        out.append(res)
        for r, value in zip(sig[1], res):
            if r.updates is not None:
                args[r.updates] = value
    found = [r.index for r in sig[1] if r.role == "found_inf"][0]
    assert [bool(o[found]) for o in out] == [False, False, True], \
        "the Inf step must be skipped, the others not"
    return out


def same(a, b):
    return all(len(x) == len(y) and all(
        u.shape == v.shape and u.dtype == v.dtype and u.tobytes() == v.tobytes()
        for u, v in zip(x, y)) for x, y in zip(a, b))


def main():
    ok = True
    for model, kwargs in (("mlp", {}), ("transformer", dict(
            batch=2, seq=4, dim=8, heads=2, hidden=16, classes=5, depth=2))):
        text, _ = gen.generate(model, **kwargs)
        base = aot.compile_module(text, extra_passes=[AMP, OPT])
        sig, args = first_args(base, np.random.default_rng(0))
        want = run(base, list(args), sig)
        for name, dp in VARIANTS:
            lib = aot.compile_module(text, extra_passes=[AMP, dp, OPT])
            assert "shard.all_reduce" in lib.text, "no all-reduce: %s" % name
            got = run(lib, list(args), signature.parse(lib.text, "step"))
            good = same(got, want)
            ok &= good
            print("%s %s %s" % ("PASS" if good else "FAIL", model, name))
    for model, kwargs in (("mlp", {}), ("transformer", dict(
            batch=2, seq=4, dim=8, heads=2, hidden=16, classes=5, depth=2))):
        text, _ = gen.generate(model, **kwargs)
        base = aot.compile_module(text, extra_passes=[AMP])
        low = aot.compile_module(text, extra_passes=[
            AMP, "--mpt-data-parallel=reduce-type=bf16"])
        sig, args = first_args(base, np.random.default_rng(1))
        want = base.call("step", *args)
        got = low.call("step", *args)
        grads = [r.index for r in sig[1] if r.role == "grad"]
        loss = [r.index for r in sig[1] if r.role == "loss"][0]
        good = got[loss].tobytes() == want[loss].tobytes() and all(
            np.all(np.abs(got[i] - want[i]) <= 2.0 ** -8 * np.abs(want[i]))
            for i in grads) and any(
            got[i].tobytes() != want[i].tobytes() for i in grads)
        ok &= good
        print("%s %s reduce-type=bf16: grads within 2^-8 relative" % (
            "PASS" if good else "FAIL", model))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
