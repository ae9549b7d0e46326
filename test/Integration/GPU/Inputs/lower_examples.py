"""Lowers every shipped example in FP32, f16 (dynamic loss scaling + AdamW
in the step) and bf16 with mpt-lower-to-nvvm to PTX and assembles it with
ptxas for each chip given; prints one line per case:
  <example> <precision> <chip> kernels=<N> ptxas=ok
Usage: lower_examples.py MPT_OPT PTXAS EXAMPLES_DIR OUT_DIR CHIP...
"""
import os
import re
import subprocess
import sys

PRECISIONS = {
    "fp32": [],
    "f16": ["--auto-mixed-precision=dtype=f16 loss-scaling=dynamic",
            "--mpt-attach-optimizer=kind=adamw lr=1e-3 weight-decay=0.01"],
    "bf16": ["--auto-mixed-precision=dtype=bf16"],
}
FEATURES = {"sm_80": "+ptx70"}


def ptx_of(text):
    m = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', text)
    raw = m.group(1)
    out = re.sub(r'\\([0-9A-Fa-f]{2})', lambda h: chr(int(h.group(1), 16)),
                 raw)
    return out.replace('\\"', '"').replace('\\\\', '\\')


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit("%s failed:\n%s" % (" ".join(cmd), proc.stderr[:4000]))
    return proc.stdout


def main():
    mpt_opt, ptxas, examples, out, chips = (sys.argv[1], sys.argv[2],
                                            sys.argv[3], sys.argv[4],
                                            sys.argv[5:])
    os.makedirs(out, exist_ok=True)
    for name in ("mlp", "cnn", "transformer"):
        src = os.path.join(examples, name + ".mlir")
        for prec, passes in PRECISIONS.items():
            step = os.path.join(out, "%s-%s.mlir" % (name, prec))
            run([mpt_opt, src] + passes + ["-o", step])
            for chip in chips:
                opts = "format=isa chip=%s features=%s" % (
                    chip, FEATURES.get(chip, "+ptx80"))
                text = run([mpt_opt, step, "--mpt-lower-to-nvvm=" + opts])
                ptx = ptx_of(text)
                path = os.path.join(out, "%s-%s-%s.ptx" % (name, prec, chip))
                with open(path, "w") as f:
                    f.write(ptx)
                run([ptxas, "-arch=" + chip, path, "-o", path + ".cubin"])
                print("%s %s %s kernels=%d ptxas=ok" % (
                    name, prec, chip, ptx.count(".entry ")), flush=True)


if __name__ == "__main__":
    main()
