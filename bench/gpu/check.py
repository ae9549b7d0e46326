"""Runs the cases prepare.py built on the GPU and compares with the CPU path.

Each case's libstep.so is called with the inputs of its data.npz; every
floating-point result must match the CPU result normwise within the case's
tolerance (format-derived, see prepare.py) and be finite where the CPU's is;
integer and boolean results must be equal. With --repeat N the first case
also runs N more steps, and device memory must not grow. A case's meta may
name the norm ("2", the default, or "inf": max |got - want| / max |want|,
the kernel_cases.py cases) and call its function several times (`batches`,
arrays in{k}_{i} / out{k}_{i} of call k).

Cases whose meta holds a `torch` model (the generated steps and the shipped
examples, which are mpt.gen's default models) are also compared with
PyTorch on the same inputs (torch_ref.compare_step): the loss and each
gradient (for an update-form step: the gradient implied by the new first
moment, the update p_new - p and the second moment) normwise against
PyTorch in float64, within the case's tolerance (64 u, meta.json) plus
twice PyTorch's own error at the step's precision (FP32 with TF32 off, or
autocast f16/bf16 with the same loss scale); found_inf and the loss-scale
state as PyTorch's grads give them. Without torch (or with --no-torch)
that comparison is skipped, and the summary says so.

  MPT_CUDA_RUNTIME=ART/libmpt_cuda_runtime.so PYTHONPATH=python \
    python3 bench/gpu/check.py ART [--only REGEX...] [--json FILE] \
      [--markdown FILE] [--no-torch]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref  # noqa: E402  (beside this file)

TORCH = {"enabled": True, "device": None, "why": None}


def torch_device():
    """'cuda' or 'cpu' when torch can be used, else None (TORCH['why'])."""
    if not TORCH["enabled"]:
        TORCH["why"] = "--no-torch"
        return None
    if TORCH["device"] is None:
        try:
            import torch
            TORCH["device"] = "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError as e:
            TORCH["enabled"], TORCH["why"] = False, (
                "torch not available (%s)" % e)
            return None
    return TORCH["device"]


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
    times, got_all = [], []
    for k, _ in enumerate(meta["batches"]):
        n_in = len([x for x in data.files if x.startswith("in%d_" % k)])
        n_out = len([x for x in data.files if x.startswith("out%d_" % k)])
        inputs = [data["in%d_%d" % (k, i)] for i in range(n_in)]
        t0 = time.time()
        got = lib.call("step", *inputs)
        times.append(time.time() - t0)
        got_all.append((inputs, got))
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
    torch_result = compare_torch(meta, data, got_all)
    if torch_result.get("ok") is False:
        ok = False
        details += ["torch: " + m for m in torch_result["problems"]]
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
                memory_growth=growth, torch=torch_result)


def compare_torch(meta, data, calls):
    """The case against PyTorch (torch_ref.compare_step), every call."""
    if "torch" not in meta:
        return dict(skipped=meta.get("no_torch", "no PyTorch model"))
    if "results" not in meta:
        return dict(skipped="meta.json without the signature: rebuild "
                    "the case with the current prepare.py")
    device = torch_device()
    if device is None:
        return dict(skipped=TORCH["why"])
    info = dict(meta["torch"], precision=meta["precision"],
                arg_roles=meta["arg_roles"], results=meta["results"])
    factor = meta["tolerance"] / meta["unit_roundoff"]
    u = meta["unit_roundoff"]
    out = dict(ok=True, device=device, problems=[], rows=0,
               worst_in_u=0.0, worst_what=None)
    for k, (inputs, got) in enumerate(calls):
        try:
            r = torch_ref.compare_step(info, inputs, got, device, factor)
        except Exception as e:  # reported with the case, never skipped
            out["ok"] = False
            out["problems"].append("batch %s: the comparison failed: %s: "
                                   "%s" % (meta["batches"][k],
                                           type(e).__name__, e))
            continue
        out["ok"] &= r["ok"]
        out["problems"] += ["batch %s: %s" % (meta["batches"][k], m)
                            for m in r["problems"]]
        out["rows"] += len(r["rows"])
        for what, err, err_torch, tol, vs_torch in r["rows"]:
            if err / u >= out["worst_in_u"]:
                out.update(worst_in_u=err / u, worst_what=what,
                           torch_in_u=err_torch / u, budget_in_u=tol / u,
                           vs_torch_in_u=vs_torch / u)
        out["found_inf"] = r["found_inf"]
    return out


def torch_note(t):
    if not t:
        return ""
    if "skipped" in t:
        return "  torch: skipped (%s)" % t["skipped"]
    if not t["rows"]:
        return "  torch: %s" % ("PASS" if t["ok"] else "FAIL")
    return ("  torch: %s worst %.2f u vs float64 (PyTorch %.2f u, budget "
            "%.0f u; mpt - PyTorch %.2f u)" % (
                "PASS" if t["ok"] else "FAIL", t["worst_in_u"],
                t["torch_in_u"], t["budget_in_u"], t["vs_torch_in_u"]))


def markdown(results, path):
    """The check as a markdown table."""
    lines = ["| case | precision | batch | kernels | vs CPU path: worst "
             "(in u) | vs PyTorch float64: worst (in u) | PyTorch at the "
             "step's precision (in u) | result |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        t = r.get("torch") or {}
        if "skipped" in t:
            tcol, pcol = "skipped: %s" % t["skipped"], ""
        elif t.get("rows"):
            tcol = "%.3g (%.2f), %s" % (
                t["worst_in_u"] * r["unit_roundoff"], t["worst_in_u"],
                t["worst_what"])
            pcol = "%.2f" % t["torch_in_u"]
        else:
            tcol = pcol = ""
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["case"], r.get("precision", ""),
            ",".join(map(str, r.get("batches") or [])), r.get("kernels", ""),
            "%.3g (%.2f)" % (r["worst_error"], r["worst_in_u"])
            if "worst_error" in r else r.get("error", ""),
            tcol, pcol, "PASS" if r["ok"] else "FAIL"))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--json", help="write one JSON object per case here")
    ap.add_argument("--markdown", help="write the summary table here")
    ap.add_argument("--no-torch", action="store_true",
                    help="skip the comparison with PyTorch")
    ap.add_argument("--repeat", type=int, default=0,
                    help="steps after the check, for memory growth (first "
                         "case only)")
    args = ap.parse_args(argv)
    TORCH["enabled"] = not args.no_torch
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
        line += torch_note(r.get("torch"))
        print(line, flush=True)
        for msg in r.get("details", []) + ([r["error"]] if "error" in r
                                           else []):
            print("     " + msg, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    if args.markdown:
        markdown(results, args.markdown)
    compared = sum(1 for r in results if (r.get("torch") or {}).get("rows"))
    print("%d of %d cases pass; %d compared with PyTorch%s" % (
        len(results) - failed, len(results), compared,
        "" if TORCH["enabled"] else " (%s)" % TORCH["why"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
