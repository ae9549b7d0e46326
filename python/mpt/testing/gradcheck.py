"""Checks the backward half of generated training steps.

For each model: run the FP64 step on the CPU path and compare every gradient
with central finite differences of its loss, computed in float64; then run
the FP32 step on the same inputs and compare its loss and gradients with the
FP64 ones. Exits non-zero on any mismatch.

  python3 -m mpt.testing.gradcheck mlp cnn transformer [--dynamic-batch] \
      [--seed op]
"""

import argparse
import sys

import numpy as np

from mpt import aot, gen

# f32 unit roundoff; the f32 step is compared with the f64 one within a
# multiple of it that covers the error growth of these small graphs.
F32_U = 2.0 ** -24
F32_RTOL = 2.0 ** 10 * F32_U  # ~6e-5 relative to the grad's max-norm
FD_RTOL, FD_ATOL, FD_STEP = 1e-6, 1e-9, 1e-5


def random_inputs(arg_types, roles, rng, batch, fan_in=False):
    """Random parameters and inputs; labels one-hot; seed 1.0. With fan_in,
    a weight is scaled by 1/sqrt(its fan-in) (all but its last dimension),
    as initializers do, so that deep or wide graphs do not saturate."""
    arrays = []
    for t, role in zip(arg_types, roles):
        shape = [batch if d is None else d for d in t.shape]
        if role == "loss_grad":
            arrays.append(np.ones(shape))
            continue
        scale = 1.0
        if role == "param":
            fan = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            scale = 1.0 / np.sqrt(fan) if fan_in else 0.5
        arrays.append(rng.standard_normal(shape) * scale)
    return arrays


def roles_of(text):
    import re
    head = text[text.index("func.func"):text.index("->")]
    return re.findall(r'mpt\.role = "(\w+)"', head)


def signature_roles(text, name="step"):
    """(argument roles, result roles) of func.func @name."""
    import re
    m = re.search(r"func\.func\s+(?:public\s+)?@%s\s*\(" % name, text)
    i, depth = m.end(), 1
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    role = r'mpt\.role = "(\w+)"'
    results = text[i:text.index("{\n", i)]
    return re.findall(role, text[m.end():i]), re.findall(role, results)


def one_hot_labels(arrays, roles, rng):
    # The second input is the labels tensor: one class per row.
    inputs = [i for i, r in enumerate(roles) if r == "input"]
    lab = inputs[1]
    shape = arrays[lab].shape
    flat = np.zeros((int(np.prod(shape[:-1])), shape[-1]))
    flat[np.arange(flat.shape[0]), rng.integers(0, shape[-1],
                                                flat.shape[0])] = 1.0
    arrays[lab] = flat.reshape(shape)


def check_model(model, seed_kind, dynamic, rng, samples, batch=4):
    kw = dict(seed=seed_kind, dynamic=dynamic, batch=batch)
    text64, _ = gen.generate(model, dtype="f64", **kw)
    text32, _ = gen.generate(model, dtype="f32", **kw)
    lib64 = aot.compile_module(text64)
    lib32 = aot.compile_module(text32)
    arg_types, _ = aot.parse_signature(text64, "step")
    roles = roles_of(text64)
    arrays = random_inputs(arg_types, roles, rng, batch)
    one_hot_labels(arrays, roles, rng)
    loss, *grads = lib64.call("step", *arrays)
    params = [i for i, r in enumerate(roles) if r == "param"]
    ok = True
    worst = 0.0
    for g, pi in zip(grads, params):
        p = arrays[pi]
        idx = rng.choice(p.size, size=min(samples, p.size), replace=False)
        for flat in idx:
            coord = np.unravel_index(flat, p.shape)
            saved = p[coord]
            p[coord] = saved + FD_STEP
            lp = lib64.call("step", *arrays)[0]
            p[coord] = saved - FD_STEP
            lm = lib64.call("step", *arrays)[0]
            p[coord] = saved
            fd = float(lp - lm) / (2 * FD_STEP)
            err = abs(fd - g[coord])
            worst = max(worst, err / (FD_ATOL + abs(fd)))
            if err > FD_ATOL + FD_RTOL * abs(fd) + 1e-7 * np.abs(g).max():
                print("  MISMATCH %s arg #%d %s: backward %.10g, "
                      "finite difference %.10g" % (model, pi, coord,
                                                  g[coord], fd))
                ok = False
    # The f32 step against the f64 one on the same inputs.
    loss32, *grads32 = lib32.call("step", *[a.astype(np.float32)
                                            for a in arrays])
    rel32 = abs(float(loss32) - float(loss)) / abs(float(loss))
    ok &= rel32 <= F32_RTOL
    for g64, g32 in zip(grads, grads32):
        scale = np.abs(g64).max() or 1.0
        err = np.abs(g32.astype(np.float64) - g64).max() / scale
        rel32 = max(rel32, err)
        if err > F32_RTOL:
            print("  MISMATCH f32 grad differs from f64 by %.3g" % err)
            ok = False
    print("%s %s: %d params, loss %.6f, fd rel err %.2e, f32 rel err %.2e"
          % ("PASS" if ok else "FAIL", model, len(params), float(loss),
             worst, rel32))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.gradcheck")
    ap.add_argument("models", nargs="+", choices=gen.MODELS)
    ap.add_argument("--seed", choices=("arg", "op"), default="arg")
    ap.add_argument("--dynamic-batch", action="store_true")
    ap.add_argument("--samples", type=int, default=6,
                    help="coordinates checked per parameter")
    ap.add_argument("--rng", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.rng)
    ok = all([check_model(m, args.seed, args.dynamic_batch, rng,
                          args.samples) for m in args.models])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
