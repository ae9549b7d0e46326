"""Runs the cases prepare.py built on the GPU and compares with the CPU path.

Each case's libstep.so is called with the inputs of its data.npz; every
floating-point result must match the CPU result normwise within the case's
tolerance (format-derived, see prepare.py) and be finite where the CPU's is;
integer and boolean results must be equal. With --repeat N the first case
also runs N more steps, and device memory must not grow. A case's meta may
name the norm ("2", the default, or "inf": max |got - want| / max |want|,
the kernel_cases.py cases) and call its function several times (`batches`,
arrays in{k}_{i} / out{k}_{i} of call k).

  MPT_CUDA_RUNTIME=ART/libmpt_cuda_runtime.so PYTHONPATH=python \
    python3 bench/gpu/check.py ART [--only REGEX...] [--json FILE]
"""

import argparse
import glob
import json
import os
import re
import sys
import time

import numpy as np

from mpt import cuda


def normwise(a, b, norm="2"):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    order = np.inf if norm == "inf" else None
    return float(np.linalg.norm(a - b, order) /
                 max(np.linalg.norm(b, order), 1e-30))


def compare(got, want, tol, norm="2"):
    """(ok, error) of one result."""
    if got.shape != want.shape:
        return False, float("inf")
    if want.dtype.kind in "biu" and want.dtype != np.uint16:
        return bool(np.array_equal(got, want)), 0.0
    if want.dtype == np.uint16:  # bf16 bits
        got = (got.astype(np.uint32) << 16).view(np.float32)
        want = (want.astype(np.uint32) << 16).view(np.float32)
    finite = np.isfinite(want)
    if not np.array_equal(np.isfinite(got), finite):
        return False, float("nan")
    err = normwise(got[finite], want[finite], norm) if finite.any() else 0.0
    return err <= tol, err


def run_case(d, repeat):
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    data = np.load(os.path.join(d, "data.npz"))
    lib = cuda.load(d)
    ok, worst, details = True, 0.0, []
    times = []
    for k, _ in enumerate(meta["batches"]):
        n_in = len([x for x in data.files if x.startswith("in%d_" % k)])
        n_out = len([x for x in data.files if x.startswith("out%d_" % k)])
        inputs = [data["in%d_%d" % (k, i)] for i in range(n_in)]
        t0 = time.time()
        got = lib.call("step", *inputs)
        times.append(time.time() - t0)
        if len(got) != n_out:
            return dict(meta, ok=False, error="%d results, expected %d"
                        % (len(got), n_out))
        for i in range(n_out):
            want = data["out%d_%d" % (k, i)]
            good, err = compare(got[i], want, meta["tolerance"],
                                meta.get("norm", "2"))
            worst = max(worst, err) if err == err else float("nan")
            if not good:
                ok = False
                details.append("batch %s result #%d (%s): error %.3g" % (
                    meta["batches"][k], i, meta["roles"][i]
                    if i < len(meta["roles"]) else "?", err))
    growth = None
    if repeat:
        inputs = [data["in0_%d" % i] for i in range(
            len([x for x in data.files if x.startswith("in0_")]))]
        lib.call("step", *inputs)
        before, _ = lib.rt.mem_info()
        for _ in range(repeat):
            lib.call("step", *inputs)
        after, _ = lib.rt.mem_info()
        growth = before - after
        if growth > 0:
            ok = False
            details.append("device memory grew by %d bytes over %d steps"
                           % (growth, repeat))
    return dict(meta, ok=ok, worst_error=worst,
                worst_in_u=worst / meta["unit_roundoff"],
                first_call_s=round(times[0], 4), details=details,
                memory_growth=growth)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--json", help="write one JSON object per case here")
    ap.add_argument("--repeat", type=int, default=0,
                    help="steps after the check, for memory growth (first "
                         "case only)")
    args = ap.parse_args(argv)
    dirs = sorted(os.path.dirname(p) for p in glob.glob(
        os.path.join(args.artifacts, "*", "meta.json")))
    if args.only:
        dirs = [d for d in dirs if any(re.fullmatch(s, os.path.basename(d))
                                       for s in args.only)]
    if not dirs:
        print("no cases under %s" % args.artifacts)
        return 1
    results, failed = [], 0
    for i, d in enumerate(dirs):
        try:
            r = run_case(d, args.repeat if i == 0 else 0)
        except Exception as e:  # one failing case does not stop the others
            r = dict(case=os.path.basename(d), ok=False, error=str(e))
        results.append(r)
        failed += not r["ok"]
        line = "%-4s %-26s" % ("PASS" if r["ok"] else "FAIL", r["case"])
        if "worst_error" in r:
            line += " %4d kernels  worst %.3g (%.2f u, budget %.0f u)" % (
                r["kernels"], r["worst_error"], r["worst_in_u"],
                r["tolerance"] / r["unit_roundoff"])
        if r.get("memory_growth") is not None:
            line += "  memory growth %d B" % r["memory_growth"]
        print(line, flush=True)
        for msg in r.get("details", []) + ([r["error"]] if "error" in r
                                           else []):
            print("     " + msg, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    print("%d of %d cases pass" % (len(results) - failed, len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
