"""The transformer training step of ARCHITECTURE.md on the GPU: mpt
(mpt-lower-to-nvvm) beside PyTorch autocast, eager and torch.compile, on the
same model, weights and data, in the same run.

  python3 -m mpt.gen transformer --batch 16 --seq 512 --dim 1024 --heads 16
      --hidden 4096 --classes 1000 --depth 4
  4 pre-LN blocks: layernorm (eps 1e-5), 16-head softmax attention (no
  mask, no projection biases, scores scaled by 1/8), residual, layernorm,
  GELU (tanh form) MLP 1024 -> 4096 -> 1024 with biases, residual; a
  1000-way head without bias on every token; softmax cross-entropy with
  one-hot labels, mean over the 8192 tokens; AdamW (lr 1e-3, weight decay
  0.01, betas 0.9 / 0.999, eps 1e-8) in the step.

ARCHITECTURE.md's reference figures name 4 blocks, d = 1024, 16 heads,
T = 512, batch 16, explicit softmax attention, a 1000-way head and AdamW;
they do not fix the rest, and gen's transformer fixes it as above: the MLP
width (4d = 4096 here), no token embedding (x is a float [16, 512, 1024]
input), pre-LN without a final layernorm, no biases in the attention
projections or the head, tanh GELU, one-hot labels for every token. The
PyTorch side here is this same model (bench/gpu/torch_ref.py, whose numpy
form is checked against mpt's CPU path), so the rows compare like with
like; they are not the model of ARCHITECTURE.md's 17.0 / 18.2 ms figures.

Cases (mpt): f16 with dynamic loss scaling + AdamW, bf16 + AdamW, both
from `--auto-mixed-precision` and `--mpt-attach-optimizer` in the step
(the update runs in f32 on the master weights, skipped on found_inf).
PyTorch: autocast f16 with GradScaler (init scale 2^10, the scale mpt is
called with) + AdamW(fused=True), autocast bf16 + AdamW(fused=True), the
forward and backward eager or under torch.compile (default mode; the
optimizer step eager in both).

Here (mpt-opt, llc, ptxas):
    python3 bench/gpu/transformer_step.py build DIR
On the GPU machine (PyTorch; MPT_CUDA_RUNTIME defaults to DIR's copy):
    python3 bench/gpu/transformer_step.py run DIR OUT.jsonl

`run` makes the weights and data on the GPU from a fixed seed (nothing big
is carried), calls each mpt step once from optimizer state zero (t = 0) and
compares with PyTorch: the loss, and the gradients the step used,
recovered from its first moment (m_new = (1 - beta1) g when m = 0), each
against a PyTorch FP32 step (TF32 off) normwise; mpt's error must be within
twice autocast's plus 64 u of the format (as bench/gpu/mlp_step.py). Then it
times mpt (wall clock around the call, which returns after its stream is
done; result buffers freed outside the timed region), eager and compiled
PyTorch (compilation in untimed warm-up calls), median of --reps after
--warmup, torch.cuda.synchronize around each, counts the kernels of one
step with torch.profiler, and appends one JSON line per (mpt case,
PyTorch mode) to OUT. TFLOP/s use the step's contraction FLOPs
(torch_ref.step_flops: 3 x the forward's matmuls and batch matmuls, 2.73
TFLOP), the same count for both sides.
"""

import argparse
import datetime
import json
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
sys.path.insert(0, HERE)
import torch_ref  # noqa: E402

SIZES = dict(seq=512, dim=1024, heads=16, hidden=4096, classes=1000,
             depth=4)
BATCH = 16
# --small: a tiny step of the same form, to try the script (build and
# run --cpu-dry-run) without a GPU.
SMALL = dict(seq=8, dim=16, heads=2, hidden=32, classes=10, depth=2)
SMALL_BATCH = 2
OPTIMIZER = "kind=adamw lr=1e-3 weight-decay=0.01"
CASES = {  # case -> (dtype, AMP options)
    "transformer_step_f16_dynscale_adamw": (
        "f16", "dtype=f16 loss-scaling=dynamic"),
    "transformer_step_bf16_adamw": ("bf16", "dtype=bf16"),
}
INIT_SCALE = 2.0 ** 10
UNIT_ROUNDOFF = {"f16": 2.0 ** -11, "bf16": 2.0 ** -8}
TOLERANCE_FACTOR = 64


def spec(sizes):
    return torch_ref.full_spec("transformer", **sizes)


def passes(amp):
    return ["--auto-mixed-precision=" + amp,
            "--mpt-attach-optimizer=" + OPTIMIZER]


def build(outdir, only, fmt, pipeline="", small=False):
    from mpt import cuda, gen
    import shutil
    sizes, batch = (SMALL, SMALL_BATCH) if small else (SIZES, BATCH)
    text, ops = gen.generate("transformer", batch=batch, **sizes)
    os.makedirs(outdir, exist_ok=True)
    # libstep.so finds the runtime in $ORIGIN/.. (run: MPT_CUDA_RUNTIME=it).
    shutil.copy(cuda.runtime_path(), outdir)
    for case, (dtype, amp) in CASES.items():
        if only and case not in only:
            continue
        d = os.path.join(outdir, case)
        t0 = time.time()
        cuda.build(text, d, extra_passes=passes(amp), fmt=fmt,
                   pipeline_extra=pipeline)
        with open(os.path.join(d, "step.gpu.mlir")) as f:
            lowered = f.read()
        os.remove(os.path.join(d, "step.gpu.mlir"))
        size = os.path.getsize(os.path.join(d, "libstep.so"))
        meta = dict(case=case, dtype=dtype, amp=amp, optimizer=OPTIMIZER,
                    sizes=sizes, batch=batch,
                    kernels=lowered.count("gpu.launch_func"),
                    mma_kernels=len(re.findall(
                        r"gpu\.launch_func .*@\w+_mma\d+_", lowered)),
                    ops=ops,
                    build_s=round(time.time() - t0, 1), format=fmt,
                    pipeline=pipeline, libstep_bytes=size)
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f)
        print("built", meta, flush=True)
    return 0


def make_data(torch, dev, sp, batch):
    """Weights, data and labels from a fixed seed, on the GPU."""
    g = torch.Generator(device=dev).manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, device=dev, generator=g)
    x = randn(batch, sp["seq"], sp["dim"])
    cls = torch.randint(0, sp["classes"], (batch, sp["seq"]), device=dev,
                        generator=g)
    onehot = torch.nn.functional.one_hot(cls, sp["classes"]).float()
    params = []
    for name, shape in torch_ref.param_shapes(sp):
        if len(shape) == 2:
            params.append(randn(*shape) / shape[0] ** 0.5)
        elif name.startswith(("ln1g", "ln2g")):
            params.append(1.0 + 0.1 * randn(*shape))
        else:
            params.append(0.1 * randn(*shape))
    return x, onehot, params


def step_args(roles, x, onehot, params, torch, dev):
    """The mpt step's arguments in signature order: inputs, params, seed,
    the loss-scale state (2^10, 0, 1), the optimizer state (zero: m and v
    per parameter, then the step count)."""
    state = iter([torch.zeros_like(p) for p in params for _ in (0, 1)] +
                 [torch.zeros((), device=dev)])
    fixed = {"loss_grad": torch.ones((), device=dev),
             "loss_scale": torch.tensor(INIT_SCALE, device=dev),
             "growth_tracker": torch.zeros((), dtype=torch.int32,
                                           device=dev),
             "hysteresis": torch.ones((), dtype=torch.int32, device=dev)}
    inputs, ps = iter([x, onehot]), iter(params)
    out = []
    for r in roles:
        if r == "input":
            out.append(next(inputs))
        elif r == "param":
            out.append(next(ps))
        elif r == "opt_state":
            out.append(next(state))
        elif r in fixed:
            out.append(fixed[r])
        else:
            raise ValueError("argument role '%s' not expected here" % r)
    return out


def check_step(step, args, roles, results, torch):
    """One mpt call against the PyTorch FP32 and autocast gradients."""
    got = step.results(step(args), torch)
    by = {r["role"]: k for k, r in enumerate(results)
          if r["role"] in ("loss", "found_inf")}
    pidx = [i for i, r in enumerate(roles) if r == "param"]
    first_m = {}
    for k, r in enumerate(results):  # m of param n is state arg 2n
        if r["role"] == "opt_state" and r["updates"] is not None:
            n = r["updates"] - roles.index("opt_state")
            if n % 2 == 0 and n // 2 < len(pidx):
                first_m[n // 2] = k
    one_minus_b1 = float(np.float32(1.0 - 0.9))
    grads = [got[first_m[n]].double() / one_minus_b1
             for n in range(len(pidx))]
    loss = float(got[by["loss"]])
    found_inf = bool(got[by["found_inf"]]) if "found_inf" in by else False
    del got
    return loss, grads, found_inf


def rel(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm())


class TorchStep:
    """One PyTorch training step (autocast, GradScaler for f16, fused
    AdamW) on its own copy of the parameters; compiled=True runs the
    forward and backward under torch.compile."""

    def __init__(self, torch, sp, x, onehot, params, dtype, compiled):
        self.torch = torch
        self.x, self.y = x, onehot
        self.ps = [p.detach().clone().requires_grad_() for p in params]
        self.tdt = torch.float16 if dtype == "f16" else torch.bfloat16
        self.opt = torch.optim.AdamW(self.ps, lr=1e-3, weight_decay=0.01,
                                     fused=True)
        self.scaler = (torch.amp.GradScaler(x.device.type,
                                            init_scale=INIT_SCALE)
                       if dtype == "f16" else None)
        ops = torch_ref.TorchOps()

        def loss_fn(x, y, *ps):
            return torch_ref.forward(ops, sp, x, y, list(ps))
        self.loss_fn = torch.compile(loss_fn) if compiled else loss_fn

    def __call__(self):
        self.opt.zero_grad(set_to_none=True)
        with self.torch.autocast(self.x.device.type, dtype=self.tdt):
            loss = self.loss_fn(self.x, self.y, *self.ps)
        if self.scaler:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            self.opt.step()
        return loss


class CpuStep:
    """--cpu-dry-run: the case's step.mlir on mpt's CPU path, called like
    mlp_step.DeviceStep (to try this script without a GPU)."""

    def __init__(self, d):
        from mpt import aot
        with open(os.path.join(d, "step.mlir")) as f:
            self.lib = aot.compile_module(f.read())

    def __call__(self, tensors):
        return self.lib.call("step", *[t.detach().cpu().numpy()
                                       for t in tensors])

    def results(self, res, torch):
        return [torch.from_numpy(np.array(a)) for a in res]

    def free(self, res):
        pass


def case_metas(artdir, only):
    out = []
    for case in CASES:
        if only and case not in only:
            continue
        path = os.path.join(artdir, case, "meta.json")
        if not os.path.exists(path):
            raise SystemExit("%s: not built (no %s); run `build` first"
                             % (case, path))
        with open(path) as f:
            out.append(json.load(f))
    sizes = {json.dumps([m["sizes"], m["batch"]]) for m in out}
    if len(sizes) != 1:
        raise SystemExit("the cases under %s were built for different "
                         "sizes: %s" % (artdir, sorted(sizes)))
    return out


def run(artdir, out_path, warmup, reps, only, no_compile, cpu):
    import torch
    from mlp_step import kernel_count, profile, timed
    metas = case_metas(artdir, only)
    runtime = os.path.join(artdir, "libmpt_cuda_runtime.so")
    if os.path.exists(runtime):  # the one build copied beside the cases
        os.environ.setdefault("MPT_CUDA_RUNTIME", os.path.abspath(runtime))
    if cpu:
        dev, gpu, Step = torch.device("cpu"), "none (CPU dry run)", CpuStep

        def sync():
            pass
    else:
        if not torch.cuda.is_available():
            raise SystemExit("transformer_step.py run: torch sees no CUDA "
                             "device (--cpu-dry-run to try it without)")
        from mlp_step import DeviceStep as Step
        dev, gpu = torch.device("cuda"), torch.cuda.get_device_name()
        sync = torch.cuda.synchronize
    date = datetime.date.today().isoformat()
    sp, batch = spec(metas[0]["sizes"]), metas[0]["batch"]
    flops = torch_ref.step_flops(sp, batch)
    x, onehot, params = make_data(torch, dev, sp, batch)
    # References: PyTorch FP32 (TF32 off) and autocast grads, same data.
    loss32, g32 = torch_ref.torch_loss_grads(sp, x, onehot, params, "fp32")
    rows, failed = [], 0
    for meta in metas:
        case, dtype, amp = meta["case"], meta["dtype"], meta["amp"]
        d = os.path.join(artdir, case)
        u = UNIT_ROUNDOFF[dtype]
        scale = INIT_SCALE if dtype == "f16" else 1.0
        loss_a, g_auto = torch_ref.torch_loss_grads(sp, x, onehot, params,
                                                    dtype, 1.0, scale)
        if not cpu:
            torch.cuda.empty_cache()  # mpt allocates outside torch's cache
        step = Step(d)
        roles, results = torch_ref.signature(step.lib.text)
        args = step_args(roles, x, onehot, params, torch, dev)
        loss, g_mpt, found_inf = check_step(step, args, roles, results,
                                            torch)
        errs = [rel(a, b) for a, b in zip(g_mpt, g32)]
        errs_auto = [rel(a, b) for a, b in zip(g_auto, g32)]
        del g_mpt, g_auto
        loss_err = abs(loss - float(loss32)) / abs(float(loss32))
        loss_err_auto = abs(float(loss_a) - float(loss32)) / abs(
            float(loss32))
        correct = (not found_inf and
                   loss_err <= 2 * loss_err_auto + TOLERANCE_FACTOR * u and
                   all(e <= 2 * ea + TOLERANCE_FACTOR * u
                       for e, ea in zip(errs, errs_auto)))
        pending = []

        def mpt_call():
            pending.append(step(args))

        def cleanup():
            while pending:
                step.free(pending.pop())

        mpt_ms, mpt_all = timed(mpt_call, warmup, reps, sync, cleanup)
        top = profile(lambda: (mpt_call(), sync(), cleanup()), torch)
        base = dict(
            date=date, gpu=gpu, case=case, dtype=dtype,
            shape="batch %d, seq %d, d %d, %d heads, MLP %d, %d blocks, "
            "%d classes; pre-LN, GELU tanh, one-hot xent over tokens; "
            "AdamW in the step; AMP %s" % (
                batch, sp["seq"], sp["dim"], sp["heads"], sp["hidden"],
                sp["depth"], sp["classes"], amp),
            mpt_ms=round(mpt_ms, 3), mpt_tflops=round(flops / mpt_ms / 1e9,
                                                      1),
            kernels=meta["kernels"], mma_kernels=meta.get("mma_kernels"),
            flops=flops, correct=correct, found_inf=found_inf,
            loss_rel_err_vs_fp32=round(loss_err, 7),
            ref_loss_rel_err_vs_fp32=round(loss_err_auto, 7),
            grad_rel_err_vs_fp32_max=round(max(errs), 5),
            ref_grad_rel_err_vs_fp32_max=round(max(errs_auto), 5),
            grad_rel_err_vs_fp32=[round(e, 5) for e in errs],
            ref_grad_rel_err_vs_fp32=[round(e, 5) for e in errs_auto],
            mpt_ms_min=round(min(mpt_all), 3), reps=reps, warmup=warmup)
        sync()
        modes = [("eager", False)] + ([] if no_compile else
                                      [("torch.compile", True)])
        for label, compiled in modes:
            row = dict(base, ref="%s autocast %s%s, AdamW(fused=True)" % (
                "torch.compile" if compiled else "torch eager",
                "f16 + GradScaler" if dtype == "f16" else "bf16",
                " (fwd+bwd compiled, default mode)" if compiled else ""))
            try:
                ts = TorchStep(torch, sp, x, onehot, params, dtype,
                               compiled)
                t0 = time.time()
                ts()  # compiles (torch.compile), outside the timing
                sync()
                row["ref_first_call_s"] = round(time.time() - t0, 2)
                ref_ms, ref_all = timed(ts, warmup, reps, sync)
                row.update(ref_ms=round(ref_ms, 3),
                           ref_ms_min=round(min(ref_all), 3),
                           ref_tflops=round(flops / ref_ms / 1e9, 1),
                           ref_kernels=kernel_count(ts, torch, sync))
                del ts
            except Exception as e:  # reported in the row, not fatal
                row.update(ref_ms=None, ref_tflops=None,
                           ref_error="%s: %s" % (type(e).__name__,
                                                 str(e)[:500]))
            if label == "eager":
                row["top_kernels"] = top
            if not cpu:
                torch.cuda.empty_cache()
            rows.append(row)
            print(json.dumps(row), flush=True)
        failed += not correct
    if not cpu:
        with open(out_path, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    print(summary(rows))
    return 1 if failed else 0


def summary(rows):
    """Markdown: the rows (summary.py), then the numerics of each case."""
    import summary as md
    lines = [md.table(rows), "| case | loss vs FP32: mpt / autocast | "
             "grads vs FP32, max over parameters: mpt / autocast | "
             "correct |", "| --- | --- | --- | --- |"]
    seen = set()
    for r in rows:
        if r["case"] in seen:
            continue
        seen.add(r["case"])
        lines.append("| %s | %.3g / %.3g | %.3g / %.3g | %s |" % (
            r["case"], r["loss_rel_err_vs_fp32"],
            r["ref_loss_rel_err_vs_fp32"], r["grad_rel_err_vs_fp32_max"],
            r["ref_grad_rel_err_vs_fp32_max"], r["correct"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("build", "run"))
    ap.add_argument("dir")
    ap.add_argument("out", nargs="?", help="run: the JSONL to append to")
    ap.add_argument("--only", nargs="*", help="case names")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--format", default="bin", choices=("isa", "bin"),
                    help="build: cubin (default), or PTX JIT-compiled "
                    "when the module loads")
    ap.add_argument("--pipeline", default="",
                    help="build: further mpt-lower-to-nvvm options")
    ap.add_argument("--no-compile", action="store_true",
                    help="run: skip the torch.compile rows")
    ap.add_argument("--small", action="store_true",
                    help="build: a tiny transformer of the same form")
    ap.add_argument("--cpu-dry-run", action="store_true",
                    help="run: mpt's CPU path and PyTorch on the CPU, "
                    "nothing written to OUT (try a --small build)")
    a = ap.parse_args()
    if a.mode == "build":
        return build(a.dir, a.only, a.format, a.pipeline, a.small)
    if not a.out:
        ap.error("run needs OUT (the JSONL file to append to)")
    return run(a.dir, a.out, a.warmup, a.reps, a.only, a.no_compile,
               a.cpu_dry_run)


if __name__ == "__main__":
    sys.exit(main())
