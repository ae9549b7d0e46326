"""`make demo`: show what mpt does with a shipped example.

Prints the example's op statistics (by op class), verifies it with mpt-opt,
compiles it for the CPU and runs one step on seeded random data, printing
the loss and each gradient's norm beside a float64 run of the same step.
"""

import argparse
import collections
import os
import re
import subprocess
import sys

import numpy as np

from mpt import aot, gen, gradcheck

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

    arg_types, res_types = aot.parse_signature(text, "step")
    roles = gradcheck.roles_of(text)
    rng = np.random.default_rng(0)
    batch = next(t.shape[0] for t in arg_types if t.shape)
    arrays = gradcheck.random_inputs(arg_types, roles, rng, batch)
    gradcheck.one_hot_labels(arrays, roles, rng)
    lib32 = aot.compile_module(text)
    loss, *grads = lib32.call("step", *arrays)
    text64 = text.replace("f32", "f64")
    lib64 = aot.compile_module(text64)
    loss64, *grads64 = lib64.call("step", *arrays)
    names = re.findall(r"(%\w+): tensor<[^>]*> {mpt.role = \"param\"}", text)
    print("CPU step (seeded random data), f32 beside f64:")
    print("  loss %-12.6f f64 %.6f" % (float(loss), float(loss64)))
    for name, g, g64 in zip(names, grads, grads64):
        print("  |grad %-6s| %-12.6g f64 %.6g" % (
            name, np.linalg.norm(g), np.linalg.norm(g64)))
    print("(mixed precision: `mpt-opt --auto-mixed-precision` lands with "
          "issue 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
