#!/usr/bin/env python3
"""Compile time and peak memory of `mpt-opt --mpt-lower-to-cpu`.

Rows, each the minimum wall time of --repeat runs (and the peak RSS):
  - generated transformer steps of about 1k, 10k and 100k ops (as written;
    python/mpt/gen.py), FP32 and after --auto-mixed-precision (f16, the
    AMP'd step written out first, so the row times the lowering alone);
  - the two shapes of issue 12 (defect 9): 1000 chained elementwise ops
    and a tensor carried through 24 nested scf.for loops;
  - mpt-opt parse + print of each input (the floor any tool pays).
The growth from one size to the next (time ratio over op ratio) shows
whether the lowering stays linear. Results go to
bench/results/lower_compile_time-<date>.md.

  python3 bench/lower_compile_time.py --tools build/bin
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "Pipelines", "Inputs"))
from mpt import gen  # noqa: E402
import pathological  # noqa: E402
from amp_compile_time import cpu_model, run, write_results  # noqa: E402


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def inputs(work, sizes, mpt_opt):
    """(name, ops, path) of every input, AMP'd steps written out first."""
    out = []
    for target in sizes:
        depth = gen.depth_for_ops("transformer", target)
        text, ops = gen.generate("transformer", depth=depth)
        path = write(os.path.join(work, "t%d.mlir" % target), text)
        out.append(("transformer f32", ops, path))
        amp = os.path.join(work, "t%d.amp.mlir" % target)
        subprocess.run([mpt_opt, path, "--auto-mixed-precision", "-o", amp],
                       check=True)
        out.append(("transformer amp f16", ops, amp))
    chain = "\n".join(pathological.chain(1000))
    out.append(("chain of 1000 elementwise ops", 1000,
                write(os.path.join(work, "chain.mlir"), chain)))
    nest = "\n".join(pathological.nest(24))
    out.append(("scf.for nest 24 deep", 24 * 2 + 4,
                write(os.path.join(work, "nest.mlir"), nest)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    mpt_opt = os.path.join(args.tools, "mpt-opt")
    sizes = [int(s) for s in args.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="mpt-bench-lower-")
    rows, timings = [], []
    for name, ops, path in inputs(work, sizes, mpt_opt):
        lower = [mpt_opt, path, "--mpt-lower-to-cpu", "-o", os.devnull]
        report = subprocess.run(lower + ["-mlir-timing"], capture_output=True,
                                text=True).stderr
        top = sorted((l.strip() for l in report.splitlines()
                      if "%)" in l and "Total" not in l),
                     key=lambda l: -float(l.split()[0]))[:4]
        timings.append((name, ops, top))
        for label, cmd in (("mpt-lower-to-cpu", lower),
                           ("parse+print", [mpt_opt, path, "-o",
                                            os.devnull])):
            runs = [run(cmd) for _ in range(args.repeat)]
            wall = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            rows.append((name, ops, label, wall, rss))
            print("%-30s %7d ops  %-17s %8.3f s  %8.1f MiB"
                  % (name, ops, label, wall, rss), flush=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        "# mpt-lower-to-cpu compile time",
        "",
        "- date: %s" % now.strftime("%Y-%m-%d %H:%M UTC"),
        "- machine: %s, %d cores, %s" % (cpu_model(), os.cpu_count(),
                                         platform.platform()),
        "- command: python3 bench/lower_compile_time.py --sizes %s "
        "--repeat %d" % (args.sizes, args.repeat),
        "- inputs: generated transformer steps (ops as written by mpt.gen; "
        "the amp rows lower the output of --auto-mixed-precision), and "
        "test/Pipelines/Inputs/pathological.py chain 1000 / nest 24",
        "",
        "| input | ops | command | wall (min of %d) | peak RSS | us per op |"
        % args.repeat,
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, ops, label, wall, rss in rows:
        lines.append("| %s | %d | %s | %.3f s | %.1f MiB | %.1f |" % (
            name, ops, label, wall, rss, wall / ops * 1e6))
    lines += ["", "Growth (time ratio / op ratio; 1.0 is linear):", ""]
    for name in ("transformer f32", "transformer amp f16"):
        pts = [(o, w) for n, o, l, w, _ in rows
               if n == name and l == "mpt-lower-to-cpu"]
        for (o1, w1), (o2, w2) in zip(pts, pts[1:]):
            lines.append("- %s, %d -> %d ops: time x%.2f for ops x%.2f "
                         "(%.2f)" % (name, o1, o2, w2 / w1, o2 / o1,
                                     (w2 / w1) / (o2 / o1)))
    lines += ["", "Heaviest passes (-mlir-timing, wall, one run):", ""]
    for name, ops, top in timings:
        lines.append("- %s, %d ops: %s" % (name, ops, "; ".join(top)))
    write_results(args.out, "lower_compile_time", now, lines)


if __name__ == "__main__":
    main()
