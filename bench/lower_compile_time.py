#!/usr/bin/env python3
"""Compile time and peak memory of `mpt-opt --mpt-lower-to-cpu`.

Rows, each the minimum wall time of --repeat runs (with the minimum CPU
time, user + system, and the peak RSS):
  - generated transformer steps of about 1k, 10k and 100k ops (as written;
    python/mpt/gen.py), FP32 and after --auto-mixed-precision (f16, with
    dynamic loss scaling; the AMP'd step written out first, so the row
    times the lowering alone);
  - the shapes of issue 12 (defect 9): 1000 chained elementwise ops, a
    tensor carried through 24 nested scf.for loops, and the loss-scaling
    check of 1000 gradients;
  - mpt-opt parse + print of each input (the floor any tool pays).
The growth from one size to the next (time ratio over op ratio) shows
whether the lowering stays linear. The machine is shared: the load average
is recorded before each row, and the CPU time is less sensitive to it than
the wall time. Results go to bench/results/lower_compile_time-<date>.md.

  python3 bench/lower_compile_time.py --tools build/bin
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "test", "Pipelines", "Inputs"))
from mpt import gen  # noqa: E402
import pathological  # noqa: E402
from amp_compile_time import cpu_model, write_results  # noqa: E402

# Issue 12, defect 9: (rows, seconds). The growth target: 10x the ops in at
# most 12x the time.
TARGETS = [("transformer", 10000, 2.0), ("transformer", 100000, 20.0),
           ("shape", 0, 1.0)]
GROWTH_TARGET = 12.0


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def run(cmd, timeout):
    """(wall s, CPU s, peak RSS MiB) of one run of cmd; None on timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if timeout is None:
        _, status, usage = os.wait4(proc.pid, 0)
    else:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.stderr.close()
                return None
            time.sleep(0.005)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), err))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def measure(cmd, repeat, timeout):
    """(min wall, min CPU, max RSS) over `repeat` runs, or None."""
    runs = []
    for _ in range(repeat):
        result = run(cmd, timeout)
        if result is None:
            return None
        runs.append(result)
    return (min(r[0] for r in runs), min(r[1] for r in runs),
            max(r[2] for r in runs))


def inputs(work, sizes, mpt_opt):
    """(name, kind, ops, path) of every input, AMP'd steps written out
    first."""
    out = []
    for target in sizes:
        depth = gen.depth_for_ops("transformer", target)
        text, ops = gen.generate("transformer", depth=depth)
        path = write(os.path.join(work, "t%d.mlir" % target), text)
        out.append(("transformer f32", "transformer", ops, path))
        amp = os.path.join(work, "t%d.amp.mlir" % target)
        subprocess.run([mpt_opt, path, "--auto-mixed-precision", "-o", amp],
                       check=True)
        out.append(("transformer amp f16", "transformer", ops, amp))
    chain = "\n".join(pathological.chain(1000))
    out.append(("chain of 1000 elementwise ops", "shape", 1000,
                write(os.path.join(work, "chain.mlir"), chain)))
    nest = "\n".join(pathological.nest(24))
    out.append(("scf.for nest 24 deep", "shape", 24 * 2 + 4,
                write(os.path.join(work, "nest.mlir"), nest)))
    check = "\n".join(pathological.check(1000))
    out.append(("loss-scaling check of 1000 grads", "shape", 1002,
                write(os.path.join(work, "check.mlir"), check)))
    return out


def target_of(kind, ops):
    for k, size, seconds in TARGETS:
        if k == kind and (k == "shape" or abs(ops - size) < size * 0.1):
            return seconds
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=None,
                    help="give up on a command after this many seconds")
    ap.add_argument("--baseline", default=None,
                    help="a folder with another mpt-opt (an older build): "
                    "its lowering is timed too, once per input, for a "
                    "before/after table")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    mpt_opt = os.path.join(args.tools, "mpt-opt")
    sizes = [int(s) for s in args.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="mpt-bench-lower-")
    rows, timings, baseline = [], [], []
    for name, kind, ops, path in inputs(work, sizes, mpt_opt):
        lower = [mpt_opt, path, "--mpt-lower-to-cpu", "-o", os.devnull]
        if args.baseline:
            old = [os.path.join(args.baseline, "mpt-opt")] + lower[1:]
            load = os.getloadavg()[0]
            result = measure(old, 1, args.timeout)
            baseline.append((name, ops, load, result))
            print("%-34s %7d ops  baseline          %s (load %.1f)"
                  % (name, ops, "> %.0f s" % args.timeout if result is None
                     else "%8.3f s" % result[0], load), flush=True)
        load = os.getloadavg()[0]
        try:
            report = subprocess.run(lower + ["-mlir-timing"],
                                    capture_output=True, text=True,
                                    timeout=args.timeout).stderr
        except subprocess.TimeoutExpired:
            report = ""
        # The passes, not the mpt-pipeline-stage passes that hold them.
        top = sorted((l.strip() for l in report.splitlines()
                      if "%)" in l and "Total" not in l
                      and "PipelineStage" not in l),
                     key=lambda l: -float(l.split()[0]))[:4]
        timings.append((name, ops, top))
        for label, cmd in (("mpt-lower-to-cpu", lower),
                           ("parse+print", [mpt_opt, path, "-o",
                                            os.devnull])):
            result = measure(cmd, args.repeat, args.timeout)
            rows.append((name, kind, ops, label, load, result))
            if result is None:
                print("%-34s %7d ops  %-17s > %.0f s (load %.1f)"
                      % (name, ops, label, args.timeout, load), flush=True)
                continue
            wall, cpu, rss = result
            print("%-34s %7d ops  %-17s %8.3f s  cpu %8.3f s  %8.1f MiB  "
                  "load %.1f" % (name, ops, label, wall, cpu, rss, load),
                  flush=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        "# mpt-lower-to-cpu compile time",
        "",
        "- date: %s" % now.strftime("%Y-%m-%d %H:%M UTC"),
        "- machine: %s, %d cores, %s" % (cpu_model(), os.cpu_count(),
                                         platform.platform()),
        "- command: python3 bench/lower_compile_time.py --sizes %s "
        "--repeat %d%s%s" % (args.sizes, args.repeat,
                             " --timeout %g" % args.timeout
                             if args.timeout else "",
                             " --baseline DIR" if args.baseline else ""),
        "- inputs: generated transformer steps (ops as written by mpt.gen; "
        "the amp rows lower the output of --auto-mixed-precision), and "
        "test/Pipelines/Inputs/pathological.py chain 1000 / nest 24 / "
        "check 1000",
        "- targets (issue 12, defect 9): 10k ops <= 2 s, 100k ops <= 20 s "
        "and 10x the ops in <= 12x the time, each shape <= 1 s (wall)",
        "- load: the 1-minute load average before each row (2 cores; "
        "others build here too)",
        "",
        "| input | ops | command | wall (min of %d) | CPU (min) | peak RSS "
        "| us per op | load | target |" % args.repeat,
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, kind, ops, label, load, result in rows:
        target = target_of(kind, ops) if label == "mpt-lower-to-cpu" else None
        if result is None:
            lines.append("| %s | %d | %s | > %.0f s | | | | %.1f | %s |" % (
                name, ops, label, args.timeout, load,
                "<= %g s: no" % target if target else ""))
            continue
        wall, cpu, rss = result
        verdict = ""
        if target:
            verdict = "<= %g s: %s" % (target, "yes" if wall <= target
                                       else "no")
        lines.append("| %s | %d | %s | %.3f s | %.3f s | %.1f MiB | %.1f | "
                     "%.1f | %s |" % (name, ops, label, wall, cpu, rss,
                                      wall / ops * 1e6, load, verdict))
    if baseline:
        after = {(n, o): r for n, _, o, l, _, r in rows
                 if l == "mpt-lower-to-cpu"}
        lines += ["", "Before and after (`--baseline`: the mpt-opt of an "
                  "earlier build, one run each%s):"
                  % (", given up after %.0f s" % args.timeout
                     if args.timeout else ""),
                  "", "| input | ops | before (wall) | load | after (wall, "
                  "min of %d) | speed-up |" % args.repeat,
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, ops, load, result in baseline:
            now_result = after.get((name, ops))
            before = ("> %.0f s" % args.timeout if result is None
                      else "%.3f s" % result[0])
            lines.append("| %s | %d | %s | %.1f | %s | %s |" % (
                name, ops, before, load,
                "%.3f s" % now_result[0] if now_result else "-",
                "x%.1f" % (result[0] / now_result[0])
                if result and now_result else
                ("> x%.0f" % (args.timeout / now_result[0])
                 if now_result else "-")))
    lines += ["", "Growth (time ratio / op ratio; 1.0 is linear; the target "
              "is at most %g for 10x the ops):" % GROWTH_TARGET, ""]
    for name in ("transformer f32", "transformer amp f16"):
        pts = [(o, r) for n, _, o, l, _, r in rows
               if n == name and l == "mpt-lower-to-cpu" and r]
        for (o1, r1), (o2, r2) in zip(pts, pts[1:]):
            lines.append("- %s, %d -> %d ops: wall x%.2f, CPU x%.2f for ops "
                         "x%.2f (%.2f)" % (name, o1, o2, r2[0] / r1[0],
                                           r2[1] / r1[1], o2 / o1,
                                           (r2[0] / r1[0]) / (o2 / o1)))
    lines += ["", "Heaviest passes (-mlir-timing, wall, one run; a pass "
              "includes the verification after it, if any: inside an "
              "mpt-pipeline-stage there is none, the stage's own time "
              "includes the one after it):", ""]
    for name, ops, top in timings:
        lines.append("- %s, %d ops: %s" % (name, ops, "; ".join(top)))
    write_results(args.out, "lower_compile_time", now, lines)


if __name__ == "__main__":
    main()
