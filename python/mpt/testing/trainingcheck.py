"""Executed checks of loss scaling, master weights and the optimizers.

  python3 -m mpt.testing.trainingcheck scale skip underflow optimizers

scale       mpt.update_scale over scripted finite/non-finite sequences equals
            the rule below, step by step (growth interval, backoff, the
            finite-growth guard, hysteresis, min and max); with hysteresis 1
            and no bounds the rule is PyTorch GradScaler's.
skip        a full mixed-precision step (f16, dynamic scaling, momentum) with
            an Inf or a NaN injected returns parameters and optimizer state
            bit-identical, reports found_inf and backs the scale off.
underflow   a step whose f16 gradients fall below 2^-24 trains to nothing
            without scaling and, with dynamic scaling, to the FP32 result.
optimizers  sgd, momentum, adam, adamw, with and without clipping, match a
            float64 numpy reference over several steps.
"""

import argparse
import math
import sys

import numpy as np

from mpt import aot, gen
from mpt.testing import gradcheck

F32_EPS = 2.0 ** -23


# --------------------------------------------------------------- references
def reference_update(state, found_inf, growth, backoff, interval, hysteresis,
                     min_scale, max_scale):
    """The loss-scale rule, written from its description (not the code).
    The scale is an f32 value: products are rounded to f32, as on device."""
    scale, tracker, left = state
    if found_inf:
        if left <= 1:
            scale = max(np.float32(np.float32(scale) * np.float32(backoff)),
                        np.float32(min_scale))
        else:
            left -= 1
        tracker = 0
    else:
        tracker += 1
        if tracker >= interval:
            grown = np.float32(np.float32(scale) * np.float32(growth))
            if np.isfinite(grown):
                scale = min(grown, np.float32(max_scale))
            tracker = 0
            left = hysteresis
    return np.float32(scale), tracker, left


def gradscaler_update(scale, tracker, found_inf, growth, backoff, interval):
    """torch.amp.GradScaler's _amp_update_scale_, as documented by PyTorch."""
    if found_inf:
        return np.float32(np.float32(scale) * np.float32(backoff)), 0
    tracker += 1
    if tracker == interval:
        grown = np.float32(np.float32(scale) * np.float32(growth))
        return (grown if np.isfinite(grown) else np.float32(scale)), 0
    return np.float32(scale), tracker


UPDATE_SCALE = """
func.func @update(%s: tensor<f32>, %t: tensor<i32>, %h: tensor<i32>, %inf: tensor<i1>)
    -> (tensor<f32>, tensor<i32>, tensor<i32>) {{
  %0, %1, %2 = mpt.update_scale %s, %t, %h, %inf
      {{growth_factor = {g} : f64, backoff_factor = {b} : f64,
        growth_interval = {n} : i64, hysteresis = {hy} : i64,
        min_scale = {mn} : f64, max_scale = {mx} : f64}}
  return %0, %1, %2 : tensor<f32>, tensor<i32>, tensor<i32>
}}
"""


def check_scale(rng):
    ok = True
    cases = [
        # (growth, backoff, interval, hysteresis, min, max, init, sequence)
        (2.0, 0.5, 3, 1, 1.0, 2.0 ** 24, 2.0 ** 16, "FFFIFFFFFFIIFFF"),
        (2.0, 0.5, 2, 2, 1.0, 2.0 ** 24, 2.0 ** 16, "IFIIIFFFFIIII"),
        (2.0, 0.25, 1, 1, 4.0, 2.0 ** 24, 16.0, "IIIIFF"),  # min bound
        (2.0, 0.5, 1, 1, 1.0, 2.0 ** 20, 2.0 ** 18, "FFFFIF"),  # max bound
        # The finite-growth guard: 2^127 * 2 overflows f32 and is refused.
        (2.0, 0.5, 1, 1, 1.0, 3.0e38, 2.0 ** 127, "FFIFF"),
        (3.0, 0.9, 4, 3, 0.5, 1.0e6, 7.0, "".join(
            rng.choice(["F", "I"], size=40, p=[0.7, 0.3]))),
    ]
    for g, b, n, hy, mn, mx, init, seq in cases:
        f = gen.fmt_float
        text = UPDATE_SCALE.format(g=f(g), b=f(b), n=n, hy=hy, mn=f(mn),
                                   mx=f(mx))
        lib = aot.compile_module(text)
        mine = (np.float32(init), 0, hy)
        ref = (np.float32(init), 0, hy)
        torch_like = (np.float32(init), 0)
        for step, c in enumerate(seq):
            inf = c == "I"
            out = lib.call("update", np.float32(mine[0]), np.int32(mine[1]),
                           np.int32(mine[2]), np.bool_(inf))
            mine = (np.float32(out[0]), int(out[1]), int(out[2]))
            ref = reference_update(ref, inf, g, b, n, hy, mn, mx)
            if mine != ref:
                ok = False
                print("  MISMATCH step %d of %s: %s, reference %s" % (
                    step, seq, mine, ref))
            if hy == 1 and mn <= 1.0 and mx >= 3.0e38:
                torch_like = gradscaler_update(*torch_like, inf, g, b, n)
                if (mine[0], mine[1]) != torch_like:
                    ok = False
                    print("  MISMATCH with GradScaler at step %d: %s vs %s" %
                          (step, mine, torch_like))
        print("  %s: scale %g after %d steps" % (seq, mine[0], len(seq)))
    print("%s scale trajectory" % ("PASS" if ok else "FAIL"))
    return ok


# ------------------------------------------------------------- full steps
def example_inputs(text, rng, batch=4):
    arg_types, _ = aot.parse_signature(text, "step")
    roles = gradcheck.roles_of(text)
    arrays = gradcheck.random_inputs(arg_types, roles, rng, batch)
    gradcheck.one_hot_labels(arrays, roles, rng)
    return [a.astype(np.float32) for a in arrays], roles, arg_types


def zeros_for(arg_types, roles, start):
    return [np.zeros([d for d in t.shape], np.float32)
            for t, r in zip(arg_types[start:], roles[start:])]


def check_skip(rng):
    text, _ = gen.generate("mlp", batch=4)
    passes = ["--auto-mixed-precision=loss-scaling=dynamic",
              "--mpt-attach-optimizer=kind=momentum lr=0.1"]
    lib = aot.compile_module(text, extra_passes=passes)
    arrays, roles, _ = example_inputs(text, rng)
    arg_types, res_types = aot.parse_signature(lib.text, "step")
    n = len(arrays)
    state = [np.float32(2.0 ** 16), np.int32(5), np.int32(1)]
    buffers = [rng.standard_normal([d for d in t.shape]).astype(np.float32)
               for t in arg_types[n + 3:]]
    params = [i for i, r in enumerate(roles) if r == "param"]
    ok = True
    for label, poison in (("inf", np.inf), ("nan", np.nan), ("none", None)):
        inputs = [a.copy() for a in arrays]
        if poison is not None:
            inputs[0][1, 2] = poison  # one element of the batch input
        out = lib.call("step", *inputs, *[np.array(s) for s in state],
                       *buffers)
        # loss, found_inf, scale, tracker, hysteresis, params..., buffers...
        found_inf, scale, tracker = bool(out[1]), float(out[2]), int(out[3])
        new_params = out[5:5 + len(params)]
        new_buffers = out[5 + len(params):]
        same = all(np.array_equal(p.view(np.uint32),
                                  inputs[i].view(np.uint32))
                   for p, i in zip(new_params, params)) and all(
            np.array_equal(a.view(np.uint32), b.view(np.uint32))
            for a, b in zip(new_buffers, buffers))
        if poison is not None:
            good = found_inf and same and scale == 2.0 ** 15 and tracker == 0
        else:
            good = (not found_inf) and (not same) and scale == 2.0 ** 16 \
                and tracker == 6 and all(np.all(np.isfinite(p))
                                         for p in new_params)
        ok &= good
        print("  injected %-4s: found_inf %s, scale %g, tracker %d, "
              "params and state unchanged: %s" % (label, found_inf, scale,
                                                  tracker, same))
    print("%s skip on non-finite" % ("PASS" if ok else "FAIL"))
    return ok


# Linear regression whose gradients are tiny: loss = 1e-9 * sum((xW - y)^2),
# so that dL/d(xW) = 2e-9 (xW - y) lies far below f16's smallest subnormal
# (2^-24 = 6e-8) while the residual itself is O(1).
UNDERFLOW = """
func.func @step(%x: tensor<16x8xf32> {mpt.role = "input"},
                %y: tensor<16x4xf32> {mpt.role = "input"},
                %w: tensor<8x4xf32> {mpt.role = "param"},
                %seed: tensor<f32> {mpt.role = "loss_grad"})
    -> (tensor<f32> {mpt.role = "loss"},
        tensor<8x4xf32> {mpt.role = "grad", mpt.grad_of = 2 : i64}) {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<16x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e0 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %p = linalg.matmul ins(%x, %w : tensor<16x8xf32>, tensor<8x4xf32>) outs(%acc : tensor<16x4xf32>) -> tensor<16x4xf32>
  %r = arith.subf %p, %y : tensor<16x4xf32>
  %sq = arith.mulf %r, %r : tensor<16x4xf32>
  %e1 = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%zero : f32) outs(%e1 : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%sq : tensor<16x4xf32>) outs(%z : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  %k = arith.constant dense<1.0e-09> : tensor<f32>
  %loss = arith.mulf %sum, %k : tensor<f32>
  // backward: dL/dr = 2 k r seed, broadcast; dW = x^T dr
  %two_k = arith.mulf %k, %seed : tensor<f32>
  %c2 = arith.constant dense<2.0> : tensor<f32>
  %g0 = arith.mulf %two_k, %c2 : tensor<f32>
  %e2 = tensor.empty() : tensor<16x4xf32>
  %gb = linalg.broadcast ins(%g0 : tensor<f32>) outs(%e2 : tensor<16x4xf32>) dimensions = [0, 1]
  %dr = arith.mulf %r, %gb : tensor<16x4xf32>
  %e3 = tensor.empty() : tensor<8x16xf32>
  %xt = linalg.transpose ins(%x : tensor<16x8xf32>) outs(%e3 : tensor<8x16xf32>) permutation = [1, 0]
  %e4 = tensor.empty() : tensor<8x4xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<8x4xf32>) -> tensor<8x4xf32>
  %dw = linalg.matmul ins(%xt, %dr : tensor<8x16xf32>, tensor<16x4xf32>) outs(%acc2 : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %loss, %dw : tensor<f32>, tensor<8x4xf32>
}
"""


def check_underflow(rng):
    x = rng.standard_normal((16, 8)).astype(np.float32)
    w_true = rng.standard_normal((8, 4)).astype(np.float32)
    y = (x @ w_true).astype(np.float32)
    w0 = (w_true + 0.5 * rng.standard_normal((8, 4))).astype(np.float32)
    lr = 5.0e6  # the loss is scaled by 1e-9; this lr converges in FP32
    common = "--mpt-attach-optimizer=kind=sgd lr=%g" % lr
    variants = {
        "fp32": ["--mpt-insert-loss-scaling=mode=static init-scale=1", common],
        "f16 no scaling": ["--auto-mixed-precision=loss-scaling=static "
                           "init-scale=1", common],
        "f16 dynamic": ["--auto-mixed-precision=loss-scaling=dynamic", common],
    }
    finals, raw_grads = {}, {}
    for name, passes in variants.items():
        lib = aot.compile_module(UNDERFLOW, extra_passes=passes)
        w = w0.copy()
        state = [np.float32(2.0 ** 16), np.int32(0), np.int32(1)]
        for _ in range(20):
            if name == "f16 dynamic":
                out = lib.call("step", x, y, w, np.float32(1.0),
                               *[np.array(s) for s in state])
                w = out[-1]
                state = [out[2], out[3], out[4]]
            else:
                out = lib.call("step", x, y, w, np.float32(1.0))
                w = out[-1]
        finals[name] = w
    grads = aot.compile_module(UNDERFLOW, extra_passes=[
        "--auto-mixed-precision=loss-scaling=none"]).call(
            "step", x, y, w0, np.float32(1.0))[1]
    raw_grads["f16 grad"] = grads
    start_err = np.linalg.norm(w0 - w_true)
    errs = {k: np.linalg.norm(v - w_true) for k, v in finals.items()}
    moved = {k: np.linalg.norm(v - w0) for k, v in finals.items()}
    dyn_vs_fp32 = np.linalg.norm(finals["f16 dynamic"] - finals["fp32"]) / \
        np.linalg.norm(finals["fp32"] - w0)
    ok = (np.count_nonzero(grads) == 0            # f16 grads flushed to zero
          and moved["f16 no scaling"] == 0.0      # training stalls
          and errs["fp32"] < 0.5 * start_err      # FP32 learns
          and dyn_vs_fp32 < 64 * 2.0 ** -11)      # dynamic scaling follows
    for k in finals:
        print("  %-15s |W - W*| %.3e (start %.3e), moved %.3e" % (
            k, errs[k], start_err, moved[k]))
    print("  unscaled f16 grads: %d of %d are zero; dynamic vs FP32 update: "
          "%.2e relative" % (grads.size - np.count_nonzero(grads), grads.size,
                             dyn_vs_fp32))
    print("%s underflow rescued by loss scaling" % ("PASS" if ok else "FAIL"))
    return ok


# -------------------------------------------------------------- optimizers
def numpy_update(kind, p, g, state, step, hp):
    """float64 reference of the documented update rules."""
    p = p.astype(np.float64)
    g = g.astype(np.float64) * hp["coef"]
    lr, wd = hp["lr"], hp["wd"]
    if kind != "adamw":
        g = g + wd * p
    if kind == "sgd":
        return p - lr * g, []
    if kind == "momentum":
        buf = hp["momentum"] * state[0] + g
        return p - lr * buf, [buf]
    b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
    m = b1 * state[0] + (1 - b1) * g
    v = b2 * state[1] + (1 - b2) * g * g
    t = step + 1
    step_size = lr / (1 - b1 ** t)
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + eps
    base = p * (1 - lr * wd) if kind == "adamw" else p
    return base - step_size * m / denom, [m, v]


def check_optimizers(rng):
    text, _ = gen.generate("mlp", batch=4)
    grads_lib = aot.compile_module(text)
    arrays, roles, arg_types = example_inputs(text, rng)
    params = [i for i, r in enumerate(roles) if r == "param"]
    ok = True
    hp = dict(lr=0.05, wd=0.01, momentum=0.9, beta1=0.9, beta2=0.99,
              eps=1e-6)
    for kind in ("sgd", "momentum", "adam", "adamw"):
        for clip in (0.0, 0.5):
            opts = ("kind=%s lr=%g weight-decay=%g momentum=%g beta1=%g "
                    "beta2=%g eps=%g clip-norm=%g" % (
                        kind, hp["lr"], hp["wd"], hp["momentum"], hp["beta1"],
                        hp["beta2"], hp["eps"], clip))
            lib = aot.compile_module(text, extra_passes=[
                "--mpt-attach-optimizer=" + opts])
            per = {"sgd": 0, "momentum": 1}.get(kind, 2)
            cur = [a.copy() for a in arrays]
            state = [np.zeros_like(cur[i]) for i in params for _ in range(per)]
            step = np.float32(0.0)
            ref_p = [cur[i].astype(np.float64) for i in params]
            ref_s = [s.astype(np.float64) for s in state]
            worst = 0.0
            for it in range(4):
                extra = state + ([np.array(step)] if per == 2 else [])
                out = lib.call("step", *cur, *extra)
                # The grads at the current (f32) parameters, for the reference.
                g = grads_lib.call("step", *cur)[1:]
                norm = math.sqrt(sum(float(np.sum(x.astype(np.float64) ** 2))
                                     for x in g))
                coef = min(1.0, clip / (norm + 1e-6)) if clip > 0 else 1.0
                hp["coef"] = coef
                new_ref_p, new_ref_s = [], []
                for j, pi in enumerate(params):
                    st = ref_s[j * per:(j + 1) * per]
                    np_, ns = numpy_update(kind, ref_p[j], g[j], st, it, hp)
                    new_ref_p.append(np_)
                    new_ref_s += ns
                ref_p, ref_s = new_ref_p, new_ref_s
                new_p = out[1:1 + len(params)]
                new_s = out[1 + len(params):1 + len(params) + len(state)]
                for got, want in zip(new_p + new_s, ref_p + ref_s):
                    err = np.abs(got - want).max() / max(np.abs(want).max(),
                                                         1e-30)
                    worst = max(worst, err)
                for j, pi in enumerate(params):
                    cur[pi] = new_p[j]
                    # Keep the reference on the compiled trajectory's params.
                    ref_p[j] = new_p[j].astype(np.float64)
                state = list(new_s)
                ref_s = [s.astype(np.float64) for s in new_s]
                if per == 2:
                    step = out[-1]
            good = worst < 64 * F32_EPS and (per < 2 or float(step) == 4.0)
            ok &= good
            print("  %s %-8s clip %-3g: worst relative error %.2e over 4 "
                  "steps" % ("ok  " if good else "BAD ", kind, clip, worst))
    print("%s optimizers against float64" % ("PASS" if ok else "FAIL"))
    return ok


CHECKS = {"scale": check_scale, "skip": check_skip,
          "underflow": check_underflow, "optimizers": check_optimizers}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.trainingcheck")
    ap.add_argument("checks", nargs="+", choices=sorted(CHECKS))
    ap.add_argument("--rng", type=int, default=0)
    args = ap.parse_args(argv)
    ok = True
    for name in args.checks:
        ok &= CHECKS[name](np.random.default_rng(args.rng))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
