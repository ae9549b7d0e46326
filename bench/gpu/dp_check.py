"""Data-parallel steps (mpt-data-parallel) on one GPU: the same numbers as
the single-process step, through the runtime's copy (no communicator) and
through real NCCL in a world of one; and what the all-reduces cost.

  here:    MPT_TOOLS_DIR=... python3 bench/gpu/dp_check.py build ART
  the GPU: python3 bench/gpu/dp_check.py run ART OUT.jsonl

build: an MLP (f16, dynamic loss scaling, SGD with momentum) and a small
transformer (bf16, AdamW), each compiled plain, data-parallel (buckets of
25 MiB) and data-parallel with one all-reduce per grad (bucket-mb=0).
run: three chained steps of each (results fed back as state; the third with
an Inf in the batch, which every variant must skip), all results compared
bit for bit with the plain step's: first without a communicator, then with
NCCL (init_distributed(rank=0, world_size=1)), counting the runtime's
mptAllReduce calls (host profile); then the median step time of each
variant with torch CUDA tensors, beside the plain step. Exit status: the
number of failed checks.
"""

import argparse
import ctypes
import datetime
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

MODELS = {
    "mlp_f16_dynscale_grads": (
        "mlp", dict(batch=2048, widths=[1024, 2048, 2048, 1000]),
        ["--auto-mixed-precision=dtype=f16 loss-scaling=dynamic "
         "init-scale=1024"]),
    "mlp_f16_dynscale_momentum": (
        "mlp", dict(batch=2048, widths=[1024, 2048, 2048, 1000]),
        ["--auto-mixed-precision=dtype=f16 loss-scaling=dynamic "
         "init-scale=1024",
         "--mpt-attach-optimizer=kind=momentum lr=0.01"]),
    "transformer_bf16_adamw": (
        "transformer", dict(batch=4, seq=128, dim=256, heads=4, hidden=1024,
                            classes=100, depth=2),
        ["--auto-mixed-precision=dtype=bf16",
         "--mpt-attach-optimizer=kind=adamw lr=1e-3 weight-decay=0.01"]),
}
VARIANTS = {"plain": None, "dp": "--mpt-data-parallel",
            "dp_each": "--mpt-data-parallel=bucket-mb=0"}
# Grads rounded to bf16 for the all-reduce: in a world of one each grad is
# its bf16 rounding (within 2^-8 relative of the plain step's); built for
# the grads-form model only.
BF16_VARIANT = ("dp_bf16", "--mpt-data-parallel=reduce-type=bf16")


def build(outdir):
    from mpt import cuda, gen
    os.makedirs(outdir, exist_ok=True)
    shutil.copy(cuda.runtime_path(), outdir)
    for name, (model, sizes, passes) in MODELS.items():
        text, _ = gen.generate(model, **sizes)
        variants = dict(VARIANTS)
        if name.endswith("_grads"):
            variants[BF16_VARIANT[0]] = BF16_VARIANT[1]
        for variant, dp in variants.items():
            extra = passes[:1] + ([dp] if dp else []) + passes[1:]
            d = os.path.join(outdir, "%s.%s" % (name, variant))
            t0 = time.time()
            cuda.build(text, d, extra_passes=extra)
            print("built %s in %.1f s" % (d, time.time() - t0), flush=True)
    return 0


def first_args(text, np, rng):
    from mpt import aot, signature
    args_sig, _ = signature.parse(text, "step")
    args = []
    for a in args_sig:
        shape = [d or 1 for d in a.shape]
        dtype = aot._NP_TYPES[a.elem]
        if a.role == "loss_scale":
            args.append(np.array(1024.0, dtype))
        elif a.role == "hysteresis":
            args.append(np.array(1, dtype))
        elif a.role in ("growth_tracker", "opt_state"):
            args.append(np.zeros(shape, dtype))
        elif a.role == "input" and a.name.startswith("labels"):
            lab = np.zeros(shape, dtype)
            idx = rng.integers(0, shape[-1], size=shape[:-1])
            np.put_along_axis(lab, idx[..., None], 1, axis=-1)
            args.append(lab)
        else:
            args.append((rng.standard_normal(shape) * 0.1).astype(dtype))
    return args


def three_steps(lib, args, np):
    """All results of three chained steps, an Inf in the batch at the
    third; and the found_inf flags."""
    from mpt import signature
    args_sig, res_sig = signature.parse(lib.text, "step")
    x = [a.index for a in args_sig if a.role == "input"][0]
    found = [r.index for r in res_sig if r.role == "found_inf"]
    args = list(args)
    out, flags = [], []
    for step in range(3):
        if step == 2:
            args[x] = args[x].copy()
            args[x].flat[0] = np.inf
        res = lib.call("step", *args)
        out.append(res)
        flags += [bool(res[i]) for i in found]
        for r, value in zip(res_sig, res):
            if r.updates is not None:
                args[r.updates] = value
    return out, flags


def same(a, b):
    return all(len(x) == len(y) and all(
        u.shape == v.shape and u.tobytes() == v.tobytes()
        for u, v in zip(x, y)) for x, y in zip(a, b))


def timed_ms(lib, tensors, torch, reps=30):
    def once():
        res = lib.call("step", *tensors, results="device")
        torch.cuda.synchronize()
        for r in res:
            r.free()
    for _ in range(5):
        once()
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        once()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def run(artdir, out_path):
    import numpy as np
    import torch
    from mpt import signature
    runtime = os.path.join(artdir, "libmpt_cuda_runtime.so")
    os.environ.setdefault("MPT_CUDA_RUNTIME", os.path.abspath(runtime))
    from mpt import cuda
    rt = cuda.Runtime.get()
    lib = rt.lib
    lib.mptRuntimeHostProfileReport.restype = ctypes.c_int64
    lib.mptRuntimeHostProfileReport.argtypes = [ctypes.c_char_p,
                                                ctypes.c_int64]
    version = cuda.nccl_version()
    rows, failed = [], 0
    date = datetime.date.today().isoformat()
    gpu = torch.cuda.get_device_name()

    def all_reduces(fn):
        lib.mptRuntimeHostProfileReset()
        lib.mptRuntimeHostProfileEnable(1)
        result = fn()
        lib.mptRuntimeHostProfileEnable(0)
        size = lib.mptRuntimeHostProfileReport(None, 0)
        buf = ctypes.create_string_buffer(size)
        lib.mptRuntimeHostProfileReport(buf, size)
        calls = json.loads(buf.value.decode()).get("mptAllReduce", {})
        return result, calls.get("calls", 0)

    for name in MODELS:
        libs = {v: cuda.load(os.path.join(artdir, "%s.%s" % (name, v)))
                for v in VARIANTS}
        args = first_args(libs["plain"].text, np, np.random.default_rng(0))
        want, flags = three_steps(libs["plain"], args, np)
        # With loss scaling the Inf step is skipped; without (bf16) there is
        # no flag.
        failed += flags not in ([], [False, False, True])
        for comm in ("none", "nccl"):
            if comm == "nccl":
                cuda.init_distributed(rank=0, world_size=1)
            for variant in ("dp", "dp_each"):
                (got, got_flags), calls = all_reduces(
                    lambda: three_steps(libs[variant], args, np))
                ok = same(got, want) and got_flags == flags
                failed += not ok
                row = dict(date=date, gpu=gpu, case=name, variant=variant,
                           communicator=comm, nccl_version=version,
                           bit_identical_to_plain=ok,
                           found_inf=got_flags, all_reduces_per_step=calls / 3)
                rows.append(row)
                print(json.dumps(row), flush=True)
            if name.endswith("_grads"):
                lib16 = cuda.load(os.path.join(artdir, "%s.%s" % (
                    name, BF16_VARIANT[0])))
                (got, got_flags), calls = all_reduces(
                    lambda: three_steps(lib16, args, np))
                grads = [r.index for r in signature.parse(
                    lib16.text, "step")[1] if r.role == "grad"]
                worst = max(float(np.max(np.abs(g[i] - w[i]) / np.maximum(
                    np.abs(w[i]), np.finfo(np.float32).tiny)))
                    for g, w in zip(got[:2], want[:2]) for i in grads)
                ok = worst <= 2.0 ** -8 and got_flags == flags
                failed += not ok
                row = dict(date=date, gpu=gpu, case=name,
                           variant=BF16_VARIANT[0], communicator=comm,
                           nccl_version=version,
                           grads_max_rel_diff_vs_plain=worst,
                           within_bf16_rounding=ok, found_inf=got_flags,
                           all_reduces_per_step=calls / 3)
                rows.append(row)
                print(json.dumps(row), flush=True)
            if comm == "nccl":
                # Timing with torch tensors, NCCL in the loop.
                tensors = [torch.from_numpy(np.array(a, copy=True)).cuda()
                           for a in args]
                times = {v: timed_ms(libs[v], tensors, torch)
                         for v in VARIANTS}
                row = dict(date=date, gpu=gpu, case=name, timing_ms=times,
                           communicator="nccl world of one",
                           nccl_version=version)
                rows.append(row)
                print(json.dumps(row), flush=True)
                cuda.finalize_distributed()
    with open(out_path, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print("%d failed" % failed)
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("outdir")
    r = sub.add_parser("run")
    r.add_argument("artdir")
    r.add_argument("out")
    a = ap.parse_args()
    if a.cmd == "build":
        return build(a.outdir)
    return run(a.artdir, a.out)


if __name__ == "__main__":
    sys.exit(main())
