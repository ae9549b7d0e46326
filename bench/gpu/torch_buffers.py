"""mpt.cuda's device buffers with PyTorch, on the GPU: the steps of an
artifact directory called with torch CUDA tensors (f32, f16, i32, i1 by
__cuda_array_interface__; bf16 by DLPack where torch's interface refuses
it), results left on the device and taken by torch (torch.from_dlpack,
torch.as_tensor), all compared bit for bit with the numpy path of the same
library; no copy to the device; no device memory left behind after 100
calls (torch.cuda.memory_allocated and mptMemGetInfo); the stream rule
(producer work on torch's default stream, and by DLPack on a side stream,
is waited for); the error cases with real tensors.

Nothing is built here. Build the artifacts on a machine with the tools:
  PYTHONPATH=python MPT_TOOLS_DIR=build/bin \\
    MPT_LLVM_TOOLS_DIR=/usr/lib/llvm-22/bin python3 bench/gpu/prepare.py ART \\
    --only 'kernel-chain-tensor-.*' kernel-mm-tA-bf16-128x256x64 \\
    kernel-nonfinite-inf-f32-523x1037 kernel-dyn-colsum-f16 mlp-f16
and run on the GPU machine (PyTorch):
  PYTHONPATH=python OUT=DIR python3 bench/gpu/torch_buffers.py ART \\
    [--only REGEX...] [--calls 100]
It prints a PASS/FAIL line a check and writes OUT/torch-buffers.json and
OUT/torch-buffers.md (OUT: the environment variable, else ART/results);
the exit status is 1 if a check fails.
"""

import argparse
import glob
import json
import math
import os
import re
import statistics
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

TORCH_DTYPES = {"f64": "float64", "f32": "float32", "f16": "float16",
                "bf16": "bfloat16", "i64": "int64", "i32": "int32",
                "i8": "int8", "i1": "bool"}


class Report:
    def __init__(self):
        self.rows = []

    def add(self, case, check, ok, detail=""):
        row = dict(case=case, check=check, ok=bool(ok) if ok is not None
                   else None, detail=detail)
        self.rows.append(row)
        word = {True: "PASS", False: "FAIL", None: "SKIP"}[row["ok"]]
        print("%s %-34s %-28s %s" % (word, case, check, detail), flush=True)

    def failed(self):
        return [r for r in self.rows if r["ok"] is False]


def to_torch(torch, x, elem, device="cuda"):
    """A torch tensor of the numpy array `x` (bf16: uint16 bits)."""
    x = np.require(x, requirements="C")
    if elem == "bf16":
        t = torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
    else:
        t = torch.from_numpy(x)
    return t.to(device)


def bits(torch, t, elem):
    """The numpy array of a torch tensor's bits (bf16 as uint16)."""
    t = t.detach().cpu().contiguous()
    if elem == "bf16":
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def same_bits(got, want):
    """'' when equal bit for bit, else what differs."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return "%s %s vs %s %s" % (got.dtype, got.shape, want.dtype,
                                   want.shape)
    if got.tobytes() == want.tobytes():
        return ""
    if want.dtype.kind == "f":
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        return "max |diff| %.3g" % float(np.nanmax(diff))
    return "%d elements differ" % int(np.sum(got != want))


class Counters:
    """Counts the runtime's copies and frees (wrapped instance methods)."""

    def __init__(self, rt):
        self.rt = rt
        self.counts = dict(to_device=0, to_host=0, free=0, sync_stream=0)
        for name in self.counts:
            setattr(rt, name, self._wrap(name, getattr(type(rt), name)))

    def _wrap(self, name, method):
        def wrapped(*args):
            self.counts[name] += 1
            return method(self.rt, *args)
        return wrapped

    def reset(self):
        for name in self.counts:
            self.counts[name] = 0


def protocol(t):
    """Which protocol mpt.cuda takes a torch tensor by."""
    try:
        t.__cuda_array_interface__
        return "cai"
    except Exception:
        return "dlpack"


class DLPackOnly:
    """A tensor seen only through DLPack (forces mpt.cuda's DLPack path)."""

    def __init__(self, t):
        self.t = t

    def __dlpack__(self, **kwargs):
        return self.t.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.t.__dlpack_device__()


def expect_error(fn, exc, *needles):
    """'' when fn() raises exc with every needle in its message."""
    try:
        fn()
    except exc as e:
        missing = [n for n in needles if n not in str(e)]
        return "message lacks %s: %s" % (missing, e) if missing else ""
    except Exception as e:
        return "%s instead of %s: %s" % (type(e).__name__, exc.__name__, e)
    return "no error"


def check_case(d, report, calls, torch, cuda, aot, counters):
    case = os.path.basename(d)
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    data = np.load(os.path.join(d, "data.npz"))
    lib = cuda.load(d)
    arg_types, res_types = aot.parse_signature(lib.text, "step")
    elems = [t.elem for t in arg_types]
    res_elems = [t.elem for t in res_types]
    batches = []
    for k in range(len(meta["batches"])):
        n_in = len([x for x in data.files if x.startswith("in%d_" % k)])
        batches.append([data["in%d_%d" % (k, i)] for i in range(n_in)])
    protocols = {}
    for k, inputs in enumerate(batches):
        want = lib.call("step", *inputs)
        tensors = [to_torch(torch, x, e) for x, e in zip(inputs, elems)]
        for t in tensors:
            p = protocol(t)
            protocols[p] = protocols.get(p, 0) + 1
        tag = "batch %s" % meta["batches"][k]
        # Numpy results from device arguments.
        counters.reset()
        got = lib.call("step", *tensors)
        errs = [e for e in (same_bits(g, w) for g, w in zip(got, want)) if e]
        report.add(case, "tensors in, numpy out", not errs and
                   counters.counts["to_device"] == 0,
                   "%s; %d copies to the device; %s" % (
                       tag, counters.counts["to_device"], "; ".join(errs)))
        # Device results, taken by torch without copies.
        counters.reset()
        res = lib.call("step", *tensors, results="device")
        copies = counters.counts["to_device"] + counters.counts["to_host"]
        errs = []
        for i, (r, w, e) in enumerate(zip(res, want, res_elems)):
            tt = torch.from_dlpack(r)
            if tt.data_ptr() != r.ptr or tt.dtype != getattr(
                    torch, TORCH_DTYPES[e]) or tuple(tt.shape) != w.shape:
                errs.append("result #%d: from_dlpack gave %s %s at %#x" % (
                    i, tt.dtype, tuple(tt.shape), tt.data_ptr()))
            msg = same_bits(bits(torch, tt, e), w)
            if msg:
                errs.append("result #%d (from_dlpack): %s" % (i, msg))
            if e != "bf16":
                ta = torch.as_tensor(r, device="cuda")
                if ta.data_ptr() != r.ptr:
                    errs.append("result #%d: as_tensor copied" % i)
                msg = same_bits(bits(torch, ta, e), w)
                if msg:
                    errs.append("result #%d (as_tensor): %s" % (i, msg))
            msg = same_bits(r.numpy(), w)
            if msg:
                errs.append("result #%d (numpy()): %s" % (i, msg))
        report.add(case, "tensors in, device out", not errs and copies == 0,
                   "%s; %d copies during the call; %s" % (
                       tag, copies, "; ".join(errs)))
        res = tt = ta = None  # the results' buffers go with them
    report.add(case, "protocols", True, json.dumps(protocols))
    inputs = batches[0]
    want = lib.call("step", *inputs)
    tensors = [to_torch(torch, x, e) for x, e in zip(inputs, elems)]
    check_leaks(case, lib, tensors, report, calls, torch, counters)
    check_streams(case, lib, inputs, elems, want, report, torch)
    check_errors(case, lib, inputs, elems, arg_types, want, report, torch,
                 counters)
    check_timing(case, lib, tensors, report, torch)


def check_leaks(case, lib, tensors, report, calls, torch, counters):
    """`calls` calls with device results, half given to torch (freed with
    its tensors), half freed explicitly: no memory left behind. The same
    pattern runs first as a warm-up (the runtime's pool and torch's caching
    allocator settle), and garbage from earlier checks is collected before
    each measurement, so only growth caused by these calls counts."""
    import gc

    def cycle(n_calls):
        for n in range(n_calls):
            res = lib.call("step", *tensors, results="device")
            if n % 2:
                ts = [torch.from_dlpack(r) for r in res]
                del res
                ts[0].sum()  # used by torch before it lets go
                del ts
            else:
                for r in res:
                    r.free()
                del res
        gc.collect()
        torch.cuda.synchronize()

    cycle(10)
    torch_before = torch.cuda.memory_allocated()
    free_before, _ = lib.rt.mem_info()
    counters.reset()
    cycle(calls)
    torch_after = torch.cuda.memory_allocated()
    free_after, _ = lib.rt.mem_info()
    grown = free_before - free_after
    report.add(case, "no leak over %d calls" % calls,
               torch_after <= torch_before and grown <= 0,
               "torch allocated %+d B, mptMemGetInfo free %+d B, %d frees" % (
                   torch_after - torch_before, free_after - free_before,
                   counters.counts["free"]))


def check_streams(case, lib, inputs, elems, want, report, torch):
    """The step waits for the work that produced its arguments: torch's
    default stream (__cuda_array_interface__ names no stream), and a side
    stream for an argument seen only through DLPack."""
    if not hasattr(torch.cuda, "_sleep"):
        report.add(case, "stream rule", None, "no torch.cuda._sleep")
        return
    j = max(range(len(inputs)), key=lambda i: inputs[i].size)

    def late_copy(stream):
        src = to_torch(torch, inputs[j], elems[j])
        fill = math.nan if src.is_floating_point() else 77
        dst = torch.full_like(src, fill)
        torch.cuda.synchronize()
        with torch.cuda.stream(stream):
            torch.cuda._sleep(100_000_000)  # ~50 ms before the copy
            dst.copy_(src)
        return dst

    args = [to_torch(torch, x, e) for x, e in zip(inputs, elems)]
    torch.cuda.synchronize()
    args[j] = late_copy(torch.cuda.current_stream())
    got = lib.call("step", *args)
    errs = [e for e in (same_bits(g, w) for g, w in zip(got, want)) if e]
    report.add(case, "waits for torch's stream", not errs,
               "argument #%d (%s) copied after a sleep; %s" % (
                   j, protocol(args[j]), "; ".join(errs)))
    side = torch.cuda.Stream()
    args[j] = late_copy(side)
    with torch.cuda.stream(side):
        got = lib.call("step", *args[:j], DLPackOnly(args[j]), *args[j + 1:])
    errs = [e for e in (same_bits(g, w) for g, w in zip(got, want)) if e]
    report.add(case, "waits for a DLPack side stream", not errs,
               "argument #%d; %s" % (j, "; ".join(errs)))
    torch.cuda.synchronize()


def check_errors(case, lib, inputs, elems, arg_types, want, report, torch,
                 counters):
    """Real tensors that do not fit: an error naming the argument; a CPU
    tensor is copied."""
    tensors = [to_torch(torch, x, e) for x, e in zip(inputs, elems)]
    ranked = [i for i, t in enumerate(arg_types) if t.rank]
    j = max(ranked, key=lambda i: inputs[i].size)
    arg = "argument #%d" % j

    def call_with(bad):
        args = list(tensors)
        args[j] = bad
        return lambda: lib.call("step", *args)

    counters.reset()
    cpu = list(tensors)
    cpu[j] = tensors[j].cpu()
    got = lib.call("step", *cpu)
    errs = [e for e in (same_bits(g, w) for g, w in zip(got, want)) if e]
    report.add(case, "CPU tensor is copied",
               not errs and counters.counts["to_device"] == 1,
               "%s (%s); %d copies; %s" % (arg, elems[j],
                                          counters.counts["to_device"],
                                          "; ".join(errs)))
    t = tensors[j]
    other = torch.float64 if t.dtype != torch.float64 else torch.float32
    report.add(case, "wrong dtype", *ok_detail(expect_error(
        call_with(t.to(other)), TypeError, arg, "dtype")))
    report.add(case, "wrong shape", *ok_detail(expect_error(
        call_with(t.unsqueeze(0)), ValueError, arg, "does not fit")))
    report.add(case, "wrong argument count", *ok_detail(expect_error(
        lambda: lib.call("step", *tensors[:-1]), TypeError, "takes")))
    if t.dim() >= 2 and t.shape[-1] > 1 and t.shape[-2] > 1:
        strided = t.transpose(-1, -2).contiguous().transpose(-1, -2)
        report.add(case, "not contiguous", *ok_detail(expect_error(
            call_with(strided), ValueError, arg, "not contiguous")))
    flat = torch.empty(t.numel() + 16, dtype=t.dtype, device=t.device)
    shifted = flat[1:1 + t.numel()].view(t.shape)
    report.add(case, "misaligned", *ok_detail(expect_error(
        call_with(shifted), ValueError, arg, "aligned")))
    if t.is_floating_point():
        grad = t.clone().requires_grad_()
        report.add(case, "requires grad", *ok_detail(expect_error(
            call_with(grad), TypeError, arg)))
    if torch.cuda.device_count() > 1:
        report.add(case, "other device", *ok_detail(expect_error(
            call_with(t.to("cuda:1")), ValueError, arg,
            "on CUDA device 1")))
    else:
        report.add(case, "other device", None, "one GPU")
    bf = [i for i, e in enumerate(elems) if e == "bf16"]
    if bf:
        counters.reset()
        cpu = list(tensors)
        cpu[bf[0]] = tensors[bf[0]].cpu()  # numpy cannot read it: DLPack
        got = lib.call("step", *cpu)
        errs = [e for e in (same_bits(g, w) for g, w in zip(got, want))
                if e]
        report.add(case, "CPU bf16 tensor is copied",
                   not errs and counters.counts["to_device"] == 1,
                   "argument #%d; %s" % (bf[0], "; ".join(errs)))


def ok_detail(problem):
    return (not problem, problem)


def check_timing(case, lib, tensors, report, torch, reps=20):
    """Median wall time of a call (device arguments; device results, freed
    outside the timed region), for information."""
    times = []
    for n in range(reps + 3):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        res = lib.call("step", *tensors, results="device")
        dt = time.perf_counter() - t0
        for r in res:
            r.free()
        if n >= 3:
            times.append(dt * 1e3)
    report.add(case, "call time", True, "median %.3f ms" % (
        statistics.median(times)))


def torch_facts(torch):
    """How this torch exports bf16 (its __cuda_array_interface__ refused
    it in older versions)."""
    t = torch.zeros(2, dtype=torch.bfloat16, device="cuda")
    try:
        return "bf16 __cuda_array_interface__ typestr %r" % (
            t.__cuda_array_interface__["typestr"])
    except Exception as e:
        return "bf16 __cuda_array_interface__ raises %s: %s" % (
            type(e).__name__, e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("--only", nargs="*", help="regexes of case names")
    ap.add_argument("--calls", type=int, default=100)
    a = ap.parse_args()
    art = os.path.abspath(a.artifacts)
    runtime = os.path.join(art, "libmpt_cuda_runtime.so")
    if not os.environ.get("MPT_CUDA_RUNTIME") and os.path.exists(runtime):
        os.environ["MPT_CUDA_RUNTIME"] = runtime
    out = os.environ.get("OUT") or os.path.join(art, "results")
    os.makedirs(out, exist_ok=True)
    import torch
    from mpt import aot, cuda
    dirs = sorted(os.path.dirname(p) for p in glob.glob(
        os.path.join(art, "*", "meta.json")))
    if a.only:
        dirs = [d for d in dirs if any(re.fullmatch(s, os.path.basename(d))
                                       for s in a.only)]
    report = Report()
    report.add("-", "torch", True, "%s, %s; %s" % (
        torch.__version__, torch.cuda.get_device_name(), torch_facts(torch)))
    if not dirs:
        report.add("-", "cases", False, "no cases under %s" % art)
    counters = None
    for d in dirs:
        try:
            if counters is None:
                counters = Counters(cuda.Runtime.get())
            check_case(d, report, a.calls, torch, cuda, aot, counters)
        except Exception as e:  # one failing case does not stop the others
            report.add(os.path.basename(d), "ran", False, "%s: %s | %s" % (
                type(e).__name__, e,
                traceback.format_exc().strip().splitlines()[-3]))
    with open(os.path.join(out, "torch-buffers.json"), "w") as f:
        json.dump(report.rows, f, indent=1)
    with open(os.path.join(out, "torch-buffers.md"), "w") as f:
        f.write("# mpt.cuda device buffers with PyTorch\n\n")
        f.write("| case | check | result | detail |\n| --- | --- | --- | "
                "--- |\n")
        for r in report.rows:
            f.write("| %s | %s | %s | %s |\n" % (
                r["case"], r["check"], {True: "PASS", False: "FAIL",
                                        None: "SKIP"}[r["ok"]],
                r["detail"].replace("|", "\\|")))
    failed = report.failed()
    print("%d checks, %d failed; summary in %s" % (
        len(report.rows), len(failed), out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
