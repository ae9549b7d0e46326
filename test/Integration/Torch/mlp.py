# REQUIRES: torch
# An MLP from torch.nn (Linear, GELU, Tanh; integer-label cross-entropy)
# through mpt.from_torch, mpt's CPU path (python/mpt/aot.py) and
# --auto-mixed-precision: FP32 loss and every gradient against PyTorch in
# float64 on the same weights and batch, f16 and bf16 within budgets derived
# from the format and beside PyTorch CPU autocast's own error
# (Inputs/torch_check.py says how the budgets are derived). Then a model
# with a frozen layer and a buffer it reads (both constants of the step,
# not arguments), and a model that returns its own loss (loss_fn=None).
# RUN: %venv_python %s | FileCheck %s
# CHECK: PASS mlp fp32:
# CHECK: PASS mlp f16:
# CHECK: PASS mlp bf16:
# CHECK: PASS frozen fp32:
# CHECK: PASS frozen f16:
# CHECK: PASS frozen bf16:
# CHECK: PASS own-loss fp32:
# CHECK: PASS own-loss f16:
# CHECK: PASS own-loss bf16:
# CHECK-NOT: FAIL

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
import torch_check  # noqa: E402

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 32),
                      nn.Tanh(), nn.Linear(32, 10))
x = torch.randn(8, 16)
y = torch.randint(0, 10, (8,))
# Longest f32 sum: 32 terms (hidden width); contractions along the longest
# forward + backward path: 3 forward, 3 backward (data), 1 weight grad.
failures = torch_check.check("mlp", model, F.cross_entropy, (x, y),
                             n_max=32, depth=7)


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.frozen = nn.Linear(6, 8).requires_grad_(False)
        self.lin = nn.Linear(8, 4)
        self.register_buffer("scale", torch.linspace(0.5, 2, 8))

    def forward(self, x):
        return self.lin(torch.relu(self.frozen(x)) * self.scale)


x = torch.randn(5, 6)
y = torch.randint(0, 4, (5,))
failures += torch_check.check("frozen", Frozen(), F.cross_entropy, (x, y),
                              n_max=8, depth=4)


class OwnLoss(nn.Module):
    """Returns the mean squared error of a regression: loss_fn=None."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 12), nn.SiLU(),
                                 nn.Linear(12, 2))

    def forward(self, x, target):
        return F.mse_loss(self.net(x), target)


failures += torch_check.check("own-loss", OwnLoss(), None,
                              (x, torch.randn(5, 2)), n_max=12, depth=5)
sys.exit(failures)
