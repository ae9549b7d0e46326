"""Shared checks of the PyTorch ingress tests (test/Integration/Torch).

check(name, model, loss_fn, batch, ...) exports the model's training step
with mpt.from_torch, compiles it with mpt's CPU path (python/mpt/aot.py):
FP32 as exported, and the f16 / bf16 forms of `mpt-opt
--auto-mixed-precision` (no loss scaling, so the signature is unchanged),
runs each on the model's weights and the batch and compares the loss and
every gradient with PyTorch's in float64 (the reference), by relative norm
error ||a - b|| / ||b||.

Budgets (derived, printed with each result):
- FP32: a sum of n f32 products is off by at most n u (u = 2^-24, the
  classic gamma_n bound). mpt and PyTorch sum in other orders, so each gets
  that bound; the budget is max(n_max u, 4 x PyTorch FP32's own error), n_max
  the longest reduction of the step (given per model).
- 16 bits: each 16-bit contraction rounds its two inputs once (relative u16:
  2^-11 f16, 2^-8 bf16) and accumulates in f32; along the step's longest path
  of R contractions (forward and backward, given per model) the first-order
  error of a well-conditioned output is at most 2 R u16: the budget. PyTorch
  CPU autocast's error on the same data is printed beside it; it must fit the
  same budget (else the budget would be too tight for PyTorch's own AMP), and
  mpt's worst error may be at most 4 times autocast's worst (mpt's 16-bit
  step is not much worse than PyTorch's AMP).
"""

import copy
import sys

import numpy as np
import torch

import mpt
from mpt import aot

U = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}
TORCH_DTYPE = {"f16": torch.float16, "bf16": torch.bfloat16}


def rel(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb else float(
        np.linalg.norm(a))


def torch_step(model, loss_fn, batch, model_inputs, dtype=None,
               autocast=None):
    """PyTorch's loss and grads (params with requires_grad) as numpy."""
    m = copy.deepcopy(model)
    data = list(batch)
    if dtype is not None:
        m = m.to(dtype)
        data = [t.to(dtype) if t.is_floating_point() else t for t in data]
    m.train()
    params = [p for p in m.parameters() if p.requires_grad]
    ctx = (torch.autocast("cpu", dtype=autocast) if autocast is not None
           else torch.autocast("cpu", enabled=False))
    with ctx:
        out = m(*data[:model_inputs])
        loss = out if loss_fn is None else loss_fn(out, *data[model_inputs:])
    grads = torch.autograd.grad(loss.float() if autocast else loss, params)
    return [loss.detach().double().numpy()] + [
        g.detach().double().numpy() for g in grads]


def mpt_step(text, model, batch, pipeline=()):
    lib = aot.compile_module(text, extra_passes=list(pipeline))
    args = mpt.torch_import.parameter_arrays(model) + [
        t.numpy() for t in batch] + [np.ones((), np.float32)]
    return lib.call("step", *args)


def check(name, model, loss_fn, batch, n_max, depth, model_inputs=None,
          dtypes=("f16", "bf16")):
    """Prints PASS/FAIL lines; returns the number of failures."""
    batch = tuple(batch)
    if model_inputs is None:
        model_inputs = len(batch) if loss_fn is None else len(batch) - 1
    text = mpt.from_torch(model, loss_fn, batch, model_inputs=model_inputs)
    ref = torch_step(model, loss_fn, batch, model_inputs, torch.float64)
    t32 = torch_step(model, loss_fn, batch, model_inputs)
    failures = 0
    names = ["loss"] + [n for n, p in model.named_parameters()
                        if p.requires_grad]

    def report(label, got, budget, extra=None):
        nonlocal failures
        errs = [rel(g, r) for g, r in zip(got, ref)]
        worst = max(range(len(errs)), key=lambda i: errs[i])
        ok = len(got) == len(ref) and all(e <= budget for e in errs) and all(
            np.all(np.isfinite(g)) for g in got)
        failures += not ok
        line = "%s %s %s: worst %s %.2e (loss %.2e), budget %.2e" % (
            "PASS" if ok else "FAIL", name, label, names[worst],
            errs[worst], errs[0], budget)
        if extra:
            line += ", " + extra
        print(line)
        if not ok:
            for n, e in zip(names, errs):
                print("  %s %.3e" % (n, e))
        return errs

    own = max(rel(g, r) for g, r in zip(t32, ref))
    fp32 = mpt_step(text, model, batch)
    report("fp32", fp32, max(n_max * U["f32"], 4 * own),
           "PyTorch FP32 %.2e" % own)
    for dtype in dtypes:
        budget = 2 * depth * U[dtype]
        got = mpt_step(text, model, batch, [
            "--auto-mixed-precision=dtype=%s loss-scaling=none" % dtype])
        ac = max(rel(g, r) for g, r in zip(
            torch_step(model, loss_fn, batch, model_inputs,
                       autocast=TORCH_DTYPE[dtype]), ref))
        errs = report(dtype, got, budget, "PyTorch CPU autocast %.2e" % ac)
        if ac > budget:
            print("FAIL %s %s: PyTorch's autocast error %.2e exceeds the "
                  "budget %.2e: the budget is too tight" % (
                      name, dtype, ac, budget))
            failures += 1
        if max(errs) > 4 * ac:
            print("FAIL %s %s: mpt's error %.2e is over 4 times PyTorch "
                  "autocast's %.2e" % (name, dtype, max(errs), ac))
            failures += 1
    sys.stdout.flush()
    return failures
