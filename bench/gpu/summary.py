"""Markdown summary of benchmark rows (bench/results/gpu.jsonl).

Each row: date, gpu, case, dtype, shape, mpt_ms, ref, ref_ms, mpt_tflops,
ref_tflops, kernels (mpt's launches per step), optionally ref_kernels,
correct, ref_error (a PyTorch mode that failed, e.g. torch.compile).

  python3 bench/gpu/summary.py bench/results/gpu.jsonl [--date 2026-11-25]
      [--case 'transformer_step.*'] [-o FILE]
"""

import argparse
import json
import re
import sys


def fmt(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, float):
        return "%.*g" % (digits + 1, v) if abs(v) < 1e4 else "%.0f" % v
    return str(v)


def table(rows):
    """The rows as one markdown table (one line per row)."""
    out = ["| date | gpu | case | dtype | reference | mpt ms | ref ms | "
           "mpt / ref | mpt TFLOP/s | ref TFLOP/s | kernels mpt / ref | "
           "correct |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
           "--- | --- |"]
    for r in rows:
        ref_ms = r.get("ref_ms")
        ratio = ("%.2fx" % (r["mpt_ms"] / ref_ms)
                 if ref_ms and r.get("mpt_ms") else "—")
        ref = r.get("ref", "")
        if r.get("ref_error"):
            ref += " (failed: %s)" % r["ref_error"][:120].replace("|", "/")
        out.append("| %s |" % " | ".join([
            fmt(r.get("date")), fmt(r.get("gpu")), fmt(r.get("case")),
            fmt(r.get("dtype")), ref, fmt(r.get("mpt_ms")), fmt(ref_ms),
            ratio, fmt(r.get("mpt_tflops")), fmt(r.get("ref_tflops")),
            "%s / %s" % (fmt(r.get("kernels")), fmt(r.get("ref_kernels"))),
            fmt(r.get("correct"))]))
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--date", help="only rows of this date")
    ap.add_argument("--case", help="only cases matching this regex")
    ap.add_argument("-o", "--output", help="write here (default: stdout)")
    a = ap.parse_args(argv)
    rows = []
    with open(a.jsonl) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                raise SystemExit("%s:%d: not JSON: %s" % (a.jsonl, n, e))
            if a.date and r.get("date") != a.date:
                continue
            if a.case and not re.fullmatch(a.case, r.get("case", "")):
                continue
            rows.append(r)
    text = table(rows)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
