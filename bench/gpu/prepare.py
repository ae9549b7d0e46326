"""Builds the GPU check cases on a machine without a GPU.

For every case (a shipped example or a generated step, in FP32, f16 with
dynamic loss scaling and AdamW in the step, and bf16) this writes into
OUTDIR/<case>/:

  libstep.so, step.mlir   the step compiled by mpt-lower-to-nvvm (mpt.cuda)
  data.npz                random inputs and the CPU path's results for them
  meta.json               precision, tolerance, kernel count, result roles;
                          for a step of mpt.gen (the shipped examples are
                          gen's default models), also what PyTorch needs
                          to build the same step (`torch`: the model's
                          hyper-parameters, optimizer and loss-scaling
                          options; `arg_roles`, `results`: the signature)

check.py then runs each libstep.so on the GPU with the same inputs and
compares with the CPU results (and with PyTorch, see check.py and
torch_ref.py). Both paths compute the same mixed-precision step (16-bit ops
rounded once per op), so they agree to a few units of roundoff; the
tolerance is derived from the format: normwise error <= TOLERANCE_FACTOR *
u, u = 2^-24 (FP32 step), 2^-11 (f16), 2^-8 (bf16).
Integer and boolean results (found_inf, the scale state) must be equal.

The `kernel-...` cases (kernel_cases.py) are single ops or short chains
(reductions of every layout, elementwise chains, tensor-core contractions
with transposed operands), compared with a float64 numpy reference computed
here, each with its own tolerance derived from its format and reduction
depth (meta `norm`: "inf"); see kernel_cases.py. A case may ask for
options of mpt-lower-to-nvvm (Case.extra `pipeline`: the TF32 contractions
`kernel-mm-*-tf32-*` are built with "tf32=true").

  PYTHONPATH=python MPT_TOOLS_DIR=build-gpustep/bin \
    MPT_LLVM_TOOLS_DIR=/usr/lib/llvm-22/bin python3 bench/gpu/prepare.py OUT
"""

import argparse
import json
import os
import re
import shutil
import sys
import time
import traceback
import zlib

import numpy as np

from mpt import aot, cuda, gen
from mpt.testing import gradcheck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernel_cases  # noqa: E402  (beside this file)
import torch_ref  # noqa: E402

UNIT_ROUNDOFF = {"fp32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}
# Same budget as mpt.testing.ampcheck (AMP vs FP32): here the two sides differ far
# less (only in math-library ulps and the roundings they flip).
TOLERANCE_FACTOR = 64

PASSES = {
    "fp32": [],
    "f16": ["--auto-mixed-precision=dtype=f16 loss-scaling=dynamic",
            "--mpt-attach-optimizer=kind=adamw lr=1e-3 weight-decay=0.01"],
    "bf16": ["--auto-mixed-precision=dtype=bf16"],
}

# Generated steps larger than the shipped examples (python3 -m mpt.gen).
# Random graphs of mpt.testing.fuzzgraph among the cases (seeds, features).
FUZZ_SEEDS = (101, 104, 107, 112, 118, 123, 131, 140)
FUZZ_FEATURES = ("generic", "call", "body", "detached")

GENERATED = {
    "gen-mlp": dict(model="mlp", batch=64, widths=[256, 512, 512, 10]),
    "gen-cnn": dict(model="cnn", batch=16, channels=[3, 16, 32], image=16,
                    classes=10),
    "gen-transformer": dict(model="transformer", batch=8, seq=32, dim=64,
                            heads=4, hidden=128, classes=10, depth=2),
}


def cases(selected):
    out = []
    for model in ("mlp", "cnn", "transformer"):
        for prec in PASSES:
            out.append(("%s-%s" % (model, prec), dict(
                example=model), prec, [8]))
    for name, spec in GENERATED.items():
        for prec in PASSES:
            out.append(("%s-%s" % (name, prec), spec, prec,
                        [spec["batch"]]))
    # A loss scale that overflows f16: found_inf, the update skipped in the
    # step (both branches ran, the select kept the old values), backoff.
    out.append(("mlp-f16-overflow", dict(example="mlp", scale=2.0 ** 40),
                "f16", [8]))
    # Random training graphs (mpt.testing.fuzzgraph, without loops, which
    # the GPU path does not take): whatever the fusions of
    # mpt-linalg-to-gpu-launch make of graphs nobody wrote for them, against
    # the CPU path.
    # (FP32 and bf16: most of them have grads that do not depend on the
    # seed, which loss scaling rightly refuses.)
    for seed in FUZZ_SEEDS:
        for prec in ("fp32", "bf16"):
            out.append(("fuzz%d-%s" % (seed, prec), dict(fuzz=seed), prec,
                        [1]))
    # A dynamic batch: one library, called with two batch sizes.
    out.append(("mlp-dynamic-f16", dict(model="mlp", batch=4, dynamic=True),
                "f16", [4, 7]))
    # Kernel-level cases against a float64 reference (kernel_cases.py);
    # their precision and batches come with the case.
    for name, factory in kernel_cases.CASES:
        out.append((name, dict(kernel=factory), None, None))
    if selected:
        out = [c for c in out if any(re.fullmatch(s, c[0]) for s in selected)]
    return out


def source(spec, root):
    if "fuzz" in spec:
        from mpt.testing import fuzzgraph
        return fuzzgraph.emit(fuzzgraph.generate(
            spec["fuzz"], spec.get("size", 12), FUZZ_FEATURES))
    if "example" in spec:
        with open(os.path.join(root, "examples", spec["example"] + ".mlir")) as f:
            return f.read()
    kw = dict(spec)
    kw.pop("scale", None)
    model = kw.pop("model")
    text, _ = gen.generate(model, **kw)
    return text


def torch_info(spec, text, prec):
    """What check.py needs to build the step in PyTorch (torch_ref.py), or
    None with the reason when there is no such model."""
    if "fuzz" in spec:
        return None, "a random graph of mpt.testing.fuzzgraph"
    if "example" in spec:
        model, kw = spec["example"], {}
        if gen.generate(model)[0] != text:
            return None, "examples/%s.mlir is not mpt.gen's default %s" % (
                model, model)
    else:
        kw = {k: v for k, v in spec.items()
              if k not in ("model", "batch", "dynamic", "scale")}
        model = spec["model"]
    opt, scaling, _ = torch_ref.training_options(PASSES[prec])
    return dict(spec=torch_ref.full_spec(model, **kw), optimizer=opt,
                loss_scaling=scaling), None


def state_inputs(arg_types, roles, rng, scale=2.0 ** 10):
    """Values for the state arguments that loss scaling and the optimizer
    add: scale 2^10 (2^16 overflows small f16 steps' grads), tracker 0,
    hysteresis 1, optimizer moments positive, step count 2."""
    out = []
    for t, role in zip(arg_types, roles):
        shape = t.shape or []
        if role == "loss_scale":
            out.append(np.array(scale, np.float32))
        elif role == "growth_tracker":
            out.append(np.array(0, np.int32))
        elif role == "hysteresis":
            out.append(np.array(1, np.int32))
        elif role == "opt_state":
            if not shape:
                out.append(np.array(2.0, np.float32))
            else:
                out.append((np.abs(rng.standard_normal(shape)) * 0.1)
                           .astype(np.float32))
        else:
            out.append(None)
    return out


def make_inputs(text, batch, rng, scale=2.0 ** 10):
    arg_types, _ = aot.parse_signature(text, "step")
    roles, _ = gradcheck.signature_roles(text)
    base = [i for i, r in enumerate(roles)
            if r in ("input", "param", "loss_grad")]
    arrays = gradcheck.random_inputs([arg_types[i] for i in base],
                                     [roles[i] for i in base], rng, batch,
                                     fan_in=True)
    gradcheck.one_hot_labels(arrays, [roles[i] for i in base], rng)
    state = state_inputs(arg_types, roles, rng, scale)
    it = iter(arrays)
    out = []
    for i, t in enumerate(arg_types):
        v = next(it) if i in base else state[i]
        out.append(np.asarray(v, aot._NP_TYPES[t.elem]))
    return out


CPU_TOOLS = None


def cpu_reference(text):
    """The step compiled by mpt-lower-to-cpu (with --cpu-tools' mpt-opt)."""
    saved = os.environ.get("MPT_TOOLS_DIR")
    if CPU_TOOLS:
        os.environ["MPT_TOOLS_DIR"] = CPU_TOOLS
    try:
        return aot.compile_module(text)
    finally:
        if saved is not None:
            os.environ["MPT_TOOLS_DIR"] = saved


def check_signature(case):
    """The case's arrays fit its function's signature (dtypes, ranks,
    static sizes), so that a mistake shows here, not on the GPU."""
    arg_types, res_types = aot.parse_signature(case.text, "step")
    for k, (ins, outs) in enumerate(zip(case.inputs, case.expected)):
        for what, arrays, types in (("argument", ins, arg_types),
                                    ("result", outs, res_types)):
            if len(arrays) != len(types):
                raise ValueError("call %d: %d %ss, the function has %d" % (
                    k, len(arrays), what, len(types)))
            for i, (a, t) in enumerate(zip(arrays, types)):
                want = np.dtype(aot._NP_TYPES[t.elem])
                if a.dtype != want or a.ndim != t.rank or any(
                        s is not None and s != n
                        for s, n in zip(t.shape, a.shape)):
                    raise ValueError("call %d %s #%d: %s %s does not fit "
                                     "%s" % (k, what, i, a.dtype,
                                             a.shape, t.text))


def build_kernel_case(name, factory, outdir, chip):
    """A kernel_cases.py case: its function built as is, its float64
    reference's results stored as the expected outputs."""
    d = os.path.join(outdir, name)
    shutil.rmtree(d, ignore_errors=True)
    case = factory()
    check_signature(case)
    t0 = time.time()
    # Options of mpt-lower-to-nvvm that the case asks for (Case.extra
    # `pipeline`, e.g. "tf32=true"; kept in meta.json).
    cuda.build(case.text, d, chip=chip,
               pipeline_extra=case.extra.get("pipeline", ""))
    build_s = time.time() - t0
    with open(os.path.join(d, "step.gpu.mlir")) as f:
        launches = re.findall(r"gpu\.launch_func\s.*?@\w+::@(\w+)",
                              f.read())
    os.remove(os.path.join(d, "step.gpu.mlir"))
    data = {}
    for k, (ins, outs) in enumerate(zip(case.inputs, case.expected)):
        for i, a in enumerate(ins):
            data["in%d_%d" % (k, i)] = a
        for i, a in enumerate(outs):
            data["out%d_%d" % (k, i)] = a
    np.savez(os.path.join(d, "data.npz"), **data)
    meta = dict(case=name, precision=case.precision, batches=case.batches,
                unit_roundoff=case.unit_roundoff, tolerance=case.tolerance,
                norm="inf", reference="numpy float64",
                kernels=len(launches), kernel_names=launches,
                roles=case.roles, build_seconds=round(build_s, 2),
                chip=chip, **case.extra)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)
    return meta


def build_case(name, spec, prec, batches, root, outdir, chip, amp_opt=None):
    if "kernel" in spec:
        return build_kernel_case(name, spec["kernel"], outdir, chip)
    d = os.path.join(outdir, name)
    shutil.rmtree(d, ignore_errors=True)
    text = source(spec, root)
    torch_model, no_torch = torch_info(spec, text, prec)
    passes = PASSES[prec]
    if amp_opt and passes:
        text = aot._run([amp_opt, "-"] + passes, stdin=text.encode()).decode()
        passes = []
    t0 = time.time()
    cuda.build(text, d, extra_passes=passes, chip=chip)
    build_s = time.time() - t0
    with open(os.path.join(d, "step.mlir")) as f:
        text = f.read()
    with open(os.path.join(d, "step.gpu.mlir")) as f:
        kernels = f.read().count("gpu.launch_func")
    os.remove(os.path.join(d, "step.gpu.mlir"))
    ref = cpu_reference(text)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    data = {}
    for k, batch in enumerate(batches):
        inputs = make_inputs(text, batch, rng, spec.get("scale", 2.0 ** 10))
        want = ref.call("step", *inputs)
        for i, a in enumerate(inputs):
            data["in%d_%d" % (k, i)] = a
        for i, a in enumerate(want):
            data["out%d_%d" % (k, i)] = a
    np.savez(os.path.join(d, "data.npz"), **data)
    meta = dict(case=name, precision=prec, batches=batches,
                unit_roundoff=UNIT_ROUNDOFF[prec],
                tolerance=TOLERANCE_FACTOR * UNIT_ROUNDOFF[prec],
                kernels=kernels, roles=gradcheck.signature_roles(text)[1],
                build_seconds=round(build_s, 2), chip=chip)
    arg_roles, results = torch_ref.signature(text)
    meta.update(arg_roles=arg_roles, results=results)
    if torch_model:
        meta["torch"] = torch_model
    else:
        meta["no_torch"] = no_torch
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--only", nargs="*", help="regexes of case names")
    ap.add_argument("--chip", default="sm_90a")
    ap.add_argument("--cpu-tools", help="directory of the mpt-opt that "
                    "computes the CPU reference (default: MPT_TOOLS_DIR)")
    ap.add_argument("--amp-opt", help="mpt-opt that runs the AMP passes "
                    "(default: the one of MPT_TOOLS_DIR)")
    args = ap.parse_args(argv)
    global CPU_TOOLS
    CPU_TOOLS = args.cpu_tools
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    os.makedirs(args.outdir, exist_ok=True)
    shutil.copy(cuda.runtime_path(), args.outdir)
    failed = 0
    for name, spec, prec, batches in cases(args.only):
        try:
            meta = build_case(name, spec, prec, batches, root, args.outdir,
                              args.chip, args.amp_opt)
            print("built %-26s %4d kernels  %6.1fs" % (
                name, meta["kernels"], meta["build_seconds"]), flush=True)
        except Exception as e:  # reported per case; the others still build
            failed += 1
            msg = str(e).strip().splitlines()
            print("FAILED to build %s: %s" % (
                name, " | ".join(msg[:3]) if msg else
                traceback.format_exc()), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
