"""Where the host time of a step call goes: mpt.cuda's Python side
(argument checks, descriptors, results) against the compiled step's own
host code (allocations, TMA maps, launches, the final synchronisation).

On the GPU machine, over a directory a step was built into (libstep.so,
step.mlir: e.g. one case of transformer_step.py or mlp_step.py build):
  PYTHONPATH=python MPT_CUDA_RUNTIME=DIR/../libmpt_cuda_runtime.so \\
    python3 bench/gpu/call_profile.py DIR [--calls N]
It calls the step with torch CUDA tensors of small random values (results
left on the device and freed outside the timed region), prints the median
wall time of a call and the time spent in the library's C entry point, on
mpt.cuda's fast path for torch tensors and on its general path
(Library.fast_torch_calls off; the better of three alternating rounds of
--calls each), and cProfile's heaviest Python functions (fast path), as
one JSON object and a table.
The runtime's host profile (mptRuntimeHostProfileEnable) splits the C
entry point's time by ABI function: launches, allocations, frees, TMA maps,
the final synchronisation; the rest is the step's own host code.
"""

import argparse
import cProfile
import ctypes
import json
import os
import pstats
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

TORCH_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16",
                "f64": "float64", "i64": "int64", "i32": "int32",
                "i1": "bool"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--calls", type=int, default=20)
    a = ap.parse_args()
    import torch
    from mpt import aot, cuda
    lib = cuda.load(a.dir)
    args_t, _ = aot.parse_signature(lib.text, "step")
    gen = torch.Generator(device="cuda").manual_seed(0)
    args = []
    for t in args_t:
        dtype = getattr(torch, TORCH_DTYPES[t.elem])
        shape = [1 if s is None else s for s in t.shape]
        if dtype.is_floating_point:
            x = torch.randn(shape, device="cuda", generator=gen) * 0.01
            args.append(x.to(dtype))
        else:
            args.append(torch.zeros(shape, dtype=dtype, device="cuda"))
    # The scale of a scaled step, if any, must be positive: every f32
    # scalar argument gets 1.
    for i, t in enumerate(args_t):
        if not t.shape and t.elem == "f32":
            args[i] = torch.ones((), device="cuda")

    entry = getattr(lib.lib, "_mlir_ciface_step")
    c_time = []

    def timed_entry(*xs, _f=entry):
        t0 = time.perf_counter()
        r = _f(*xs)
        c_time.append(time.perf_counter() - t0)
        return r
    # Only the timing wraps the C entry point; the call is the same.
    lib.lib._mlir_ciface_step = timed_entry

    def call():
        return lib.call("step", *args, results="device")

    for _ in range(3):
        for r in call():
            r.free()
    torch.cuda.synchronize()
    def measure():
        """Median wall time and C entry time (s) of a call."""
        walls = []
        c_time.clear()
        for _ in range(a.calls):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            res = call()
            walls.append(time.perf_counter() - t0)
            for r in res:
                r.free()
        return statistics.median(walls), statistics.median(c_time)
    # mpt.cuda's general path (every argument read as any device buffer),
    # then its fast path for torch tensors (the default), alternately.
    general, fast = [], []
    for _ in range(3):
        lib.fast_torch_calls = False
        general.append(measure())
        lib.fast_torch_calls = True
        fast.append(measure())
    wall, c_entry = min(fast)
    wall_general, c_entry_general = min(general)
    # The runtime's own split of the C entry point's time, in µs a call.
    rt = cuda.Runtime.get().lib
    rt.mptRuntimeHostProfileReport.restype = ctypes.c_int64
    rt.mptRuntimeHostProfileReport.argtypes = [ctypes.c_char_p,
                                               ctypes.c_int64]
    rt.mptRuntimeHostProfileReset()
    rt.mptRuntimeHostProfileEnable(1)
    c_time.clear()
    for _ in range(a.calls):
        torch.cuda.synchronize()
        res = call()
        for r in res:
            r.free()
    rt.mptRuntimeHostProfileEnable(0)
    size = rt.mptRuntimeHostProfileReport(None, 0)
    buf = ctypes.create_string_buffer(size)
    rt.mptRuntimeHostProfileReport(buf, size)
    # The frees above are outside the step; their time is not the call's.
    runtime_us = {k: dict(calls=v["calls"] / a.calls,
                          us=round(v["us"] / a.calls, 1),
                          us_each=round(v["us"] / v["calls"], 2))
                  for k, v in json.loads(buf.value.decode()).items()}
    profiled_entry_ms = statistics.median(c_time) * 1e3
    prof = cProfile.Profile()
    torch.cuda.synchronize()
    prof.enable()
    for _ in range(a.calls):
        res = call()
        for r in res:
            r.free()
    prof.disable()
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (cc, nc, tt, ct, _) in stats.stats.items():
        rows.append((tt / a.calls * 1e3, ct / a.calls * 1e3, nc // a.calls,
                     "%s:%d %s" % (os.path.basename(file), line, fn)))
    rows.sort(key=lambda r: -r[0])
    out = dict(dir=a.dir, args=len(args), calls=a.calls,
               wall_ms=round(wall * 1e3, 3),
               c_entry_ms=round(c_entry * 1e3, 3),
               python_ms=round((wall - c_entry) * 1e3, 3),
               general_path_wall_ms=round(wall_general * 1e3, 3),
               general_path_c_entry_ms=round(c_entry_general * 1e3, 3),
               general_path_python_ms=round(
                   (wall_general - c_entry_general) * 1e3, 3),
               runtime_host_us=runtime_us,
               c_entry_profiled_ms=round(profiled_entry_ms, 3),
               top=[[round(t, 3), round(c, 3), n, w] for t, c, n, w in
                    rows[:25]])
    print(json.dumps(out))
    print("| self ms / call | cumulative ms | calls / call | function |")
    print("| ---: | ---: | ---: | --- |")
    for t, c, n, w in rows[:25]:
        print("| %.3f | %.3f | %d | %s |" % (t, c, n, w))
    print("\n| runtime function | calls / call | µs / call | µs each |")
    print("| --- | ---: | ---: | ---: |")
    for k, v in sorted(runtime_us.items(), key=lambda kv: -kv[1]["us"]):
        print("| %s | %g | %.1f | %.2f |" % (k, v["calls"], v["us"],
                                             v["us_each"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
