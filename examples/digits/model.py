# The digits model of `make demo` (docs/Tutorial.md): an MLP for
# scikit-learn's 8x8 digits (64 pixels in, 10 classes) and its loss, for
# mpt-import-torch. step.mlir beside it is this file's FP32 training step:
#   .venv/bin/python tools/mpt-import-torch examples/digits/model.py \
#       -o examples/digits/step.mlir
# (test/Integration/Torch/digits-example.test regenerates it and fails if
# the checked-in step drifts).
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 64
model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(),
                      nn.Linear(64, 64), nn.ReLU(),
                      nn.Linear(64, 10))
loss_fn = F.cross_entropy
# Only the shapes and dtypes matter: float32 images, int64 labels.
example_batch = (torch.zeros(BATCH, 64), torch.zeros(BATCH, dtype=torch.int64))
