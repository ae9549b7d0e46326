"""Random graphs through the whole pipeline, against FP32.

Draws model sizes and depths the examples do not use (widths, channels,
kernel and image sizes, heads, sequence lengths, batch, static or dynamic
batch, seed as argument or op), rewrites each step with
`--auto-mixed-precision` (f16 with dynamic loss scaling, or bf16) and checks
its loss and grads against the FP32 step on the CPU path
(mpt.testing.ampcheck's tolerance; weights scaled by 1/sqrt(fan-in), as initializers do, so that
wide layers do not saturate the softmax and leave FP32 gradients of 1e-22
that no 16-bit format can hold), then attaches a random optimizer and checks that the update-form
step compiles and runs with finite results.

  python3 -m mpt.testing.stress --count 6 --rng 1
"""

import argparse
import sys

import numpy as np

from mpt import aot, gen
from mpt.testing import ampcheck, gradcheck


def random_config(rng):
    model = str(rng.choice(gen.MODELS))
    sizes = {}
    if model == "mlp":
        depth = int(rng.integers(1, 4))
        sizes["widths"] = [int(rng.integers(3, 40)) for _ in range(3)]
    elif model == "cnn":
        depth = int(rng.integers(1, 3))
        sizes["channels"] = [int(rng.integers(1, 5)), int(rng.integers(2, 7))]
        sizes["kernel"] = int(rng.choice([1, 2, 3]))
        sizes["image"] = int(rng.integers(sizes["kernel"] + 3, 12))
        sizes["classes"] = int(rng.integers(2, 7))
    else:
        depth = int(rng.integers(1, 3))
        heads = int(rng.choice([1, 2, 4]))
        sizes["heads"] = heads
        sizes["dim"] = heads * int(rng.integers(2, 5))
        sizes["seq"] = int(rng.integers(2, 7))
        sizes["hidden"] = int(rng.integers(4, 20))
        sizes["classes"] = int(rng.integers(2, 7))
    return model, depth, sizes


def run_update_form(model, depth, sizes, batch, dynamic, rng):
    text, _ = gen.generate(model, depth=depth, batch=batch, dynamic=dynamic,
                           **sizes)
    kind = str(rng.choice(["sgd", "momentum", "adam", "adamw"]))
    lib = aot.compile_module(text, extra_passes=[
        "--auto-mixed-precision=loss-scaling=dynamic init-scale=256",
        "--mpt-attach-optimizer=kind=%s lr=0.01 clip-norm=1" % kind])
    arg_types, _ = aot.parse_signature(lib.text, "step")
    roles = gradcheck.roles_of(text)
    arrays = gradcheck.random_inputs(aot.parse_signature(text, "step")[0],
                                     roles, rng, batch, fan_in=True)
    gradcheck.one_hot_labels(arrays, roles, rng)
    n = len(arrays)
    extra = [np.float32(256.0), np.int32(0), np.int32(1)]
    state = [np.zeros([batch if d is None else d for d in t.shape],
                      np.float32) for t in arg_types[n + 3:]]
    out = lib.call("step", *[a.astype(np.float32) for a in arrays],
                   *[np.array(e) for e in extra], *state)
    finite = all(np.all(np.isfinite(o)) for o in out
                 if o.dtype.kind == "f")
    return kind, finite and not bool(out[1])


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.stress")
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--rng", type=int, default=1)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.rng)
    ok = True
    for i in range(args.count):
        model, depth, sizes = random_config(rng)
        batch = int(rng.integers(1, 6))
        dynamic = bool(rng.integers(0, 2))
        dtype = str(rng.choice(["f16", "bf16"]))
        scaling = "dynamic" if dtype == "f16" else "none"
        label = "#%d %s depth %d batch %d%s %s" % (
            i, model, depth, batch, " (dynamic)" if dynamic else "", sizes)
        ok &= ampcheck.check(model, dtype, 1, dynamic, False, scaling,
                             batch=batch, label=label, fan_in=True,
                             depth=depth, **sizes)
        kind, good = run_update_form(model, depth, sizes, batch, dynamic, rng)
        ok &= good
        print("%s #%d update form with %s: finite, no overflow at scale 256"
              % ("PASS" if good else "FAIL", i, kind))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
