# A model file whose model holds an op torch-mlir cannot lower
# (test/Integration/Torch/import-tool.test).
import torch
import torch.nn as nn


class Cumulative(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, -1)


model = nn.Sequential(nn.Linear(4, 4), Cumulative())
example_batch = (torch.randn(2, 4),)


def loss_fn(out):
    return out.square().mean()


model_inputs = 1
