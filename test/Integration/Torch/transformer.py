# REQUIRES: torch
# A transformer block from torch.nn (nn.TransformerEncoderLayer: multi-head
# attention through scaled_dot_product_attention, traced with the MATH
# backend; layer norms, GELU feed-forward) with a mean-pool and a linear
# head, integer-label cross-entropy. FP32 loss and grads against PyTorch in
# float64, f16 and bf16 within the format's budget and beside PyTorch CPU
# autocast (Inputs/torch_check.py).
# RUN: %venv_python %s | FileCheck %s
# CHECK: PASS transformer fp32:
# CHECK: PASS transformer f16:
# CHECK: PASS transformer bf16:
# CHECK-NOT: FAIL

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
import torch_check  # noqa: E402


class Classifier(nn.Module):
    def __init__(self, dim=16, heads=2, hidden=32, classes=5):
        super().__init__()
        self.block = nn.TransformerEncoderLayer(
            dim, heads, dim_feedforward=hidden, dropout=0.0,
            activation="gelu", batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.block(x).mean(1))


torch.manual_seed(0)
model = Classifier()
x = torch.randn(3, 6, 16)
y = torch.randint(0, 5, (3,))
# Longest f32 sum: 32 (feed-forward width); contraction path: QKV, QK^T,
# PV, out-proj, two feed-forward, head forward, the same backward.
sys.exit(torch_check.check("transformer", model, F.cross_entropy, (x, y),
                           n_max=32, depth=14))
