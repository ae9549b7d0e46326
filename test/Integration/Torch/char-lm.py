# REQUIRES: torch
# Fidelity on real text: a small character-level transformer language model
# (one block: causal self-attention written out, layer norms, GELU MLP; the
# characters one-hot by comparison with arange, since an embedding's
# backward scatters) from torch.nn, exported with mpt.from_torch and trained
# with Adam inside the compiled step on the Apache 2.0 licence text that
# Debian ships (/usr/share/common-licenses, base-files: no network),
# lowercased, 90 % for training, the rest held out. Fixed seeds, batches
# and step count. Runs: mpt FP32, mpt f16 (dynamic loss scaling, the
# default), mpt bf16, and PyTorch FP32, CPU autocast (bf16) and float64.
#
# Asserted: the final training loss (float64, from the final weights, over
# the last 20 training batches) and the held-out loss of f16 and bf16
# within 2 % of mpt FP32's; mpt FP32 following PyTorch FP32 after every
# step, loss and weights by relative norm, within 4 D(t) of the float64 run
# and 5 D(t) of PyTorch FP32, D(t) PyTorch FP32's own largest distance from
# float64 so far, at least n u32 (n = 512, the longest f32 sum: a weight
# gradient over batch x time), as in digits.py. The f16 run's loss scale
# and skipped steps are printed.
#
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %venv_python %s | FileCheck %s
# CHECK: char-lm: {{[0-9]+}} characters, vocabulary {{[0-9]+}}
# CHECK: PASS fp32 follows PyTorch FP32:
# CHECK: f16 loss scale:
# CHECK: PASS f16:
# CHECK: PASS bf16:
# CHECK-NOT: FAIL

import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import mpt

TEXT = "/usr/share/common-licenses/Apache-2.0"
U32 = 2.0 ** -24
T, B, D = 32, 16, 32
STEPS = 120
LR = 3e-3


def load():
    with open(TEXT) as f:
        text = f.read().lower()
    chars = sorted(set(text))
    return np.array([chars.index(c) for c in text], np.int64), len(chars)


IDS, V = load()


class CharLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(V, D, bias=False)
        self.pos = nn.Parameter(torch.randn(T, D) * 0.1)
        self.ln1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D)
        self.ff = nn.Sequential(nn.Linear(D, 4 * D), nn.GELU(),
                                nn.Linear(4 * D, D))
        self.lnf = nn.LayerNorm(D)
        self.head = nn.Linear(D, V)
        self.register_buffer("mask", torch.triu(torch.full((T, T), -1e9), 1))
        self.register_buffer("vocab", torch.arange(V))

    def forward(self, idx):
        onehot = (idx[..., None] == self.vocab).to(self.emb.weight.dtype)
        x = self.emb(onehot) + self.pos
        q, k, v = self.qkv(self.ln1(x)).chunk(3, -1)
        a = torch.softmax(q @ k.transpose(1, 2) / D ** 0.5 + self.mask, -1)
        x = x + self.proj(a @ v)
        x = x + self.ff(self.ln2(x))
        return self.head(self.lnf(x))


def loss_fn(logits, y):
    return F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))


def make_model():
    torch.manual_seed(0)
    return CharLM()


def batches():
    n = len(IDS) - T - 1
    split = int(n * 0.9)
    rng = np.random.default_rng(0)

    def one(lo, hi):
        s = rng.integers(lo, hi, B)[:, None] + np.arange(T)
        return IDS[s], IDS[s + 1]
    train = [one(0, split - T) for _ in range(STEPS)]
    held = [one(split, n) for _ in range(8)]
    return train, held


def evaluate(params, data):
    """Mean cross-entropy in float64 (PyTorch) from the weights."""
    m = make_model().double()
    with torch.no_grad():
        for p, v in zip(m.parameters(), params):
            p.copy_(torch.from_numpy(np.asarray(v, np.float64)))
        return float(np.mean([float(loss_fn(m(torch.from_numpy(x)),
                                            torch.from_numpy(y)))
                              for x, y in data]))


def rel(a, b):
    a = np.concatenate([np.ravel(v) for v in a]).astype(np.float64)
    b = np.concatenate([np.ravel(v) for v in b]).astype(np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def train_torch(train, dtype=torch.float32, autocast=None):
    m = make_model().to(dtype)
    opt = torch.optim.Adam(m.parameters(), lr=LR)
    losses, weights = [], []
    for x, y in train:
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=autocast is not None):
            loss = loss_fn(m(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        weights.append([p.detach().double().numpy().copy()
                        for p in m.parameters()])
    return losses, weights, None


def train_mpt(text, train, amp):
    step = mpt.compile(text, amp=amp, optimizer=mpt.Optimizer("adam", lr=LR))
    params = dict(zip(step.params,
                      mpt.torch_import.parameter_arrays(make_model())))
    losses, weights = [], []
    with mpt.Trainer(step, params, progress=False) as t:
        for x, y in train:
            losses.append(t.train_step(dict(zip(step.inputs, (x, y))))["loss"])
            weights.append([t.params[p] for p in step.params])
        return losses, weights, t.history


def main():
    train, held = batches()
    print("char-lm: %d characters, vocabulary %d, %d steps of %d x %d"
          % (len(IDS), V, STEPS, B, T))
    text = mpt.from_torch(make_model(), loss_fn,
                          (torch.from_numpy(train[0][0]),
                           torch.from_numpy(train[0][1])))
    runs = {"torch64": train_torch(train, torch.float64),
            "torch32": train_torch(train),
            "autocast": train_torch(train, autocast=torch.bfloat16)}
    for amp in (None, "f16", "bf16"):
        runs[amp or "fp32"] = train_mpt(text, train, amp)

    failures = 0
    l64, w64 = runs["torch64"][:2]
    l32, w32 = runs["torch32"][:2]
    lm, wm = runs["fp32"][:2]
    bound, worst = 512 * U32, (0.0, 0)
    for t in range(STEPS):
        bound = max(bound, abs(l32[t] - l64[t]) / l64[t],
                    rel(w32[t], w64[t]))
        d64 = max(abs(lm[t] - l64[t]) / l64[t], rel(wm[t], w64[t]))
        d32 = max(abs(lm[t] - l32[t]) / l32[t], rel(wm[t], w32[t]))
        worst = max(worst, (max(d64 / (4 * bound), d32 / (5 * bound)),
                            t + 1))
    ok = worst[0] <= 1
    failures += not ok
    print("%s fp32 follows PyTorch FP32: PyTorch FP32 at most %.2e from "
          "float64 (D), mpt FP32 %.2e from PyTorch FP32 after %d steps; "
          "worst step %d at %.2f of its tolerance" % (
              "PASS" if ok else "FAIL", bound,
              max(abs(lm[-1] - l32[-1]) / l32[-1], rel(wm[-1], w32[-1])),
              STEPS, worst[1], worst[0]))
    hist = runs["f16"][2]
    scales = sorted({r["scale"] for r in hist})
    print("f16 loss scale: %s; skipped steps %s" % (
        ", ".join("%g" % s for s in scales),
        [r["step"] for r in hist if r["skipped"]] or "none"))

    names = {"torch64": "PyTorch FP64", "torch32": "PyTorch FP32",
             "autocast": "PyTorch bf16ac", "fp32": "mpt FP32",
             "f16": "mpt f16", "bf16": "mpt bf16"}
    final = {}
    print("%-14s %12s %12s" % ("run", "train loss", "held-out"))
    for k, label in names.items():
        w = runs[k][1][-1]
        final[k] = (evaluate(w, train[-20:]), evaluate(w, held))
        print("%-14s %12.6f %12.6f" % ((label,) + final[k]))
    ref = final["fp32"]
    for k in ("f16", "bf16"):
        dt, dh = final[k][0] / ref[0] - 1, final[k][1] / ref[1] - 1
        ok = abs(dt) <= 0.02 and abs(dh) <= 0.02
        failures += not ok
        print("%s %s: training loss %+.3f %%, held-out loss %+.3f %% of mpt "
              "FP32 (budget 2 %%); PyTorch autocast bf16: %+.3f %%, %+.3f %% "
              "of PyTorch FP32" % (
                  "PASS" if ok else "FAIL", k, 100 * dt, 100 * dh,
                  100 * (final["autocast"][0] / final["torch32"][0] - 1),
                  100 * (final["autocast"][1] / final["torch32"][1] - 1)))
    return failures


if __name__ == "__main__":
    sys.exit(main())
