"""The issue-7 MLP step on the GPU: mpt (mpt-lower-to-nvvm) beside PyTorch
autocast, same model, same batch, same run.

  1024 -> 4 x 4096 -> 1000, batch 8192, ReLU, softmax cross-entropy (mean
  over the batch, one-hot labels), gradients only (no optimizer).

Here (mpt-opt, llc, ptxas):   python3 bench/gpu/mlp_step.py build DIR
    generates the step (python3 -m mpt.gen mlp), runs --auto-mixed-precision
    (f16 without loss scaling, f16 with dynamic loss scaling, bf16) and
    mpt-lower-to-nvvm (default options: use-mma), into DIR/<case>/.
On the GPU machine (PyTorch):  python3 bench/gpu/mlp_step.py run DIR OUT.jsonl
    calls each step through mpt.cuda on device buffers (torch tensors in,
    device results out as torch tensors by DLPack, no copies), times it
    (warm-up, median of N, wall clock around the call, which returns after
    its stream is done; results freed outside the timed region), times
    torch autocast forward + backward on the same tensors, compares the
    gradients, lists the top kernels (torch.profiler, CUPTI sees the
    driver-API launches too) and appends one JSON line a case.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

WIDTHS = [1024, 4096, 4096, 4096, 4096, 1000]
BATCH = 8192
CASES = {  # case -> (dtype, AMP options)
    "mlp_step_f16": ("f16", "dtype=f16 loss-scaling=none"),
    "mlp_step_f16_dynscale": ("f16", "dtype=f16 loss-scaling=dynamic"),
    "mlp_step_bf16": ("bf16", "dtype=bf16"),
}


def flops():
    """Forward 2*B*sum(i*o), backward twice that (dX and dW); the first
    layer's dX is not computed."""
    f = sum(2 * BATCH * i * o for i, o in zip(WIDTHS, WIDTHS[1:]))
    return 3 * f - 2 * BATCH * WIDTHS[0] * WIDTHS[1]


def build(outdir, only, pipeline=""):
    from mpt import cuda, gen
    import shutil
    text, _ = gen.generate("mlp", batch=BATCH, widths=WIDTHS)
    os.makedirs(outdir, exist_ok=True)
    # libstep.so finds the runtime in $ORIGIN/.. (run: MPT_CUDA_RUNTIME=it).
    shutil.copy(cuda.runtime_path(), outdir)
    for case, (_, amp) in CASES.items():
        if only and case not in only:
            continue
        d = os.path.join(outdir, case)
        t0 = time.time()
        # PTX, JIT-compiled when the module loads: a cubin would hold the
        # step's 64 MiB splat-zero constants (see GPU.md, Limits) in full.
        cuda.build(text, d, extra_passes=["--auto-mixed-precision=" + amp],
                   fmt="isa", pipeline_extra=pipeline)
        with open(os.path.join(d, "step.gpu.mlir")) as f:
            lowered = f.read()
        os.remove(os.path.join(d, "step.gpu.mlir"))
        meta = dict(case=case, kernels=lowered.count("gpu.launch_func"),
                    mma_kernels=len(re.findall(r"gpu\.launch_func .*@\w+_mma\d+_",
                                               lowered)),
                    build_s=round(time.time() - t0, 1), pipeline=pipeline)
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f)
        print("built", meta, flush=True)


def timed(fn, warmup, reps, sync, cleanup=lambda: None):
    """Median and all times (ms) of fn() followed by sync(); cleanup() runs
    after each, outside the measured time."""
    for _ in range(warmup):
        fn()
        sync()
        cleanup()
    times = []
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
        cleanup()
    return statistics.median(times), times


class DeviceStep:
    """Calls a step through mpt.cuda's device-buffer API: torch tensors in
    (by __cuda_array_interface__, bf16 by DLPack, no copies), results left
    on the device (mpt.cuda.DeviceArray)."""

    def __init__(self, d):
        from mpt import aot, cuda
        self.lib = cuda.load(d)
        self.args, self.res = aot.parse_signature(self.lib.text, "step")

    def __call__(self, tensors):
        return self.lib.call("step", *tensors, results="device")

    def results(self, arrays, torch):
        """The results as torch tensors on the step's buffers (DLPack, no
        copy); each buffer is freed when its tensor is."""
        out = [torch.from_dlpack(r) for r in arrays]
        self.free(arrays)
        return out

    def free(self, arrays):
        for r in arrays:
            r.free()


def run(artdir, out_path, warmup, reps):
    from mpt.testing import gradcheck
    import torch
    import torch.nn.functional as F
    dev = torch.device("cuda")
    gpu = torch.cuda.get_device_name()
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(BATCH, WIDTHS[0], device=dev, generator=g)
    cls = torch.randint(0, WIDTHS[-1], (BATCH,), device=dev, generator=g)
    onehot = F.one_hot(cls, WIDTHS[-1]).float()
    params = []
    for i, o in zip(WIDTHS, WIDTHS[1:]):
        w = torch.randn(i, o, device=dev, generator=g) / i ** 0.5
        b = torch.randn(o, device=dev, generator=g) * 0.1
        params += [w, b]
    date = datetime.date.today().isoformat()
    rows = []
    for case, (dtype, amp) in CASES.items():
        d = os.path.join(artdir, case)
        if not os.path.isdir(d):
            continue
        meta = json.load(open(os.path.join(d, "meta.json")))
        step = DeviceStep(d)
        roles, res_roles = gradcheck.signature_roles(step.lib.text)
        state = {"loss_grad": torch.ones((), device=dev),
                 "loss_scale": torch.tensor(2.0 ** 10, device=dev),
                 "growth_tracker": torch.zeros((), dtype=torch.int32,
                                               device=dev),
                 "hysteresis": torch.ones((), dtype=torch.int32, device=dev)}
        args = [x, onehot] + params
        args += [state[r] for r in roles[len(args):]]
        assert len(args) == len(step.args), (roles, len(step.args))
        # Correctness against torch autocast on the same data.
        res = step.results(step(args), torch)
        tdt = torch.float16 if dtype == "f16" else torch.bfloat16
        ps = [p.clone().requires_grad_() for p in params]

        def torch_step(autocast=True):
            for p in ps:
                p.grad = None
            with torch.autocast("cuda", dtype=tdt, enabled=autocast):
                h = x
                for k in range(0, len(ps), 2):
                    h = F.linear(h, ps[k].t(), ps[k + 1])
                    if k + 2 < len(ps):
                        h = F.relu(h)
                loss = F.cross_entropy(h.float(), cls)
            loss.backward()
            return loss

        # Against FP32 (torch, TF32 off): mpt's error must be within twice
        # autocast's, plus 64 u of the format.
        torch.backends.cuda.matmul.allow_tf32 = False
        loss32 = float(torch_step(autocast=False))
        g32 = [p.grad.double() for p in ps]
        torch_step()
        gauto = [p.grad.double() for p in ps]
        grads = [r for r, role in zip(res, res_roles) if role == "grad"]
        loss = float([r for r, role in zip(res, res_roles)
                      if role == "loss"][0])

        def rel(a, b):
            return float((a.double() - b).norm() / b.norm())
        errs = [rel(gm, g) for gm, g in zip(grads, g32)]
        errs_auto = [rel(ga, g) for ga, g in zip(gauto, g32)]
        u = 2.0 ** -11 if dtype == "f16" else 2.0 ** -8
        loss_err = abs(loss - loss32) / abs(loss32)
        ok = all(e <= 2 * ea + 64 * u for e, ea in zip(errs, errs_auto))
        # Timing: the mpt step returns after its stream is done; its result
        # buffers are freed outside the timed region.
        pending = []

        def mpt_call():
            pending.append(step(args))

        def cleanup():
            while pending:
                step.free(pending.pop())

        mpt_ms, mpt_all = timed(mpt_call, warmup, reps,
                                torch.cuda.synchronize, cleanup)
        ref_ms, ref_all = timed(torch_step, warmup, reps,
                                torch.cuda.synchronize)
        top = profile(lambda: (mpt_call(), torch.cuda.synchronize(),
                               cleanup()), torch)
        tf = flops()
        row = dict(date=date, gpu=gpu, case=case, dtype=dtype,
                   shape="batch %d, %s, ReLU, cross-entropy, grads only; "
                   "AMP %s" % (BATCH, "-".join(map(str, WIDTHS)), amp),
                   mpt_ms=round(mpt_ms, 3),
                   ref="torch autocast %s eager (fwd+bwd, F.linear, "
                   "cross_entropy in f32)" % tdt, ref_ms=round(ref_ms, 3),
                   mpt_tflops=round(tf / mpt_ms / 1e9, 1),
                   ref_tflops=round(tf / ref_ms / 1e9, 1),
                   kernels=meta["kernels"], mma_kernels=meta["mma_kernels"],
                   pipeline=meta.get("pipeline", ""),
                   correct=ok,
                   grad_rel_err_vs_fp32=[round(e, 5) for e in errs],
                   ref_grad_rel_err_vs_fp32=[round(e, 5) for e in errs_auto],
                   loss_rel_err_vs_fp32=round(loss_err, 6),
                   mpt_ms_min=round(min(mpt_all), 3),
                   ref_ms_min=round(min(ref_all), 3), reps=reps,
                   top_kernels=top)
        rows.append(row)
        print(json.dumps(row), flush=True)
    rows += compile_rows(rows, x, cls, params, warmup, reps)
    with open(out_path, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return 0 if all(r["correct"] for r in rows) else 1


def profile(fn, torch):
    """The kernels of one step, slowest first (40 at most): [name, ms, calls]."""
    try:
        from torch.profiler import ProfilerActivity, profile as prof
        fn()
        with prof(activities=[ProfilerActivity.CUDA]) as p:
            fn()
        events = [e for e in p.key_averages()
                  if getattr(e, "device_type", None) is not None
                  and "CUDA" in str(e.device_type)]
        total = sum(e.self_device_time_total for e in events) / 1e3
        events.sort(key=lambda e: -e.self_device_time_total)
        top = [[e.key, round(e.self_device_time_total / 1e3, 3), e.count]
               for e in events[:40]]
        # Kernel time by kind: tensor-core kernels (<fn>_mma<n>_<op>) and
        # the others, by the op they come from (<fn>_<n>_<op>).
        by_kind = {}
        for e in events:
            m = re.match(r"\w+?_(mma)?\d+_(\w+)$", e.key)
            kind = ("mma " if m and m.group(1) else "") + (
                m.group(2) if m else "other")
            ms, n = by_kind.get(kind, (0.0, 0))
            by_kind[kind] = (ms + e.self_device_time_total / 1e3,
                             n + e.count)
        by_kind = {k: [round(ms, 3), n] for k, (ms, n) in sorted(
            by_kind.items(), key=lambda kv: -kv[1][0])}
        # The GPU's busy span: first kernel start to last kernel end; the
        # rest of the wall time is host work before and after.
        kernels = [e for e in p.events()
                   if "CUDA" in str(getattr(e, "device_type", ""))]
        span = None
        if kernels:
            span = round((max(e.time_range.end for e in kernels) -
                          min(e.time_range.start for e in kernels)) / 1e3, 3)
        # Host side of the same call: driver API calls (CUPTI), by total,
        # and where the GPU's busy span sits in the call (lead: call start
        # to first kernel start; tail: last kernel end to call end).
        from torch.profiler import record_function
        with prof(activities=[ProfilerActivity.CPU,
                              ProfilerActivity.CUDA]) as q:
            with record_function("mpt_step_call"):
                fn()
        evs = q.events()
        call = [e for e in evs if e.name == "mpt_step_call"
                and "CUDA" not in str(getattr(e, "device_type", ""))]
        ks = [e for e in evs if "CUDA" in str(getattr(e, "device_type", ""))
              and e.name != "mpt_step_call"]
        lead = tail = None
        if call and ks:
            c = call[0].time_range
            lead = round((min(e.time_range.start for e in ks) - c.start)
                         / 1e3, 3)
            tail = round((c.end - max(e.time_range.end for e in ks)) / 1e3,
                         3)
        host = sorted((e for e in q.key_averages()
                       if e.cpu_time_total > 0 and e.key.startswith("cu")),
                      key=lambda e: -e.cpu_time_total)
        host = [[e.key, round(e.cpu_time_total / 1e3, 3), e.count]
                for e in host[:12]]
        return dict(total_ms=round(total, 3), span_ms=span, lead_ms=lead,
                    tail_ms=tail, top=top, by_kind=by_kind, host_api=host)
    except Exception as e:  # the timing stands without it
        return dict(error=str(e)[:200])


def kernel_count(fn, torch, sync):
    """CUDA kernels (with memsets and copies) of one call of fn."""
    try:
        from torch.profiler import ProfilerActivity, profile as prof
        fn()
        sync()
        with prof(activities=[ProfilerActivity.CUDA]) as p:
            fn()
            sync()
        return sum(e.count for e in p.key_averages()
                   if "CUDA" in str(getattr(e, "device_type", "")))
    except Exception as e:  # the timing stands without it
        return "profiler failed: %s" % str(e)[:200]


def compile_rows(rows, x, cls, params, warmup, reps):
    """Each mpt row again, against torch.compile (default mode) of the
    eager reference's forward + backward; compilation happens in an untimed
    first call. A failure is reported in its row, never fatal."""
    import torch
    import torch.nn.functional as F
    out, steps = [], {}
    for row in rows:
        new = {k: v for k, v in row.items() if not k.startswith("ref")
               and k != "top_kernels"}
        new["ref"] = ("torch.compile autocast %s (fwd+bwd compiled, default "
                      "mode; F.linear, cross_entropy in f32)" % row["dtype"])
        try:
            if row["dtype"] not in steps:
                steps[row["dtype"]] = compiled_step(torch, F, x, cls, params,
                                                    row["dtype"])
            fn, first_s = steps[row["dtype"]]
            ms, all_ms = timed(fn, warmup, reps, torch.cuda.synchronize)
            new.update(ref_ms=round(ms, 3), ref_ms_min=round(min(all_ms), 3),
                       ref_tflops=round(flops() / ms / 1e9, 1),
                       ref_first_call_s=first_s,
                       ref_kernels=kernel_count(fn, torch,
                                                torch.cuda.synchronize))
        except Exception as e:
            new.update(ref_ms=None, ref_tflops=None, ref_error="%s: %s" % (
                type(e).__name__, str(e)[:500]))
        out.append(new)
        print(json.dumps(new), flush=True)
    return out


def compiled_step(torch, F, x, cls, params, dtype):
    """(step, seconds of its first call): the eager reference's forward
    under torch.compile, its backward through the compiled graph."""
    tdt = torch.float16 if dtype == "f16" else torch.bfloat16
    ps = [p.clone().requires_grad_() for p in params]

    def loss_fn(x, *ps):
        h = x
        for k in range(0, len(ps), 2):
            h = F.linear(h, ps[k].t(), ps[k + 1])
            if k + 2 < len(ps):
                h = F.relu(h)
        return F.cross_entropy(h.float(), cls)
    compiled = torch.compile(loss_fn)

    def step():
        for p in ps:
            p.grad = None
        with torch.autocast("cuda", dtype=tdt):
            loss = compiled(x, *ps)
        loss.backward()
        return loss
    t0 = time.time()
    step()
    torch.cuda.synchronize()
    return step, round(time.time() - t0, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("build", "run"))
    ap.add_argument("dir")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--pipeline", default="",
                    help="build: further mpt-lower-to-nvvm options, e.g. "
                         "'elements-per-thread=4 reduction-unroll=4'")
    a = ap.parse_args()
    if a.mode == "build":
        return build(a.dir, a.only, a.pipeline)
    return run(a.dir, a.out, a.warmup, a.reps)


if __name__ == "__main__":
    sys.exit(main())
