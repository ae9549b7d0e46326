"""`make demo`, second part: train the digits model on real data.

Trains the MLP of examples/digits/ (its FP32 training step, exported from
PyTorch by mpt.from_torch and checked in as step.mlir) on scikit-learn's
8x8 digits (shipped in the wheel, no network) with mpt: FP32, f16 with
dynamic loss scaling, bf16; and, when torch is installed (the project's
.venv after `make setup`), PyTorch FP32 and CPU autocast (bf16) from the
same initial weights on the same batches. Prints a table (final training
loss, held-out accuracy, skipped steps, ms per step) and saves the loss
curves as a PNG (matplotlib), printing its path. Needs numpy and
scikit-learn; torch and matplotlib are optional. See docs/Tutorial.md.

  .venv/bin/python -m mpt.demo_digits --tools build/bin \\
      --llvm-tools /usr/lib/llvm-22/bin --out build/demo
"""

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

import mpt
from mpt import signature

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "digits")
BATCH = 64
LR = 0.1


def data():
    """The digits as float32 in [0, 1] and int64 labels: 1437 images for
    training, 360 held out (a seeded split)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(x))
    test, train = perm[:360], perm[360:]
    return x[train], y[train], x[test], y[test]


def batches(x, y, epochs):
    """Each epoch a seeded order; the last partial batch is dropped (the
    step's shapes are static)."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(len(x) // BATCH):
            idx = order[i * BATCH:(i + 1) * BATCH]
            out.append((x[idx], y[idx]))
    return out


def init_params(shapes):
    """PyTorch's default nn.Linear initialisation, drawn with numpy:
    weight (out, in) and bias uniform in +-1/sqrt(in)."""
    rng = np.random.default_rng(0)
    out, fan_in = [], None
    for shape in shapes:
        if len(shape) == 2:
            fan_in = shape[1]
        bound = 1.0 / np.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, shape).astype(np.float32))
    return out


def evaluate(params, x, y):
    """Cross-entropy and accuracy (%) in float64 from the weights
    (w, b per layer), ReLU between layers."""
    h = np.asarray(x, np.float64)
    layers = list(zip(params[0::2], params[1::2]))
    for k, (w, b) in enumerate(layers):
        h = h @ np.asarray(w, np.float64).T + np.asarray(b, np.float64)
        if k < len(layers) - 1:
            h = np.maximum(h, 0)
    h = h - h.max(1, keepdims=True)
    logp = h - np.log(np.exp(h).sum(1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), \
        float((h.argmax(1) == y).mean() * 100)


def train_mpt(text, amp, init, train, outdir):
    ls = None
    if amp == "f16":
        # GradScaler's initial scale and a short growth interval, so that
        # the scale grows within the run until the f16 backward overflows.
        ls = mpt.LossScaling("dynamic", init_scale=65536.0,
                             growth_interval=40)
    step = mpt.compile(text, amp=amp, loss_scaling=ls,
                       optimizer=mpt.Optimizer("sgd", lr=LR))
    name = "mpt " + (amp or "FP32")
    csv_path = os.path.join(outdir, "digits-%s.csv" % (amp or "fp32"))
    with mpt.Trainer(step, dict(zip(step.params, init)), progress=False,
                     log_csv=csv_path) as trainer:
        for xb, yb in train:
            trainer.train_step(dict(zip(step.inputs, (xb, yb))))
        final = [trainer.params[p] for p in step.params]
        hist = trainer.history
    scales = [r["scale"] for r in hist]
    return {"name": name, "losses": [r["loss"] for r in hist],
            "params": final, "skipped": sum(r["skipped"] for r in hist),
            "ms": 1e3 * float(np.median([r["seconds"] for r in hist])),
            "scales": scales if ls else None}


def train_torch(init, train, autocast):
    import runpy
    import torch
    import torch.nn.functional as F
    model = runpy.run_path(os.path.join(EXAMPLE, "model.py"))["model"]
    with torch.no_grad():
        for p, v in zip(model.parameters(), init):
            p.copy_(torch.from_numpy(v))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    losses, times = [], []
    for xb, yb in train:
        start = time.perf_counter()
        xt, yt = torch.from_numpy(xb), torch.from_numpy(yb)
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=autocast):
            loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
        losses.append(float(loss.detach()))
    return {"name": "PyTorch " + ("autocast bf16" if autocast else "FP32"),
            "losses": losses, "skipped": 0,
            "params": [p.detach().numpy().copy()
                       for p in model.parameters()],
            "ms": 1e3 * float(np.median(times)), "scales": None}


def plot(runs, epoch_steps, path):
    """Loss curves (running mean over an epoch) as a PNG; None without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.2))
    kernel = np.ones(epoch_steps) / epoch_steps
    for r in runs:
        losses = np.asarray(r["losses"], np.float64)
        smooth = np.convolve(losses, kernel, mode="valid")
        ax.plot(np.arange(epoch_steps, len(losses) + 1), smooth,
                label=r["name"], lw=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (mean over the last epoch's batches)")
    ax.set_title("8x8 digits, MLP 64-64-64-10, SGD lr %g, batch %d"
                 % (LR, BATCH))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m mpt.demo_digits")
    ap.add_argument("--tools", help="directory of mpt-opt (default: "
                    "$MPT_TOOLS_DIR, else PATH)")
    ap.add_argument("--llvm-tools", help="directory of mlir-translate and "
                    "llc (default: $MPT_LLVM_TOOLS_DIR, else PATH)")
    ap.add_argument("--out", default="demo-out",
                    help="directory for the PNG and the CSV logs")
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--no-torch", action="store_true",
                    help="leave out the PyTorch columns")
    args = ap.parse_args(argv)
    if args.epochs < 1:
        ap.error("--epochs must be at least 1")
    if importlib.util.find_spec("sklearn") is None:
        print("demo_digits: skipped: it needs scikit-learn (the project's "
              ".venv after `make setup`, or `pip install scikit-learn`)")
        return 0
    if args.tools:
        os.environ["MPT_TOOLS_DIR"] = os.path.abspath(args.tools)
    if args.llvm_tools:
        os.environ["MPT_LLVM_TOOLS_DIR"] = os.path.abspath(args.llvm_tools)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(EXAMPLE, "step.mlir")) as f:
        text = f.read()

    xtr, ytr, xte, yte = data()
    train = batches(xtr, ytr, args.epochs)
    print("\n== training examples/digits/step.mlir (exported from "
          "examples/digits/model.py by mpt.from_torch) on scikit-learn's "
          "8x8 digits: %d images, %d held out; %d steps of %d, SGD lr %g"
          % (len(xtr), len(xte), len(train), BATCH, LR))
    shapes = [tuple(a.shape) for a in signature.parse(text, "step")[0]
              if a.role == "param"]
    init = init_params(shapes)
    runs = []
    have_torch = False
    if not args.no_torch:
        have_torch = importlib.util.find_spec("torch") is not None
        if not have_torch:
            print("(no torch here: the PyTorch columns are left out)")
    if have_torch:
        runs += [train_torch(init, train, False),
                 train_torch(init, train, True)]
    for amp in (None, "f16", "bf16"):
        runs.append(train_mpt(text, amp, init, train, args.out))

    ref = next(r for r in runs if r["name"] == "mpt FP32")
    ref_loss = evaluate(ref["params"], xtr, ytr)[0]
    print("\n%-22s %11s %9s %10s %8s %8s" % (
        "run", "train loss", "vs FP32", "held-out", "skipped", "ms/step"))
    for r in runs:
        loss = evaluate(r["params"], xtr, ytr)[0]
        acc = evaluate(r["params"], xte, yte)[1]
        print("%-22s %11.6f %+8.2f%% %9.2f%% %8d %8.2f" % (
            r["name"], loss, 100 * (loss / ref_loss - 1), acc,
            r["skipped"], r["ms"]))
    f16 = next(r for r in runs if r["name"] == "mpt f16")
    changes = [(i + 1, s) for i, s in enumerate(f16["scales"])
               if i == 0 or s != f16["scales"][i - 1]]
    print("\nmpt f16 loss scale (step: scale): %s" % ", ".join(
        "%d: %g" % c for c in changes))
    print("(ms/step: one step on this CPU; mpt's 16-bit steps round every "
          "op to 16 bits in software, as a GPU would compute them)")
    png = plot(runs, len(xtr) // BATCH,
               os.path.join(args.out, "digits-loss.png"))
    if png:
        print("loss curves: %s" % png)
    else:
        print("(no matplotlib here: no plot)")
    print("per-step logs: %s" % os.path.join(args.out, "digits-*.csv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
