# REQUIRES: torch
# mpt's dynamic loss scaling, bit for bit against PyTorch's own state
# machine: torch._amp_update_scale_, the op behind torch.amp.GradScaler.
# A small model exported with mpt.from_torch is compiled by mpt.compile
# (`--auto-mixed-precision="dtype=f16 loss-scaling=dynamic ..."`, the CPU
# path) and run for long random sequences of finite and non-finite steps
# (a NaN or an Inf put into the batch); after every step the scale (its
# f32 bits) and the growth tracker that mpt's step returns must equal what
# torch._amp_update_scale_ makes of the same found_inf from the same state.
#
# In an f16 step the scaled seed overflows f16 from a scale of 2^16 on
# (65536 > 65504) and makes the step non-finite by itself, so the top of
# f32 (the finite-growth guard: 2^127 * 2 overflows and is refused) is
# reached with the FP32 step and `--mpt-insert-loss-scaling=mode=dynamic`,
# the same mpt.update_scale. Every run checks that it met what it is for
# (growths, backoffs, the guard, the bounds, the hysteresis).
#
# PyTorch has neither bounds nor hysteresis. With min-scale 2^-149 (the
# least f32) and max-scale the largest f32 the bounds can only act where
# PyTorch's scale underflows to 0 (mpt keeps 2^-149), so there the
# reference is PyTorch's op and then mpt's documented clamp
# (docs/LossScaling.md): max(scale, min) after a backoff, min(scale, max)
# after a growth. Hysteresis h > 1 (DeepSpeed's delayed shift) skips the
# first h - 1 backoffs after a growth: the reference calls PyTorch's op
# only for the backoffs that happen and resets the tracker on the others.
# The clamp and the hysteresis wrapper are counted and printed.
#
# The factors: mpt makes them f32 constants, PyTorch multiplies the f32
# scale by a double. For factors that are f32 numbers the two are the same
# (the product of two f32 is exact in double, rounded once to f32); for
# 0.3 and 1.7 mpt must equal PyTorch called with the f32-rounded factors,
# and the steps where PyTorch with the double factors differs are counted.
#
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %venv_python %s | FileCheck %s
# CHECK: PASS pytorch-defaults:
# CHECK: PASS interval-1-edges:
# CHECK: PASS factor-3:
# CHECK: PASS hysteresis-3:
# CHECK: PASS bounds:
# CHECK: PASS non-f32-factors:
# CHECK-NOT: FAIL

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import mpt

F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = 2.0 ** -149  # the least positive f32 (a subnormal)


class Regression(nn.Module):
    """Returns its own loss. Without biases, a zero batch gives a loss of
    0 and gradients of exactly 0: in the FP32 step only an injected NaN/Inf
    or a scale below 2^-127 (whose reciprocal, the unscale factor,
    overflows f32: 0 * inf) makes a step non-finite, so the scale can reach
    f32's edges. A random batch gives live gradients."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU(),
                                 nn.Linear(8, 2, bias=False))

    def forward(self, x, target):
        return F.mse_loss(self.net(x), target)


def f32(v):
    return float(np.float32(v))


def bits(v):
    return int(np.asarray(v, np.float32).view(np.uint32))


def sequence(rng, steps, finite_run, burst, tail=0):
    """Alternating runs of finite steps and bursts of non-finite ones, run
    lengths drawn from 1 to the given bounds; the last `tail` steps one
    burst."""
    out = []
    while len(out) < steps - tail:
        out += [False] * int(rng.integers(1, finite_run + 1))
        out += [True] * int(rng.integers(1, burst + 1))
    return out[:steps - tail] + [True] * tail


class Reference:
    """PyTorch's torch._amp_update_scale_, with mpt's bounds and hysteresis
    around it (see above)."""

    def __init__(self, init, growth, backoff, interval, hysteresis,
                 min_scale, max_scale, torch_factors=None):
        self.scale = torch.tensor(f32(init), dtype=torch.float32)
        self.tracker = torch.tensor(0, dtype=torch.int32)
        self.left = hysteresis
        self.hysteresis = hysteresis
        self.factors = torch_factors or (f32(growth), f32(backoff))
        self.interval = interval
        self.min = torch.tensor(f32(min_scale))
        self.max = torch.tensor(f32(max_scale))
        self.clamped = self.delayed = self.guarded = 0

    def update(self, found_inf):
        if found_inf and self.left > 1:
            self.left -= 1
            self.tracker.zero_()
            self.delayed += 1
            return
        before = self.scale.clone()
        torch._amp_update_scale_(self.scale, self.tracker,
                                 torch.tensor(float(found_inf)),
                                 self.factors[0], self.factors[1],
                                 self.interval)
        if found_inf:
            bounded = torch.maximum(self.scale, self.min)
        else:
            bounded = torch.minimum(self.scale, self.max)
            if int(self.tracker) == 0:  # the growth interval was reached
                self.left = self.hysteresis
                # PyTorch refused a growth that overflows f32.
                self.guarded += torch.equal(before, self.scale)
        self.clamped += not torch.equal(bounded, self.scale)
        self.scale.copy_(bounded)


def run(name, text, params, batch, rng, steps, init, growth, backoff,
        interval, hysteresis=1, min_scale=F32_TINY, max_scale=F32_MAX,
        finite_run=50, burst=4, tail=0, double_factors=False, amp="f16",
        expect=()):
    step = mpt.compile(text, amp=amp, loss_scaling=mpt.LossScaling(
        "dynamic", init_scale=init, growth_factor=growth,
        backoff_factor=backoff, growth_interval=interval,
        hysteresis=hysteresis, min_scale=min_scale, max_scale=max_scale))
    want_pass = ("--auto-mixed-precision=dtype=f16 loss-scaling=dynamic "
                 if amp else "--mpt-insert-loss-scaling=mode=dynamic ")
    assert step.pipeline[0].startswith(want_pass), step.pipeline
    params = dict(zip(step.params, params))
    ref = Reference(init, growth, backoff, interval, hysteresis, min_scale,
                    max_scale)
    # PyTorch with the factors as doubles (what GradScaler passes).
    ref64 = Reference(init, growth, backoff, interval, hysteresis, min_scale,
                      max_scale, torch_factors=(growth, backoff)) \
        if double_factors else None
    state = step.init_state()
    x, target = batch
    poisoned = x.copy()
    injected = sequence(rng, steps, finite_run, burst, tail)
    mismatches = natural = grown = backoffs = differ64 = 0
    seen = {"max": 0.0, "min": F32_MAX}
    first = None
    for i, bad in enumerate(injected):
        data = x
        if bad:
            poisoned[...] = x
            poisoned[int(rng.integers(0, x.shape[0])),
                     int(rng.integers(0, x.shape[1]))] = \
                np.nan if i % 2 else np.inf
            data = poisoned
        out = step(**dict(zip(step.inputs, (data, target))), **params,
                   **state)
        found = bool(out.found_inf)
        if bad and not found:
            print("FAIL %s: step %d holds a NaN/Inf but found_inf is false"
                  % (name, i))
            return 1
        natural += found and not bad
        ref.update(found)
        if ref64 is not None:
            ref64.update(found)
            differ64 += bits(ref64.scale) != bits(ref.scale)
            # Keep following mpt's state: count per step, not drift.
            ref64.scale.copy_(ref.scale)
            ref64.tracker.copy_(ref.tracker)
            ref64.left = ref.left
        got = (bits(out.loss_scale), int(out.growth_tracker),
               int(out.hysteresis))
        want = (bits(ref.scale), int(ref.tracker), ref.left)
        if got != want:
            mismatches += 1
            if first is None:
                first = (i, found, float(state["loss_scale"]),
                         float(out.loss_scale), float(ref.scale), got[1:],
                         want[1:])
        before = float(state["loss_scale"])
        after = float(out.loss_scale)
        grown += after > before
        backoffs += after < before
        seen["max"] = max(seen["max"], after)
        seen["min"] = min(seen["min"], after)
        state = {"loss_scale": out.loss_scale,
                 "growth_tracker": out.growth_tracker,
                 "hysteresis": out.hysteresis}
    met = {"growth": grown, "backoff": backoffs, "guard": ref.guarded,
           "bounds": ref.clamped, "hysteresis": ref.delayed}
    missed = [k for k in ("growth", "backoff") + tuple(expect)
              if not met[k]]
    ok = mismatches == 0 and not missed
    line = ("%s %s: %d steps, %d non-finite (%d injected, %d from the "
            "step's own overflow), %d growths, %d backoffs, scale in "
            "[%.6g, %.6g], %d mismatches; growth refused by the f32 guard "
            "%d times, bounds acted %d times, hysteresis delayed %d "
            "backoffs" % (
                "PASS" if ok else "FAIL", name, steps,
                sum(injected) + natural, sum(injected), natural, grown,
                backoffs, seen["min"], seen["max"], mismatches, ref.guarded,
                ref.clamped, ref.delayed))
    if ref64 is not None:
        line += "; PyTorch with double factors differs at %d steps" % \
            differ64
    if missed:
        line += "; never met: " + ", ".join(missed)
    print(line)
    if first is not None:
        print("  first mismatch at step %d (found_inf %s, scale %r): mpt "
              "%r, PyTorch %r; tracker, hysteresis: mpt %s, PyTorch %s"
              % first)
    sys.stdout.flush()
    return 0 if ok else 1


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Regression()
    x = torch.randn(6, 4)
    target = torch.randn(6, 2)
    text = mpt.from_torch(model, None, (x, target))
    params = mpt.torch_import.parameter_arrays(model)
    live = (x.numpy(), target.numpy())
    zero = (np.zeros((6, 4), np.float32), np.zeros((6, 2), np.float32))

    failures = 0
    # GradScaler's defaults (init 65536, x2 after 2000 finite steps, x0.5 on
    # a non-finite one) on live gradients: long finite runs that reach the
    # growth interval, and the step's own f16 overflow at large scales.
    failures += run("pytorch-defaults", text, params, live, rng, 12000,
                    init=65536.0, growth=2.0, backoff=0.5, interval=2000,
                    finite_run=4000, burst=3)
    # Growth after every finite step from 2^100 (FP32 step, see above):
    # the finite-growth guard at 2^127 (2^128 overflows f32 and is
    # refused), then a final burst of 300 down to the bottom of f32
    # (2^-149, where PyTorch's scale underflows to 0; from 2^-128 on the
    # step is non-finite by itself, so the bottom is where it ends).
    failures += run("interval-1-edges", text, params, zero, rng, 4000,
                    init=2.0 ** 100, growth=2.0, backoff=0.5, interval=1,
                    finite_run=200, burst=40, tail=300, amp=None,
                    expect=("guard", "bounds"))
    # A factor that is not a power of two: the scale's product is rounded
    # (f32 factors: PyTorch's double product rounds to the same f32); FP32
    # step on the zero batch, up to where scale * 3 overflows f32.
    failures += run("factor-3", text, params, zero, rng, 4000,
                    init=1000.0, growth=3.0, backoff=0.75, interval=2,
                    finite_run=400, burst=40, amp=None, expect=("guard",))
    # DeepSpeed's hysteresis on live gradients.
    failures += run("hysteresis-3", text, params, live, rng, 4000,
                    init=1024.0, growth=2.0, backoff=0.5, interval=5,
                    hysteresis=3, finite_run=30, burst=6,
                    expect=("hysteresis",))
    # Bounds that act: min 0.5, max 2^20, with hysteresis 2.
    failures += run("bounds", text, params, zero, rng, 4000,
                    init=65536.0, growth=2.0, backoff=0.5, interval=3,
                    hysteresis=2, min_scale=0.5, max_scale=2.0 ** 20,
                    finite_run=80, burst=60, expect=("bounds", "hysteresis"))
    # Factors that f32 cannot hold.
    failures += run("non-f32-factors", text, params, live, rng, 4000,
                    init=3000.0, growth=1.7, backoff=0.3, interval=4,
                    finite_run=60, burst=3, double_factors=True)
    return failures


if __name__ == "__main__":
    sys.exit(main())
