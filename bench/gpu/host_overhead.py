"""Host time of a step call: a step whose kernels are tiny (the shipped
examples at batch 8, as bench/gpu/prepare.py builds them) is timed call by
call, so the wall time is nearly all host work (stream, allocations,
launches, the final synchronisation) and launch latency.

On the GPU machine, with prepare.py's folder carried:
  MPT_CUDA_RUNTIME=ART/libmpt_cuda_runtime.so PYTHONPATH=python \\
    python3 bench/gpu/host_overhead.py ART [CASE...] [--calls N]
prints one JSON object a case: median and minimum µs a call, kernels.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("cases", nargs="*", default=["mlp-f16", "transformer-f16"])
    ap.add_argument("--calls", type=int, default=200)
    a = ap.parse_args()
    import torch
    from mlp_step import DeviceStep

    for case in a.cases:
        d = os.path.join(a.artifacts, case)
        step = DeviceStep(d)
        tensors = []
        for t in step.args:
            shape = [8 if s is None else s for s in (t.shape or [])]
            dtype = getattr(torch, {"f32": "float32", "f16": "float16",
                                    "bf16": "bfloat16", "i32": "int32",
                                    "i64": "int64", "i1": "bool"}[t.elem])
            tensors.append(torch.zeros(shape, dtype=dtype, device="cuda"))
        times = []
        for i in range(a.calls + 10):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            res = step(tensors)
            dt = time.perf_counter() - t0
            step.free(res)
            if i >= 10:
                times.append(dt * 1e6)
        meta = json.load(open(os.path.join(d, "meta.json")))
        print(json.dumps(dict(case=case, kernels=meta["kernels"],
                              median_us=round(statistics.median(times), 1),
                              min_us=round(min(times), 1),
                              calls=a.calls)), flush=True)



if __name__ == "__main__":
    sys.exit(main())
