# REQUIRES: torch
# What mpt.from_torch refuses, and how: an error that names the ATen op and
# the module path in the model (the forward or the backward of that
# module), never a crash of torch-mlir (aten.sort's backward makes it
# segfault: the lowering runs in a child process) or a traceback from deep
# inside it; and the calls that cannot make a training step at all.
# RUN: %venv_python %s | FileCheck %s
# CHECK: sort: UnsupportedOpError op=aten.scatter.src path=layers.2.pool: ATen op 'aten.scatter.src' in module 'layers.2.pool' (in the backward of its SortBackward0) cannot be lowered to linalg by torch-mlir: torch-mlir crashes on it (signal 11)
# CHECK: cumsum: UnsupportedOpError op=aten.cumsum path=layers.1.pool: ATen op 'aten.cumsum' in module 'layers.1.pool' cannot be lowered to linalg by torch-mlir: it lowers to tm_tensor.scan, which MLIR 22.1 cannot parse
# CHECK: scatter_add: UnsupportedOpError op=aten.scatter_add path=layers.0.pool: {{.*}}it lowers to tm_tensor.scatter, which MLIR 22.1 cannot parse
# CHECK: dropout: UnsupportedOpError op=aten.bernoulli_.float path=drop: ATen op 'aten.bernoulli_.float' in module 'drop' draws random numbers: a training step must be a function of its arguments (set dropout to 0 or call .eval() on that module)
# CHECK: loss-op: UnsupportedOpError op=aten.cumsum path=None: ATen op 'aten.cumsum' outside the model's modules (in the loss function?) cannot be lowered
# CHECK: no parameters: TorchImportError: the model has no trainable parameters (no parameter with requires_grad=True): a training step needs at least one
# CHECK: frozen: TorchImportError: the model has no trainable parameters
# CHECK: vector loss: TorchImportError: the loss must be a scalar tensor, got shape [4]
# CHECK: float64 batch: TorchImportError: example_batch[0] is torch.float64: the FP32 step takes float32 tensors (mpt makes the 16-bit forms itself)
# CHECK: float64 model: TorchImportError: parameter '0.weight' is torch.float64: the FP32 step needs float32 parameters (call model.float())
# CHECK: unused parameter: TorchImportError: the loss does not depend on parameter(s) unused: freeze them (requires_grad=False) or use them
# CHECK: not a module: TorchImportError: model must be a torch.nn.Module, got function
# CHECK: not a tensor: TorchImportError: example_batch[1] is a list, not a torch.Tensor
# CHECK: empty batch: TorchImportError: example_batch is empty
# CHECK: model_inputs: TorchImportError: model_inputs=3 does not fit a batch of 2 tensors
# CHECK: buffer read after update: UnsupportedOpError op=aten.add_.Tensor path=: ATen op 'aten.add_.Tensor' in the model's own forward updates a buffer in place that the step then reads; mpt's steps do not update buffers
# CHECK: one_hot: TorchImportError: tracing the step failed in module 'layers.1.pool': RuntimeError: It appears that you're trying to get value out of a tracing tensor
# CHECK: shape mismatch: TorchImportError: tracing the step failed in module '1': RuntimeError: mm: mat1 and mat2 shapes cannot be multiplied (4x4 and 3x2)
# CHECK: done

import torch
import torch.nn as nn
import torch.nn.functional as F

import mpt


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Block(nn.Module):
    def __init__(self, pool):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.pool = pool

    def forward(self, x):
        return self.pool(torch.relu(self.lin(x)))


class Net(nn.Module):
    """layers.<i>.pool is the op under test at position `where`."""

    def __init__(self, fn, where):
        super().__init__()
        self.layers = nn.Sequential(*[
            Block(Fn(fn) if i == where else nn.Identity())
            for i in range(3)])

    def forward(self, x):
        return self.layers(x)


def attempt(name, model, loss_fn, batch, **kw):
    try:
        mpt.from_torch(model, loss_fn, batch, **kw)
        print("%s: no error" % name)
    except mpt.UnsupportedOpError as e:
        print("%s: UnsupportedOpError op=%s path=%s: %s" % (
            name, e.op, e.module_path, e))
    except mpt.TorchImportError as e:
        print("%s: TorchImportError: %s" % (name, e))


x = torch.randn(4, 4)
y = torch.randint(0, 4, (4,))
ce = F.cross_entropy
attempt("sort", Net(lambda t: torch.sort(t, -1).values, 2), ce, (x, y))
attempt("cumsum", Net(lambda t: torch.cumsum(t, -1), 1), ce, (x, y))
attempt("scatter_add", Net(lambda t: t.scatter_add(
    1, torch.zeros_like(t, dtype=torch.long), t), 0), ce, (x, y))


class Dropped(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.lin(x))


attempt("dropout", Dropped(), ce, (x, y))
attempt("loss-op", nn.Linear(4, 4), lambda o, t: torch.cumsum(o, 0).sum(),
        (x, y))
attempt("no parameters", nn.ReLU(), ce, (x, y))
frozen = nn.Linear(4, 4).requires_grad_(False)
attempt("frozen", frozen, ce, (x, y))
attempt("vector loss", nn.Linear(4, 4), lambda o, t: o.sum(1), (x, y))
attempt("float64 batch", nn.Linear(4, 4), ce, (x.double(), y))
attempt("float64 model", nn.Sequential(nn.Linear(4, 4)).double(), ce, (x, y))


class Unused(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.unused = nn.Parameter(torch.zeros(3))

    def forward(self, x):
        return self.lin(x)


attempt("unused parameter", Unused(), ce, (x, y))
attempt("not a module", lambda t: t, ce, (x, y))
attempt("not a tensor", nn.Linear(4, 4), ce, (x, [1, 2]))
attempt("empty batch", nn.Linear(4, 4), ce, ())
attempt("model_inputs", nn.Linear(4, 4), ce, (x, y), model_inputs=3)


class Counter(nn.Module):
    """Reads a buffer after updating it in place."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls.add_(1)
        return self.lin(x) * self.calls


attempt("buffer read after update", Counter(), ce, (x, y))
# Data-dependent sizes (F.one_hot counts the classes) cannot be traced.
attempt("one_hot", Net(lambda t: t * F.one_hot(t.argmax(1), 4), 1), ce,
        (x, y))
attempt("shape mismatch", nn.Sequential(nn.Linear(4, 4), nn.Linear(3, 2)),
        ce, (x, y))
print("done")
