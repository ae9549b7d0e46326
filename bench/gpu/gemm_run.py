"""Runs the cubins of gemm_cases.py on the GPU against torch, checks, times.

`python3 gemm_run.py DIR OUT.jsonl [CASE...]` on a machine with PyTorch and a
GPU. Kernels load through the CUDA driver API (ctypes) and run on torch
tensors' memory; every driver call is checked. Each case: fresh random
inputs, the output poisoned with NaN (or random for C += A*B), an
element-wise bound derived from the formats, then the median time of
mpt's kernel and of torch (cuBLAS) side by side.
"""
import ctypes
import datetime
import json
import os
import statistics
import sys

import torch

cuda = ctypes.CDLL("libcuda.so.1")


def check(status, what):
    if status != 0:
        name = ctypes.c_char_p()
        cuda.cuGetErrorName(status, ctypes.byref(name))
        raise RuntimeError("%s failed: %s" % (what, name.value.decode()))


def load(path, kernel, smem):
    mod, fn = ctypes.c_void_p(), ctypes.c_void_p()
    data = open(path, "rb").read()
    check(cuda.cuModuleLoadData(ctypes.byref(mod), data), "cuModuleLoadData")
    check(cuda.cuModuleGetFunction(ctypes.byref(fn), mod, kernel.encode()),
          "cuModuleGetFunction " + kernel)
    # CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    check(cuda.cuFuncSetAttribute(fn, 8, smem),
          "cuFuncSetAttribute " + kernel)
    return fn


def tensor_map(runtime, t, spec):
    """The device address of the TMA map of 2-D tensor `t`, encoded by mpt's
    runtime (mgpuTensorMapEncodeTiledMemref, as the step's host code calls
    it) from a memref descriptor: 128-byte swizzle, 256-byte L2 promotion,
    zero fill."""
    fn = runtime.mgpuTensorMapEncodeTiledMemref
    fn.restype = ctypes.c_void_p
    fn.argtypes = [ctypes.c_int64, ctypes.c_void_p] + [ctypes.c_int64] * 5 + [
        ctypes.POINTER(ctypes.c_int64)]
    desc = (ctypes.c_int64 * 7)(t.data_ptr(), t.data_ptr(), 0, t.shape[0],
                                t.shape[1], t.stride(0), t.stride(1))
    box = (ctypes.c_int64 * 2)(*spec["box"])
    ptr = fn(2, ctypes.addressof(desc), spec["data_type"], 0, 3, 3, 0, box)
    if not ptr:
        raise RuntimeError("mgpuTensorMapEncodeTiledMemref failed")
    return ptr


def launcher(fn, meta, tensors, maps=()):
    ptrs = [ctypes.c_void_p(t.data_ptr()) for t in tensors]
    ptrs += [ctypes.c_void_p(m) for m in maps]
    params = (ctypes.c_void_p * len(ptrs))(
        *[ctypes.addressof(p) for p in ptrs])
    g, blk = meta["grid"], meta["block"]

    def launch():
        stream = torch.cuda.current_stream().cuda_stream
        check(cuda.cuLaunchKernel(fn, g[0], g[1], g[2], blk[0], blk[1], blk[2],
                                  meta["smem"], ctypes.c_void_p(stream),
                                  params, None), "cuLaunchKernel")
    launch.keep = (ptrs, params)
    return launch


def median_ms(fn, reps):
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(True), torch.cuda.Event(True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def run_case(meta, d):
    tf32 = meta["dtype"] == "tf32"
    dt = {"f16": torch.float16, "bf16": torch.bfloat16,
          "tf32": torch.float32}[meta["dtype"]]
    odt = torch.float32 if meta["out"] == "f32" else dt
    m, n, k, batch = meta["m"], meta["n"], meta["k"], meta["batch"]
    lead = [batch] if batch else []
    dev = "cuda"
    # Logical A [.., M, K] and B [.., K, N]; stored transposed when asked.
    a_st = torch.randn(lead + ([m, k] if meta["a"] == "mk" else [k, m]),
                       device=dev).to(dt)
    b_st = torch.randn(lead + ([k, n] if meta["b"] == "kn" else [n, k]),
                       device=dev).to(dt)
    a = a_st if meta["a"] == "mk" else a_st.transpose(-1, -2)
    b = b_st if meta["b"] == "kn" else b_st.transpose(-1, -2)
    c = torch.empty(lead + [m, n], device=dev, dtype=odt)
    c0 = torch.randn(lead + [m, n], device=dev).to(odt)
    fn = load(os.path.join(d, meta["case"] + ".cubin"), meta["kernel"],
              meta["smem"])
    maps = []
    if meta.get("tensor_maps"):
        runtime = ctypes.CDLL(os.path.join(d, "libmpt_cuda_runtime.so"))
        maps = [tensor_map(runtime, [a_st, b_st][spec["operand"]], spec)
                for spec in meta["tensor_maps"]]
    launch = launcher(fn, meta, [a_st, b_st, c], maps)
    acc = meta["init"] == "acc"
    if acc:
        c.copy_(c0)
    else:
        c.fill_(float("nan"))
    launch()
    torch.cuda.synchronize()
    # Reference in float64; bound: summation in f32 (K terms, unit roundoff
    # 2^-24, doubled for slack) on sum |a||b|, plus the output's rounding.
    a64, b64 = a.double(), b.double()
    ref = torch.matmul(a64, b64)
    if acc:
        ref = ref + c0.double()
    mag = torch.matmul(a64.abs(), b64.abs()) + (c0.double().abs() if acc else 0)
    u_out = {torch.float32: 2.0**-24, torch.float16: 2.0**-11,
             torch.bfloat16: 2.0**-8}[odt]
    bound = 2 * (k + 2) * 2.0**-24 * mag + u_out * ref.abs() + 1e-30
    if tf32:
        # Inputs rounded to TF32 (cvt.rna, u = 2^-11): each product off by
        # (2 u + u^2) |a||b| at most, the rest as above.
        bound = bound + (2 * 2.0**-11 + 2.0**-22) * mag
    got = c.double()
    err = (got - ref).abs()
    ok = bool(torch.isfinite(got).all()) and bool((err <= bound).all())
    worst = float((err / bound).max()) if torch.isfinite(got).all() else float("inf")
    rel = float((got - ref).norm() / ref.norm())
    # Timing: mpt (re-launched into the same C; with acc the values grow,
    # which does not change the time) against cuBLAS through torch.
    reps = 20 if m * n * k * max(batch, 1) >= 2**33 else 50
    mpt_ms = median_ms(launch, reps)
    if odt == torch.float32 and hasattr(torch, "mm"):
        ref_name = "torch.matmul(out_dtype=float32)"
        try:
            if batch:
                torch.bmm(a, b, out_dtype=torch.float32)
                ref_fn = lambda: torch.bmm(a, b, out_dtype=torch.float32)
            else:
                torch.mm(a, b, out_dtype=torch.float32)
                ref_fn = lambda: torch.mm(a, b, out_dtype=torch.float32)
        except (TypeError, RuntimeError):
            ref_name = "torch.matmul (16-bit out)"
            ref_fn = lambda: torch.matmul(a, b)
    else:
        ref_name = "torch.matmul (16-bit out)"
        ref_fn = lambda: torch.matmul(a, b)
    if tf32:
        ref_name = "torch.mm (f32, TF32 allowed)"
        torch.backends.cuda.matmul.allow_tf32 = True
        ref_fn = (lambda: torch.bmm(a, b)) if batch else (
            lambda: torch.mm(a, b))
        ref_fn()
    ref_ms = median_ms(ref_fn, reps)
    extra = {}
    if tf32:
        torch.backends.cuda.matmul.allow_tf32 = False
        extra["fp32_ref_ms"] = round(median_ms(ref_fn, reps), 4)
        extra["fp32_ref_tflops"] = round(
            2.0 * m * n * k * max(batch, 1) / extra["fp32_ref_ms"] / 1e9, 1)
    flop = 2.0 * m * n * k * max(batch, 1)
    shape = ("%dx" % batch if batch else "") + "%dx%dx%d" % (m, n, k)
    shape += " A%s B%s out %s%s" % (meta["a"], meta["b"], meta["out"],
                                     " C+=" if acc else "")
    return dict(date=datetime.date.today().isoformat(),
                gpu=torch.cuda.get_device_name(), case="gemm_" + meta["case"],
                dtype=meta["dtype"], shape=shape, mpt_ms=round(mpt_ms, 4),
                ref=ref_name, ref_ms=round(ref_ms, 4),
                mpt_tflops=round(flop / mpt_ms / 1e9, 1),
                ref_tflops=round(flop / ref_ms / 1e9, 1), kernels=1,
                correct=ok, worst_err_over_bound=round(worst, 4),
                rel_err=rel, strategy=meta["strategy"], ptxas=meta["ptxas"],
                **extra)


def main():
    d, out = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.zeros(1, device="cuda")  # the primary context, current
    cases = json.load(open(os.path.join(d, "cases.json")))
    rows, failed = [], 0
    for meta in cases:
        if only and meta["case"] not in only:
            continue
        try:
            row = run_case(meta, d)
        except Exception as e:  # report and go on with the next case
            print("%-24s ERROR %s" % (meta["case"], e), flush=True)
            failed += 1
            continue
        failed += not row["correct"]
        rows.append(row)
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print("%-24s %-4s %s mpt %.3f ms %.1f TF/s | ref %.3f ms %.1f TF/s"
              " | %s err/bound %.3g" % (
                  row["case"], row["dtype"], row["shape"], row["mpt_ms"],
                  row["mpt_tflops"], row["ref_ms"], row["ref_tflops"],
                  "ok" if row["correct"] else "WRONG",
                  row["worst_err_over_bound"]), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
