"""`make demo`: show what mpt does with a shipped example.

Prints the example's op statistics, its mixed-precision form from
`mpt-opt --auto-mixed-precision` with the summary line, then runs the FP32
step and the f16 and bf16 steps on the CPU path on seeded random data and
prints the loss and each gradient's norm with the normwise difference from
FP32 in units of the format's roundoff.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from mpt import aot, gen
from mpt.testing import gradcheck

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def op_stats(tools, path):
    out = subprocess.run([os.path.join(tools, "mpt-opt"), path,
                          "--print-op-stats", "-o", os.devnull],
                         capture_output=True, text=True, check=True)
    counts = collections.Counter()
    for line in out.stderr.splitlines():
        m = re.match(r"\s*([\w.]+)\s*,\s*(\d+)", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.demo")
    ap.add_argument("--example", default="mlp", choices=gen.MODELS)
    ap.add_argument("--tools", required=True, help="directory of mpt-opt")
    ap.add_argument("--llvm-tools", required=True,
                    help="directory of mlir-translate and llc")
    args = ap.parse_args(argv)
    os.environ["MPT_TOOLS_DIR"] = os.path.abspath(args.tools)
    os.environ["MPT_LLVM_TOOLS_DIR"] = os.path.abspath(args.llvm_tools)
    path = os.path.abspath(os.path.join(EXAMPLES, args.example + ".mlir"))
    with open(path) as f:
        text = f.read()

    print("== %s (%s)" % (os.path.relpath(path), text.splitlines()[0][3:]))
    counts = op_stats(args.tools, path)
    by_dialect = collections.Counter()
    for name, n in counts.items():
        by_dialect[name.split(".")[0]] += n
    print("op classes: " + ", ".join("%s %d" % kv for kv in
                                      sorted(by_dialect.items())))
    for name in ("linalg.matmul", "linalg.batch_matmul",
                 "linalg.conv_2d_nhwc_hwcf", "linalg.generic",
                 "linalg.reduce", "math.exp", "math.log"):
        if counts.get(name):
            print("  %-26s %d" % (name, counts[name]))

    print("\n== mpt-opt --auto-mixed-precision (first lines of the body)")
    report = os.path.join(tempfile.mkdtemp(prefix="mpt-demo-"), "amp.json")
    amp = subprocess.run([os.path.join(args.tools, "mpt-opt"), path,
                          "--auto-mixed-precision=report=" + report],
                         capture_output=True, text=True, check=True)
    body = [l for l in amp.stdout.splitlines()
            if "tensor<" in l and
            re.search(r"truncf|extf|matmul|conv_2d|addf|maximumf", l)]
    for line in body[:12]:
        print("  " + line.strip()[:150])
    print("  ...")
    print(amp.stderr.strip())
    with open(report) as f:
        counts = json.load(f)
    print("  16-bit by class: %s; kept f32 by reason: %s" % (
        counts.get("ops_low"), counts.get("ops_f32")))

    arg_types, _ = aot.parse_signature(text, "step")
    roles = gradcheck.roles_of(text)
    rng = np.random.default_rng(0)
    batch = next(t.shape[0] for t in arg_types if t.shape)
    arrays = gradcheck.random_inputs(arg_types, roles, rng, batch)
    gradcheck.one_hot_labels(arrays, roles, rng)
    arrays = [a.astype(np.float32) for a in arrays]
    runs = {"f32": aot.compile_module(text).call("step", *arrays)}
    for dtype in ("f16", "bf16"):
        lib = aot.compile_module(text, extra_passes=[
            "--auto-mixed-precision=loss-scaling=none dtype=" + dtype])
        runs[dtype] = lib.call("step", *arrays)
    names = re.findall(r"(%\w+): tensor<[^>]*> {mpt.role = \"param\"}", text)
    print("\n== one step on the CPU path (seeded random data; 16-bit ops "
          "rounded as on a GPU)")
    print("  %-12s %-14s %-26s %-26s" % ("", "FP32", "AMP f16 (err in u16)",
                                          "AMP bf16 (err in ubf16)"))
    rows = [("loss", 0)] + [("|grad %s|" % n, i + 1)
                            for i, n in enumerate(names)]
    for label, i in rows:
        ref = np.asarray(runs["f32"][i], np.float64)
        cells = []
        for dtype, u in (("f16", 2.0 ** -11), ("bf16", 2.0 ** -8)):
            got = np.asarray(runs[dtype][i], np.float64)
            err = np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30)
            cells.append("%-12.6g (%5.2f u)" % (np.linalg.norm(got), err / u))
        print("  %-12s %-14.6g %-26s %-26s" % (label, np.linalg.norm(ref),
                                               cells[0], cells[1]))
    train(text, arrays, roles)
    return 0


def train(text, arrays, roles, steps=12):
    """A few update-form steps: f16, dynamic loss scaling, AdamW, all inside
    the compiled step; the scale starts at 2^24 to show the backoff."""
    print("\n== training steps: mpt-opt --auto-mixed-precision "
          "--mpt-attach-optimizer=kind=adamw (f16, dynamic loss scaling)")
    lib = aot.compile_module(text, extra_passes=[
        "--auto-mixed-precision=loss-scaling=dynamic growth-interval=2",
        "--mpt-attach-optimizer=kind=adamw lr=0.01 weight-decay=0.01"])
    arg_types, _ = aot.parse_signature(lib.text, "step")
    n = len(arrays)
    params = [i for i, r in enumerate(roles) if r == "param"]
    scale_state = [np.float32(2.0 ** 24), np.int32(0), np.int32(1)]
    opt_state = [np.zeros([d for d in t.shape], np.float32)
                 for t in arg_types[n + 3:]]
    cur = list(arrays)
    for step in range(steps):
        out = lib.call("step", *cur, *[np.array(v) for v in scale_state],
                       *opt_state)
        loss, found_inf = float(out[0]), bool(out[1])
        print("  step %d: loss %-9.5f found_inf %-5s -> next scale %-9g "
              "tracker %d" % (step, loss, found_inf, float(out[2]),
                              int(out[3])))
        scale_state = [out[2], out[3], out[4]]
        new_params = out[5:5 + len(params)]
        opt_state = out[5 + len(params):]
        for i, p in zip(params, new_params):
            cur[i] = p


if __name__ == "__main__":
    sys.exit(main())
