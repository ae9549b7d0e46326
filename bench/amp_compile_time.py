#!/usr/bin/env python3
"""Compile time and peak memory of `mpt-opt --auto-mixed-precision`.

Generates transformer training steps of about 1k, 10k and 100k ops (as
written; python/mpt/gen.py) and runs, on each, in the same run:
  mpt-opt --auto-mixed-precision       (the pass pipeline under test)
  mpt-opt (parse + verify + print)     (the floor any tool pays)
  mlir-opt --canonicalize              (upstream reference)
Each command runs --repeat times; the minimum wall time and the peak RSS
are reported. Results go to bench/results/amp_compile_time-<date>.md.

  python3 bench/amp_compile_time.py --tools build/bin --llvm-tools /usr/lib/llvm-22/bin
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
from mpt import gen  # noqa: E402


def run(cmd):
    """(wall seconds, peak RSS MiB) of one run of cmd."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), err))
    return wall, usage.ru_maxrss / 1024.0


def write_results(out_dir, stem, now, lines):
    """Writes `lines` to OUT_DIR/STEM-<date>.md."""
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "%s-%s.md" % (stem, now.strftime("%Y-%m-%d")))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.relpath(out))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True)
    ap.add_argument("--llvm-tools", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    mpt_opt = os.path.join(args.tools, "mpt-opt")
    mlir_opt = os.path.join(args.llvm_tools, "mlir-opt")
    rows = []
    timings = []
    work = tempfile.mkdtemp(prefix="mpt-bench-")
    for target in [int(s) for s in args.sizes.split(",")]:
        depth = gen.depth_for_ops("transformer", target)
        text, ops = gen.generate("transformer", depth=depth)
        path = os.path.join(work, "t%d.mlir" % target)
        with open(path, "w") as f:
            f.write(text)
        variants = [
            ("auto-mixed-precision", [mpt_opt, path, "--auto-mixed-precision",
                                      "-o", os.devnull]),
            ("parse+print (mpt-opt)", [mpt_opt, path, "-o", os.devnull]),
            ("mlir-opt --canonicalize", [mlir_opt, path, "--canonicalize",
                                         "-o", os.devnull]),
        ]
        # Where the time goes (-mlir-timing; each pass includes the verifier
        # run after it).
        report = subprocess.run(variants[0][1] + ["-mlir-timing"],
                                capture_output=True, text=True).stderr
        timings.append((ops, [l.strip() for l in report.splitlines()
                              if "%)" in l]))
        for name, cmd in variants:
            runs = [run(cmd) for _ in range(args.repeat)]
            wall = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            rows.append((ops, depth, name, wall, rss))
            print("%7d ops  %-26s %8.3f s  %8.1f MiB" % (ops, name, wall, rss),
                  flush=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        "# auto-mixed-precision compile time",
        "",
        "- date: %s" % now.strftime("%Y-%m-%d %H:%M UTC"),
        "- machine: %s, %d cores, %s" % (cpu_model(), os.cpu_count(),
                                         platform.platform()),
        "- command: python3 bench/amp_compile_time.py --sizes %s --repeat %d"
        % (args.sizes, args.repeat),
        "- graphs: generated transformer steps (forward + backward), ops as "
        "written by mpt.gen",
        "",
        "| ops | blocks | command | wall (min of %d) | peak RSS | "
        "us per op |" % args.repeat,
        "| ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for ops, depth, name, wall, rss in rows:
        lines.append("| %d | %d | %s | %.3f s | %.1f MiB | %.1f |" % (
            ops, depth, name, wall, rss, wall / ops * 1e6))
    amp = {r[0]: r[3] for r in rows if r[2] == "auto-mixed-precision"}
    canon = {r[0]: r[3] for r in rows if r[2] == "mlir-opt --canonicalize"}
    lines += ["", "Ratio auto-mixed-precision / canonicalize (same run): " +
              ", ".join("%d ops: %.2f" % (k, amp[k] / canon[k])
                        for k in sorted(amp))]
    lines += ["", "Per pass (-mlir-timing, wall; a pass includes the "
              "verification that follows it):", ""]
    for ops, entries in timings:
        lines.append("- %d ops: %s" % (ops, "; ".join(entries)))
    write_results(args.out, "amp_compile_time", now, lines)


if __name__ == "__main__":
    main()
