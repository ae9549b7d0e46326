# A model file for mpt-import-torch (test/Integration/Torch/import-tool.test):
# it defines `model`, `loss_fn` and `example_batch`.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))
loss_fn = F.cross_entropy
example_batch = (torch.randn(2, 1, 4, 4), torch.randint(0, 3, (2,)))
