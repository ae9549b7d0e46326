"""Executed check of the hand-off to IREE: mpt's steps compiled by IREE.

For each case (a shipped example, a 16-bit format, a loss-scaling mode):

  mpt-opt examples/M.mlir --auto-mixed-precision="dtype=D loss-scaling=S"
  mpt-opt --mpt-export                                 (plain upstream IR)
  iree-compile --iree-hal-target-device=local
               --iree-hal-local-target-device-backends=llvm-cpu ...
  iree.runtime (local-sync driver)      on seeded random inputs, and on the
  mpt CPU path (python/mpt/aot.py)      same inputs, the same AMP step,

and the FP64 step (the generator's f64 form of the example) on the CPU path
as an independent reference. Loss and every gradient must agree normwise,
IREE with mpt within IREE_MPT_FACTOR * u and each of them with FP64 within
TOLERANCE_FACTOR * u (u = 2^-11 for f16, 2^-8 for bf16). With loss
scaling, found_inf and the next scale state must be what mpt's CPU path
returns, exactly, and the one docs/LossScaling.md gives; a call with an
overflowing scale must report found_inf and back off on both.

The examples IREE does not compile are checked to still fail with the
known IREE error (KNOWN_IREE_FAILURES): when a new IREE compiles one, the
check fails and says to test it. Needs the project's environment (.venv:
numpy, iree-base-compiler, iree-base-runtime, see requirements.txt):

  .venv/bin/python -m mpt.testing.ireecheck [--workdir DIR] [--seeds N]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from mpt import aot, gen
from mpt.testing import gradcheck

UNIT_ROUNDOFF = {"f16": 2.0 ** -11, "bf16": 2.0 ** -8}
# Normwise budgets in units of u. Against FP64, the one of
# mpt.testing.ampcheck: a gradient meets ~4 16-bit roundings per layer on its longest path, and
# relative error grows through softmax backward at these small sizes.
# IREE against mpt: both round at the same points (the casts are in the
# IR), so they differ only where an f32 value rounds to the other side in
# 16 bits (reduction order) or where IREE flushes an f16 subnormal to zero
# (its llvm-cpu truncf does; mpt's CPU path, like a GPU, keeps them); 8 u
# is the floor of mpt.testing.fuzzgraph's budgets. Measured:
# docs/Integration.md.
TOLERANCE_FACTOR = 64
IREE_MPT_FACTOR = 8
# IREE's results must be further from FP64 than f32 arithmetic would be
# (~2^-24): proof that the 16-bit arithmetic ran.
MIN_16BIT_ERROR = 0.1

# Loss-scaling state passed in: scale 2^10, growth tracker 0, hysteresis 1
# (as in mpt.testing.ampcheck); after a finite step the tracker is 1. An
# overflow call passes 2^24, which makes the f16 grads of the examples
# overflow: found_inf, then the scale halves and the tracker resets.
STATE_IN = (2.0 ** 10, 0, 1)
STATE_OUT = (2.0 ** 10, 1, 1)
OVERFLOW_IN = (2.0 ** 24, 5, 1)
OVERFLOW_OUT = (2.0 ** 23, 0, 1)

IREE_FLAGS = [
    "--iree-hal-target-device=local",
    "--iree-hal-local-target-device-backends=llvm-cpu",
    # Code for any CPU of the host's architecture (and no warning that
    # IREE chose a default).
    "--iree-llvmcpu-target-cpu=generic",
]
# IREE 3.12 and 3.13 (3.11 not tried) fuse a producer with several uses
# into the dispatch of a softmax and then fail to distribute it
# ("'vector.maskedstore' op write affecting operations on global resources
# are restricted to workgroup distributed contexts"); the FP32 MLP fails the
# same way. Without that fusion it compiles (3.10 needed no flag).
IREE_WORKAROUND = ["--iree-dispatch-creation-fuse-multi-use=false"]

# (model, dtype, loss scaling, extra mpt-opt arguments, label)
CASES = [
    ("mlp", "f16", "dynamic", [], ""),
    ("mlp", "f16", "none", [], ""),
    ("mlp", "bf16", "none", [], ""),
    ("mlp", "bf16", "static", [], ""),
    # The role attributes left on the signature: IREE ignores them.
    ("mlp", "f16", "dynamic", ["--mpt-export=keep-roles"], "keep-roles"),
]

# Examples that IREE 3.13 refuses, with the error it gives; the FP32 step of
# each fails the same way (not an mpt problem, see docs/Integration.md).
KNOWN_IREE_FAILURES = {
    # The input gradient of a convolution, a linalg.generic reading the
    # padded output gradient at (d1 - d4 + 2, d2 - d5 + 2): llvm-cpu tiles
    # it into an operand of the wrong size.
    "cnn": "inferred input/output operand #0 has shape's dimension #1 to be "
           "greater than or equal to 3, but found 1",
    # The attention softmax, raised by IREE to linalg.softmax with the exp
    # (also used by the backward) as its destination: the dispatch is not
    # distributed, whatever the multi-use fusion flag.
    "transformer": "write affecting operations on global resources are "
                   "restricted to workgroup distributed contexts",
}


def normwise(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def _bin(name):
    """A tool of the environment this Python runs in (.venv/bin)."""
    return os.path.join(os.path.dirname(sys.executable), name)


def _run(cmd, check=True):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), proc.stderr))
    return proc


def mpt_opt(src, args, out):
    _run([aot._tool("mpt-opt", "MPT_TOOLS_DIR"), src, *args, "-o", out])
    with open(out) as f:
        return f.read()


def iree_compile(src, out, workaround=True):
    flags = IREE_FLAGS + (IREE_WORKAROUND if workaround else [])
    return _run([_bin("iree-compile"), *flags, src, "-o", out], check=False)


class IreeStep:
    """The function @step of a compiled module, on the local-sync driver."""

    def __init__(self, vmfb):
        import iree.runtime as rt
        ctx = rt.SystemContext(config=rt.Config("local-sync"))
        with open(vmfb, "rb") as f:
            ctx.add_vm_module(rt.VmModule.copy_buffer(ctx.instance, f.read()))
        self.fn = ctx.modules.module["step"]

    def __call__(self, *arrays):
        out = self.fn(*arrays)
        out = out if isinstance(out, tuple) else (out,)
        return [np.asarray(r.to_host()) for r in out]


def example_path(model):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    return os.path.join(root, "examples", model + ".mlir")


def reference(model, workdir):
    """The FP64 step of `model` on the CPU path, after checking that the
    shipped example is the generator's FP32 output (so both are the same
    graph)."""
    with open(example_path(model)) as f:
        shipped = f.read()
    if gen.generate(model)[0] != shipped:
        raise RuntimeError("examples/%s.mlir is not `python3 -m mpt.gen %s`:"
                           " the FP64 reference would be another graph"
                           % (model, model))
    d = os.path.join(workdir, model + "-f64")
    os.makedirs(d, exist_ok=True)
    return shipped, aot.compile_module(gen.generate(model, dtype="f64")[0], d)


def state_args(values):
    scale, tracker, hysteresis = values
    return [np.array(scale, np.float32), np.array(tracker, np.int32),
            np.array(hysteresis, np.int32)]


def check_state(name, got, want, expect):
    """found_inf and the next state: IREE's equal to mpt's and to `expect`."""
    got = [bool(got[0])] + [float(v) for v in got[1:]]
    want = [bool(want[0])] + [float(v) for v in want[1:]]
    if got == want == list(expect):
        return True
    print("  %s: IREE state %s, mpt %s, expected %s" % (name, got, want,
                                                         list(expect)))
    return False


def check_case(model, dtype, scaling, extra, label, seeds, workdir, refs):
    name = " ".join(filter(None, [model, dtype, "%s-scaling" % scaling,
                                  label]))
    tag = name.replace(" ", "-")
    d = os.path.join(workdir, tag)
    os.makedirs(d, exist_ok=True)
    text, ref64 = refs[model]
    amp_args = ["--auto-mixed-precision=dtype=%s loss-scaling=%s"
                % (dtype, scaling)]
    amp_file = os.path.join(d, "amp.mlir")
    amp = mpt_opt(example_path(model), amp_args, amp_file)
    exported = os.path.join(d, "export.mlir")
    mpt_opt(amp_file, extra or ["--mpt-export"], exported)
    vmfb = os.path.join(d, "step.vmfb")
    proc = iree_compile(exported, vmfb)
    if proc.returncode != 0:
        print("FAIL %s: iree-compile failed:\n%s" % (name, proc.stderr))
        return False
    iree = IreeStep(vmfb)
    os.makedirs(os.path.join(d, "cpu"), exist_ok=True)
    cpu = aot.compile_module(amp, os.path.join(d, "cpu"))

    arg_types, _ = aot.parse_signature(text, "step")
    roles = gradcheck.roles_of(text)
    u = UNIT_ROUNDOFF[dtype]
    tol = TOLERANCE_FACTOR * u
    ok = True
    worst = {"iree-mpt": 0.0, "iree-f64": 0.0, "mpt-f64": 0.0}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        arrays = gradcheck.random_inputs(arg_types, roles, rng, 8)
        gradcheck.one_hot_labels(arrays, roles, rng)
        want64 = ref64.call("step", *arrays)
        arrays = [np.asarray(a, np.float32) for a in arrays]
        state = state_args(STATE_IN) if scaling == "dynamic" else []
        got = iree(*arrays, *state)
        mine = cpu.call("step", *arrays, *state)
        n = len(want64)
        if len(got) != len(mine):
            print("  %s: IREE returns %d results, mpt %d" % (
                name, len(got), len(mine)))
            return False
        for i in range(n):
            errs = {"iree-mpt": normwise(got[i], mine[i]),
                    "iree-f64": normwise(got[i], want64[i]),
                    "mpt-f64": normwise(mine[i], want64[i])}
            for k, e in errs.items():
                worst[k] = max(worst[k], e)
                budget = IREE_MPT_FACTOR * u if k == "iree-mpt" else tol
                if not e <= budget:
                    ok = False
                    print("  %s seed %d result #%d: %s normwise error %.3g "
                          "> %.3g" % (name, seed, i, k, e, budget))
        if scaling == "dynamic":
            ok &= check_state(name, got[n:], mine[n:], (False,) + STATE_OUT)
        elif scaling == "static":
            ok &= check_state(name, got[n:], mine[n:], (False,))
    if scaling == "dynamic":
        # An overflowing scale: the lowered check and state machine agree.
        got = iree(*arrays, *state_args(OVERFLOW_IN))
        mine = cpu.call("step", *arrays, *state_args(OVERFLOW_IN))
        ok &= check_state(name + " overflow", got[n:], mine[n:],
                          (True,) + OVERFLOW_OUT)
    if worst["iree-f64"] < MIN_16BIT_ERROR * u:
        ok = False
        print("  %s: IREE's results are as close to FP64 as f32 arithmetic "
              "(%.3g u): did 16-bit arithmetic run?" % (
                  name, worst["iree-f64"] / u))
    print("%s %s: worst normwise error IREE-mpt %.3g u (budget %d u), "
          "IREE-FP64 %.3g u, mpt-FP64 %.3g u (budget %d u)" % (
              "PASS" if ok else "FAIL", name, worst["iree-mpt"] / u,
              IREE_MPT_FACTOR, worst["iree-f64"] / u, worst["mpt-f64"] / u,
              TOLERANCE_FACTOR))
    return ok


def check_refused(workdir):
    """What IREE refuses, and why; each line fails if that changed."""
    ok = True
    d = os.path.join(workdir, "refused")
    os.makedirs(d, exist_ok=True)
    # Without the export the mpt ops are left: IREE has no mpt dialect.
    amp_file = os.path.join(d, "mlp-f16-amp.mlir")
    mpt_opt(example_path("mlp"), ["--auto-mixed-precision=dtype=f16"],
            amp_file)
    proc = iree_compile(amp_file, os.path.join(d, "x.vmfb"))
    refused = proc.returncode != 0 and "Dialect `mpt' not found" in proc.stderr
    ok &= refused
    print("%s mlp f16 without mpt-export: %s" % (
        "PASS" if refused else "FAIL",
        "IREE refuses it (Dialect `mpt' not found)" if refused else
        "IREE did not refuse it as expected:\n" + proc.stderr[-2000:]))
    # The MLP needs the workaround flag (a fixed IREE would not).
    exported = os.path.join(d, "mlp-f16.mlir")
    mpt_opt(amp_file, ["--mpt-export"], exported)
    proc = iree_compile(exported, os.path.join(d, "x.vmfb"), workaround=False)
    still = proc.returncode != 0
    print("NOTE mlp f16 without %s: %s" % (
        IREE_WORKAROUND[0], "IREE still fails (multi-use fusion into a "
        "softmax dispatch)" if still else "IREE compiles it now: the "
        "workaround can go"))
    for model, error in KNOWN_IREE_FAILURES.items():
        for dtype in ("f16", "bf16"):
            out = os.path.join(d, "%s-%s.mlir" % (model, dtype))
            mpt_opt(example_path(model), [
                "--auto-mixed-precision=dtype=%s" % dtype, "--mpt-export"],
                out)
            proc = iree_compile(out, os.path.join(d, "x.vmfb"))
            known = proc.returncode != 0 and error in proc.stderr
            ok &= known
            print("%s %s %s: %s" % (
                "PASS" if known else "FAIL", model, dtype,
                "known IREE failure" if known else
                "IREE compiled it or failed otherwise: test it with the "
                "others (CASES) or update KNOWN_IREE_FAILURES:\n" +
                proc.stderr[-2000:]))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mpt.testing.ireecheck")
    ap.add_argument("--workdir", help="keep the files here (default: a "
                    "temporary folder)")
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="mpt-iree-")
    from importlib.metadata import version
    print("IREE %s (compiler), %s (runtime)" % (
        version("iree-base-compiler"), version("iree-base-runtime")))
    refs = {}
    for model in sorted({c[0] for c in CASES}):
        refs[model] = reference(model, workdir)
    ok = all([check_case(*case, args.seeds, workdir, refs)
              for case in CASES])
    ok &= check_refused(workdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
