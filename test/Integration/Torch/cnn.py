# REQUIRES: torch
# A small CNN from torch.nn: convolutions, batch-norm in training mode
# (batch statistics), ReLU, max-pool, avg-pool with padding and
# count_include_pad=False, adaptive average pool, integer-label
# cross-entropy; every backward that torch-mlir cannot lower without
# tm_tensor goes through mpt's decompositions (docs/PyTorch.md). FP32 loss
# and grads against PyTorch in float64, f16 and bf16 within the format's
# budget and beside PyTorch CPU autocast (Inputs/torch_check.py).
# RUN: %venv_python %s | FileCheck %s
# CHECK: PASS cnn fp32:
# CHECK: PASS cnn f16:
# CHECK: PASS cnn bf16:
# CHECK: PASS cnn-adaptive fp32:
# CHECK: PASS cnn-adaptive f16:
# CHECK: PASS cnn-adaptive bf16:
# CHECK-NOT: FAIL

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
import torch_check  # noqa: E402

torch.manual_seed(0)
# The convolution before batch-norm has no bias: its gradient would be 0
# in exact arithmetic, with no relative error to speak of.
model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
    nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
x = torch.randn(4, 3, 12, 12)
y = torch.randint(0, 5, (4,))
# Longest f32 sum: a weight gradient of the first convolution, over
# batch x height x width = 4 x 12 x 12 terms; contraction path: 3 forward,
# 3 backward, 1 weight grad, the batch-norm's two reductions each way.
failures = torch_check.check("cnn", model, F.cross_entropy, (x, y),
                             n_max=576, depth=9)

# Overlapping max-pool windows with padding, an adaptive pool whose windows
# do not divide the input (5 -> 3: unequal windows, mpt's matmul form).
model = nn.Sequential(
    nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(),
    nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(4, 4, 1),
    nn.AdaptiveAvgPool2d(3), nn.Flatten(), nn.Linear(36, 3))
x = torch.randn(3, 2, 10, 10)
y = torch.randint(0, 3, (3,))
failures += torch_check.check("cnn-adaptive", model, F.cross_entropy,
                              (x, y), n_max=300, depth=7)
sys.exit(failures)
