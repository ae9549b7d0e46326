"""PyTorch ingress: a `torch.nn.Module` and its loss -> mpt's FP32 training step.

    import mpt
    text = mpt.from_torch(model, torch.nn.functional.cross_entropy, (x, y))

returns MLIR text (linalg, tensor, arith, math on ranked tensors) holding one
public `func.func @step` whose arguments are the trainable parameters
(`mpt.role = "param"`, in `model.named_parameters()` order), the batch
(`"input"`) and the backward seed (`"loss_grad"`, the caller passes 1.0), and
whose results are the scalar loss (`"loss"`) and one gradient per parameter
(`"grad"`, `mpt.grad_of` = the parameter's argument index): the input
contract of docs/Design.md, ready for `mpt-opt --auto-mixed-precision` and
`--mpt-lower-to-cpu`. Buffers and frozen parameters become constants of
the step.

The route (docs/PyTorch.md): `torch.func.functional_call` and
`torch.autograd.grad(loss, params, grad_outputs=(seed,))` in one function,
traced by `make_fx` with torch-mlir's decomposition table plus mpt's own
(below), imported as `torch_mlir.fx.stateless_fx_import(...,
output_type="linalg-on-tensors")` does it: its FX importer here, its
pipelines in a child process (torch-mlir crashes on some ops). torch-mlir
writes no roles; this module writes them on the function's argument and
result attributes.

mpt's own decompositions, each because the default path fails in MLIR 22.1:

- `nll_loss_forward` / `nll_loss_backward` (integer-label cross-entropy):
  the default ones gather and scatter (`tm_tensor.scatter`, which MLIR 22.1
  cannot parse); mpt's compare the labels with `arange(C)` (a one-hot mask)
  and reduce, forward and backward.
- `max_pool2d_with_indices_backward`: default lowering scatters through the
  indices; mpt's recompute the window maximum from strided slices of the
  padded input and route the gradient to the first maximum of each window
  (PyTorch's tie rule) with zero padding and reshapes, no scatter.
- `avg_pool2d_backward`, `_adaptive_avg_pool2d_backward`: not lowered by
  torch-mlir at all; mpt's spread the gradient with pads and reshapes
  (separably per spatial dimension), or with two small matmuls for an
  adaptive window that does not divide the input.
- `native_batch_norm`: without the in-place update of the running
  statistics (a step returns grads, it does not update buffers).
- `squeeze.dims`: a reshape (plain core ATen decompositions leave it).
- Scaled dot-product attention is traced with the MATH backend
  (`torch.nn.attention.sdpa_kernel`), so it becomes matmuls and a softmax.

An op that torch-mlir cannot lower raises `UnsupportedOpError` naming the
ATen op and the module path in the model (e.g. `layers.2.pool`).

Command line: `python -m mpt.torch_import FILE.py -o step.mlir` (see
`--help`), FILE.py defining `model`, `loss_fn` and `example_batch`.
"""

import argparse
import contextlib
import re
import runpy
import sys

__all__ = ["from_torch", "TorchImportError", "UnsupportedOpError",
           "decompositions"]


class TorchImportError(ValueError):
    """The model, loss or batch cannot be made into a training step."""


class UnsupportedOpError(TorchImportError):
    """An ATen op that the route cannot lower: `op` (e.g.
    "aten.max_pool3d_with_indices_backward") and `module_path` (the
    submodule's name in `model.named_modules()`, "" for the model itself,
    None outside any module, e.g. in the loss)."""

    def __init__(self, message, op, module_path):
        super().__init__(message)
        self.op = op
        self.module_path = module_path


def _torch():
    try:
        import torch
    except ImportError as e:
        raise TorchImportError(
            "mpt.from_torch needs torch and torch-mlir: run `make setup` and "
            "use the project's Python environment (.venv/bin/python)") from e
    return torch


# ---------------------------------------------------------------------------
# Decompositions (run under make_fx: the torch calls below are traced).

def _pair(v, default=None):
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        return default
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _pad_dim(t, dim, lo, hi, value=0.0):
    """Pads (or crops, for a negative amount) `t` along `dim`."""
    torch = _torch()
    dim = dim % t.dim()
    if lo < 0:
        t = t.narrow(dim, -lo, t.shape[dim] + lo)
        lo = 0
    if hi < 0:
        t = t.narrow(dim, 0, t.shape[dim] + hi)
        hi = 0
    if lo == 0 and hi == 0:
        return t
    pad = [0, 0] * (t.dim() - dim - 1) + [lo, hi]
    return torch.ops.aten.constant_pad_nd.default(t, pad, value)


def _place(src, dim, offset, step, size):
    """A tensor of `size` along `dim` holding src[k] at offset + step * k and
    zeros elsewhere: a strided scatter written as a pad and a reshape."""
    dim = dim % src.dim()
    n = src.shape[dim]
    if step > 1 and n > 0:
        src = src.unsqueeze(dim + 1)
        src = _pad_dim(src, dim + 1, 0, step - 1)
        src = src.flatten(dim, dim + 1)
    length = src.shape[dim]
    return _pad_dim(src, dim, offset, size - offset - length)


def _window_slice(x, dim, offset, step, count):
    """x[offset : offset + step * (count - 1) + 1 : step] along `dim`."""
    return x.narrow(dim, offset, step * (count - 1) + 1)[
        (slice(None),) * (dim % x.dim()) + (slice(None, None, step),)]


def _nll_parts(self, target, weight, ignore_index):
    """(class mask, per-sample weight): the one-hot mask of the labels over
    the class dimension (1, or 0 for an unbatched input) without gather."""
    torch = _torch()
    cdim = 1 if self.dim() >= 2 else 0
    classes = torch.arange(self.shape[cdim], device=self.device)
    shape = [1] * self.dim()
    shape[cdim] = self.shape[cdim]
    valid = target != ignore_index
    hit = (target.unsqueeze(cdim) == classes.view(shape)) & \
        valid.unsqueeze(cdim)
    if weight is None:
        w = hit.to(self.dtype)
    else:
        w = torch.where(hit, weight.view(shape), 0.0).to(self.dtype)
    return hit, w


def _nll_loss_forward(self, target, weight, reduction, ignore_index):
    torch = _torch()
    cdim = 1 if self.dim() >= 2 else 0
    hit, w = _nll_parts(self, target, weight, ignore_index)
    losses = -(torch.where(hit, self, 0.0) * w).sum(cdim)
    sample_w = w.sum(cdim)
    if reduction == 0:
        return losses, torch.zeros((), dtype=self.dtype)
    total = sample_w.sum()
    if reduction == 1:
        return losses.sum() / total, total
    return losses.sum(), total


def _nll_loss_backward(grad_output, self, target, weight, reduction,
                       ignore_index, total_weight):
    cdim = 1 if self.dim() >= 2 else 0
    torch = _torch()
    hit, w = _nll_parts(self, target, weight, ignore_index)
    g = grad_output
    if reduction == 0:
        g = g.unsqueeze(cdim) if self.dim() >= 2 else g
    elif reduction == 1:
        g = g / total_weight
    # Zero, not 0 * inf, where no label selects (all ignored: PyTorch's 0).
    return torch.where(hit, -w * g, 0.0)


def _pool_geometry(x, grad_output, kernel_size, stride, padding,
                   dilation=(1, 1)):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride, (kh, kw))
    ph, pw = _pair(padding, (0, 0))
    dh, dw = _pair(dilation, (1, 1))
    oh, ow = grad_output.shape[-2], grad_output.shape[-1]
    h, w = x.shape[-2], x.shape[-1]
    # The extent the windows cover (ceil_mode may reach past the padding).
    eh = max(h + 2 * ph, (oh - 1) * sh + (kh - 1) * dh + 1)
    ew = max(w + 2 * pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), (h, w), (eh, ew)


def _max_pool2d_backward(grad_output, self, kernel_size, stride, padding,
                         dilation, ceil_mode, indices):
    torch = _torch()
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), (h, w), (eh, ew) = \
        _pool_geometry(self, grad_output, kernel_size, stride, padding,
                       dilation)
    neg = float("-inf")
    xp = _pad_dim(_pad_dim(self, -2, ph, eh - h - ph, neg), -1, pw,
                  ew - w - pw, neg)
    slices = [[_window_slice(_window_slice(xp, -2, i * dh, sh, oh), -1,
                             j * dw, sw, ow) for j in range(kw)]
              for i in range(kh)]
    best = None
    for row in slices:
        for s in row:
            best = s if best is None else torch.maximum(best, s)
    taken = None
    grad = None
    for i in range(kh):
        for j in range(kw):
            hit = slices[i][j] == best
            if taken is not None:
                hit = hit & ~taken
            taken = hit if taken is None else taken | hit
            part = torch.where(hit, grad_output, 0.0)
            part = _place(_place(part, -2, i * dh, sh, eh), -1, j * dw, sw,
                          ew)
            grad = part if grad is None else grad + part
    return _pad_dim(_pad_dim(grad, -2, -ph, h + ph - eh), -1, -pw,
                    w + pw - ew)


def _window_counts(n_out, k, s, p, size, extent, include_pad):
    """How many elements each window along one dimension averages."""
    counts = []
    for o in range(n_out):
        start = o * s - p
        end = min(start + k, size + p)
        if not include_pad:
            start, end = max(start, 0), min(end, size)
        counts.append(end - start)
    return counts


def _as_column(values, dim, like):
    """A tensor holding `values` along `dim` (size 1 elsewhere)."""
    torch = _torch()
    if len(set(values)) == 1:
        return float(values[0])
    parts = [torch.full((1,), float(v), dtype=like.dtype) for v in values]
    col = torch.cat(parts)
    shape = [1] * like.dim()
    shape[dim % like.dim()] = len(values)
    return col.view(shape)


def _avg_pool2d_backward(grad_output, self, kernel_size, stride, padding,
                         ceil_mode, count_include_pad, divisor_override):
    (kh, kw), (sh, sw), (ph, pw), _, (oh, ow), (h, w), (eh, ew) = \
        _pool_geometry(self, grad_output, kernel_size, stride, padding)
    g = grad_output
    if divisor_override:
        g = g / float(divisor_override)
    else:
        g = g / _as_column(_window_counts(oh, kh, sh, ph, h, eh,
                                          count_include_pad), -2, g)
        g = g / _as_column(_window_counts(ow, kw, sw, pw, w, ew,
                                          count_include_pad), -1, g)
    return _spread(g, (kh, kw), (sh, sw), (ph, pw), (h, w), (eh, ew))


def _spread(g, kernel, stride, padding, size, extent):
    """Adds each window's gradient to every element of the window, one
    spatial dimension after the other (a window is a rectangle)."""
    for dim, k, s, p, n, e in ((-1, kernel[1], stride[1], padding[1],
                                size[1], extent[1]),
                               (-2, kernel[0], stride[0], padding[0],
                                size[0], extent[0])):
        total = None
        for i in range(k):
            part = _place(g, dim, i, s, e)
            total = part if total is None else total + part
        g = _pad_dim(total, dim, -p, n + p - e)
    return g


def _adaptive_avg_pool2d_backward(grad_output, self):
    torch = _torch()
    h, w = self.shape[-2], self.shape[-1]
    oh, ow = grad_output.shape[-2], grad_output.shape[-1]
    if h % oh == 0 and w % ow == 0:
        # Equal windows: an average pool of kernel = stride = size / out.
        k = (h // oh, w // ow)
        g = grad_output / float(k[0] * k[1])
        return _spread(g, k, k, (0, 0), (h, w), (h, w))
    # Windows of unequal size: grad = P_h^T @ g @ P_w with P[o, i] =
    # 1 / |window o| where i lies in window o (PyTorch's floor/ceil bounds).
    def matrix(n_out, n_in):
        rows = []
        for o in range(n_out):
            start = (o * n_in) // n_out
            end = -((-(o + 1) * n_in) // n_out)
            row = torch.full((1, end - start), 1.0 / (end - start),
                             dtype=grad_output.dtype)
            rows.append(_pad_dim(row, 1, start, n_in - end))
        return torch.cat(rows, 0)
    g = torch.matmul(matrix(oh, h).t(), grad_output)
    return torch.matmul(g, matrix(ow, w))


def _native_batch_norm(input, weight, bias, running_mean, running_var,
                       training, momentum, eps):
    """Batch-norm without the in-place update of the running statistics
    (a step is a function: it returns grads, not new buffers)."""
    torch = _torch()
    shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
    if training or running_mean is None:
        dims = [0] + list(range(2, input.dim()))
        mean = input.mean(dims)
        var = (input - mean.view(shape)).square().mean(dims)
    else:
        mean, var = running_mean, running_var
    invstd = torch.rsqrt(var + eps)
    out = (input - mean.view(shape)) * invstd.view(shape)
    if weight is not None:
        out = out * weight.view(shape)
    if bias is not None:
        out = out + bias.view(shape)
    if not training:
        empty = input.new_zeros((0,))
        return out, empty, empty
    return out, mean, invstd


def _squeeze_dims(self, dims):
    if isinstance(dims, int):
        dims = [dims]
    drop = {d % max(self.dim(), 1) for d in dims if self.shape[d] == 1}
    shape = [s for i, s in enumerate(self.shape) if i not in drop]
    return self.view(shape)


def decompositions():
    """mpt's decompositions: {ATen overload: function} (module docstring)."""
    aten = _torch().ops.aten
    return {
        aten.nll_loss_forward.default: _nll_loss_forward,
        aten.nll_loss2d_forward.default: _nll_loss_forward,
        aten.nll_loss_backward.default: _nll_loss_backward,
        aten.nll_loss2d_backward.default: _nll_loss_backward,
        aten.max_pool2d_with_indices_backward.default: _max_pool2d_backward,
        aten.avg_pool2d_backward.default: _avg_pool2d_backward,
        aten._adaptive_avg_pool2d_backward.default:
            _adaptive_avg_pool2d_backward,
        aten.squeeze.dims: _squeeze_dims,
        aten.native_batch_norm.default: _native_batch_norm,
    }


def _decomposition_table():
    from torch_mlir.extras.fx_decomp_util import get_decomposition_table
    table = dict(get_decomposition_table())
    table.update(decompositions())
    return table


# ---------------------------------------------------------------------------
# Tracing with module paths.

_NODE_FILE = "mpt-node:"
# Ops that draw random numbers: a step with them is not a function of its
# arguments (dropout in training mode).
_RANDOM = re.compile(r"bernoulli|rand|native_dropout|normal|uniform|"
                     r"multinomial|exponential|poisson")


@contextlib.contextmanager
def _module_paths(model):
    """Records the path of the innermost running submodule in the FX node
    metadata ("nn_module_stack", which make_fx copies onto every node): in
    the forward by module hooks, in the backward by hooks on the autograd
    nodes that each module's forward created (marked when it returns, inner
    modules first), which set the path while the engine runs them."""
    import torch
    import torch.fx.traceback as fxt
    stack, marked = [], set()

    def publish(kind="forward"):
        fxt.current_meta["nn_module_stack"] = {p: (p, kind) for p in stack}

    def pre(mod, args, path):
        stack.append(path)
        publish()

    def enter(path, fn_name):
        stack[:] = [path]
        publish("backward " + fn_name)

    def leave():
        stack[:] = []
        publish()

    def mark(out, path):
        todo = [t.grad_fn for t in torch.utils._pytree.tree_leaves(out)
                if isinstance(t, torch.Tensor) and t.grad_fn is not None]
        while todo:
            fn = todo.pop()
            if fn is None or fn in marked or \
                    type(fn).__name__ == "AccumulateGrad":
                continue
            marked.add(fn)
            fn.register_prehook(
                lambda grads, path=path, name=type(fn).__name__:
                enter(path, name))
            fn.register_hook(lambda gin, gout: leave())
            todo.extend(f for f, _ in fn.next_functions)

    def post(mod, args, out, path):
        mark(out, path)
        if stack and stack[-1] == path:
            stack.pop()
        publish()

    handles = []
    for path, mod in model.named_modules():
        handles.append(mod.register_forward_pre_hook(
            lambda m, a, path=path: pre(m, a, path)))
        handles.append(mod.register_forward_hook(
            lambda m, a, o, path=path: post(m, a, o, path)))
    try:
        with fxt.preserve_node_meta():
            yield stack
    finally:
        for h in handles:
            h.remove()
        fxt.current_meta.pop("nn_module_stack", None)


def _op_name(target):
    name = str(target)
    return name[:-len(".default")] if name.endswith(".default") else name


def _node_module(node):
    """(module path or None, "forward" or "backward") of an FX node."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return None, "forward"
    return list(stack.values())[-1]


def _describe(op, where):
    path, kind = where
    place = ("in module '%s'" % path if path else
             "in the model's own forward" if path == "" else
             "outside the model's modules (in the loss function?)")
    if kind.startswith("backward"):
        place += " (in the backward of its %s)" % kind.split()[-1]
    return "ATen op '%s' %s" % (op, place)


def _unsupported(gm, node_name, detail):
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    node = next((n for n in nodes if n.name == node_name), None)
    op = _op_name(node.target) if node is not None else "?"
    where = _node_module(node) if node is not None else (None, "forward")
    message = "%s cannot be lowered to linalg by torch-mlir: %s" % (
        _describe(op, where), detail)
    return UnsupportedOpError(message, op, where[0])


# ---------------------------------------------------------------------------
# The public entry point.

def _as_tuple(batch):
    if isinstance(batch, (list, tuple)):
        return tuple(batch)
    return (batch,)


def _check_arguments(torch, model, loss_fn, batch, model_inputs):
    if not isinstance(model, torch.nn.Module):
        raise TorchImportError("model must be a torch.nn.Module, got %s" %
                               type(model).__name__)
    if not batch:
        raise TorchImportError("example_batch is empty")
    for i, t in enumerate(batch):
        if not isinstance(t, torch.Tensor):
            raise TorchImportError(
                "example_batch[%d] is a %s, not a torch.Tensor" %
                (i, type(t).__name__))
        if t.is_floating_point() and t.dtype != torch.float32:
            raise TorchImportError(
                "example_batch[%d] is %s: the FP32 step takes float32 "
                "tensors (mpt makes the 16-bit forms itself)" % (i, t.dtype))
    if model_inputs is None:
        model_inputs = len(batch) if loss_fn is None else max(
            len(batch) - 1, 1)
    if not 0 < model_inputs <= len(batch):
        raise TorchImportError("model_inputs=%d does not fit a batch of %d "
                               "tensors" % (model_inputs, len(batch)))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise TorchImportError(
            "the model has no trainable parameters (no parameter with "
            "requires_grad=True): a training step needs at least one")
    for n, p in params:
        if p.dtype != torch.float32:
            raise TorchImportError(
                "parameter '%s' is %s: the FP32 step needs float32 "
                "parameters (call model.float())" % (n, p.dtype))
    return params, model_inputs


def _trace(torch, model, loss_fn, batch, params, model_inputs):
    from torch.fx.experimental.proxy_tensor import make_fx
    from torch.nn.attention import SDPBackend, sdpa_kernel
    names = [n for n, _ in params]

    def step(weights, data, seed):
        out = torch.func.functional_call(model, dict(zip(names, weights)),
                                         tuple(data[:model_inputs]))
        loss = out if loss_fn is None else loss_fn(out,
                                                   *data[model_inputs:])
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise TorchImportError(
                "the loss must be a scalar tensor, got %s" % (
                    "shape %s" % list(loss.shape)
                    if isinstance(loss, torch.Tensor)
                    else type(loss).__name__))
        if loss.dtype != torch.float32:
            raise TorchImportError("the loss is %s, not float32" %
                                   loss.dtype)
        grads = torch.autograd.grad(loss, weights, grad_outputs=(seed,),
                                    allow_unused=True)
        unused = [n for n, g in zip(names, grads) if g is None]
        if unused:
            raise TorchImportError(
                "the loss does not depend on parameter(s) %s: freeze them "
                "(requires_grad=False) or use them" % ", ".join(unused))
        return (loss,) + tuple(grads)

    weights = [p.detach().clone().requires_grad_(True) for _, p in params]
    seed = torch.ones((), dtype=torch.float32)
    was_training = model.training
    model.train()
    try:
        with _module_paths(model) as stack, sdpa_kernel([SDPBackend.MATH]):
            try:
                gm = make_fx(step,
                             decomposition_table=_decomposition_table())(
                    weights, list(batch), seed)
            except TorchImportError:
                raise
            except Exception as e:
                # Data-dependent control flow or sizes (F.one_hot, .item()),
                # an op without a meta kernel, a bad call in the model.
                where = ("in module '%s'" % stack[-1] if stack and stack[-1]
                         else "in the model's own forward" if stack else
                         "outside the model's modules")
                first = (str(e).strip().splitlines() or [""])[0]
                raise TorchImportError(
                    "tracing the step failed %s: %s: %s" % (
                        where, type(e).__name__, first)) from e
    finally:
        model.train(was_training)
    gm.graph.eliminate_dead_code()
    gm.recompile()
    return gm


def _check_graph(gm):
    nodes = [n for n in gm.graph.nodes if n.op == "call_function"]
    for n in nodes:
        op = _op_name(n.target)
        packet = getattr(getattr(n.target, "_overloadpacket", None),
                         "__name__", "")
        if _RANDOM.search(packet):
            where = _node_module(n)
            raise UnsupportedOpError(
                "%s draws random numbers: a training step must be a function "
                "of its arguments (set dropout to 0 or call .eval() on that "
                "module)" % _describe(op, where), op, where[0])
    _drop_buffer_updates(gm, nodes)
    for n in gm.graph.nodes:
        # A location naming the node: torch-mlir's diagnostics and the ops
        # it emits then tell which FX node they come from.
        if n.op == "call_function":
            n.meta["stack_trace"] = 'File "%s%s", line 1, in step' % (
                _NODE_FILE, n.name)


def _is_inplace(node):
    packet = getattr(node.target, "_overloadpacket", None)
    name = getattr(packet, "__name__", "")
    return name.endswith("_") and not name.endswith("__")


def _drop_buffer_updates(gm, nodes):
    """Buffers and frozen parameters are captured as constants (get_attr);
    in-place updates of them whose result nothing reads (batch-norm's
    num_batches_tracked += 1) are dropped: the step does not update buffers.
    A buffer read after an in-place update is an error."""
    for n in reversed(nodes):
        if _is_inplace(n) and n.args and getattr(n.args[0], "op", "") == \
                "get_attr":
            buf = n.args[0]
            later = [u for u in buf.users if u is not n and
                     _after(n, u)]
            if n.users or later:
                where = _node_module(n)
                raise UnsupportedOpError(
                    "%s updates a buffer in place that the step then reads; "
                    "mpt's steps do not update buffers" % _describe(
                        _op_name(n.target), where), _op_name(n.target),
                    where[0])
            gm.graph.erase_node(n)
    gm.graph.eliminate_dead_code()
    gm.recompile()


def _after(a, b):
    """Whether node b comes after node a in the graph."""
    node = a.next
    while node.op != "root":
        if node is b:
            return True
        node = node.next
    return False


# torch-mlir's lowering runs in a child process: it crashes (SIGSEGV) on some
# ops (aten.sort), and a crash must become an error naming the op.
_PIPELINES = (
    "builtin.module(func.func(torch-match-quantized-custom-ops), "
    "torchdynamo-export-to-torch-backend-pipeline{ extra-library=})",
    "builtin.module(torch-backend-to-linalg-on-tensors-backend-pipeline"
    "{allow-non-finites=True})",
)
_CHILD = r"""
import sys
from torch_mlir import ir, passmanager
from torch_mlir.dialects import torch as torch_d

def lower(asm):
    ctx = ir.Context()
    torch_d.register_dialect(ctx)
    with ctx:
        ctx.emit_error_diagnostics = True
        module = ir.Module.parse(asm)
        for pipeline in sys.argv[2:]:
            passmanager.PassManager.parse(pipeline).run(module.operation)
    return module

text = sys.stdin.read()
if sys.argv[1] == "step":
    try:
        module = lower(text)
    except Exception as e:
        sys.stderr.write("mpt-lowering-failed: %s\n" % e)
        sys.exit(1)
    sys.stdout.write(module.operation.get_asm(enable_debug_info=True))
else:
    for chunk in text.split("// mpt-probe ")[1:]:
        name, asm = chunk.split("\n", 1)
        print("probe " + name, flush=True)
        try:
            lower(asm)
        except Exception:
            print("failed " + name, flush=True)
"""


def _run_child(mode, text):
    import subprocess
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode] + list(_PIPELINES),
        input=text, capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def _raw_asm(graph, func_name="step"):
    from torch_mlir import ir
    from torch_mlir.dialects import torch as torch_d
    from torch_mlir.extras.fx_importer import FxImporter
    ctx = ir.Context()
    torch_d.register_dialect(ctx)
    importer = FxImporter(context=ctx)
    importer.import_stateless_graph(graph, func_name=func_name)
    return importer.module.operation.get_asm(enable_debug_info=True)


def _import(gm, func_name):
    rc, out, err = _run_child("step", _raw_asm(gm.graph, func_name))
    if rc < 0:
        raise _crash_culprit(gm, -rc)
    if rc != 0:
        m = re.search(r'%s([\w.]+)":1:0\)?:\s*error:\s*([^\n]*)' %
                      re.escape(_NODE_FILE), err)
        if m:
            raise _unsupported(gm, m.group(1), m.group(2))
        raise TorchImportError("torch-mlir could not lower the step:\n" +
                               err.strip())
    # Ops MLIR 22.1 cannot parse (torch-mlir's own TMTensor dialect).
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r'(tm_tensor\.(?!yield)\w+)', line)
        if m:
            raise _unsupported(gm, _op_loc_node(out, lines, i),
                               "it lowers to %s, which MLIR 22.1 cannot "
                               "parse" % m.group(1))
    return out


def _op_loc_node(asm, lines, i):
    """The FX node of the op printed at lines[i]: its location is at the
    end of that line, or of the line closing its regions."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    for line in lines[i:]:
        if line is lines[i] or (line.startswith(" " * indent + "}") and
                                len(line) - len(line.lstrip()) == indent):
            m = re.search(r'loc\((#loc\d*)\)\s*$', line)
            if m:
                return _loc_node(asm, m.group(1))
            if line is not lines[i]:
                return None
    return None


def _crash_culprit(gm, signal):
    """Lowers each kind of op of the step alone, in one child process, to
    find the one torch-mlir crashes on."""
    import torch.fx as fx
    probes, seen = [], set()
    for node in gm.graph.nodes:
        if node.op != "call_function" or node.target in seen:
            continue
        seen.add(node.target)
        g = fx.Graph()
        env = {}
        for arg in node.all_input_nodes:
            env[arg] = g.placeholder(arg.name)
            env[arg].meta = dict(arg.meta)
        copy = g.node_copy(node, lambda a: env[a])
        g.output(copy)
        try:
            probes.append((node.name, _raw_asm(g, "probe")))
        except Exception:  # the importer refuses it: that names it too
            probes.append((node.name, "this is not MLIR"))
    rc, out, _ = _run_child("probe", "".join(
        "// mpt-probe %s\n%s\n" % p for p in probes))
    lines = out.split()
    failed = [lines[i + 1] for i in range(len(lines) - 1)
              if lines[i] in ("probe", "failed")]
    culprit = failed[-1] if failed and rc < 0 else None
    if culprit is None:
        return TorchImportError("torch-mlir crashed (signal %d) lowering the "
                                "step" % signal)
    return _unsupported(gm, culprit, "torch-mlir crashes on it (signal %d)"
                        % signal)


def _loc_node(asm, alias):
    """The FX node name behind a location alias of the printed module."""
    m = re.search(r'^%s = loc\((.*)\)$' % re.escape(alias), asm, re.M)
    text = m.group(1) if m else ""
    found = re.search(r'%s([\w.]+)"' % re.escape(_NODE_FILE), text)
    if found:
        return found.group(1)
    for ref in re.findall(r'#loc\d*', text):
        name = _loc_node(asm, ref)
        if name:
            return name
    return None


def _write_roles(asm, func_name, n_params, n_batch):
    from torch_mlir import ir
    from torch_mlir.dialects import torch as torch_d
    ctx = ir.Context()
    torch_d.register_dialect(ctx)
    with ctx:
        module = ir.Module.parse(asm)
        func = next(op for op in module.body.operations
                    if op.operation.name == "func.func" and
                    ir.StringAttr(op.attributes["sym_name"]).value ==
                    func_name)

        def role(name, **extra):
            attrs = {"mpt.role": ir.StringAttr.get(name)}
            for k, v in extra.items():
                attrs["mpt." + k] = ir.IntegerAttr.get(
                    ir.IntegerType.get_signless(64), v)
            return ir.DictAttr.get(attrs)

        args = [role("param")] * n_params + [role("input")] * n_batch + \
            [role("loss_grad")]
        results = [role("loss")] + [role("grad", grad_of=i)
                                    for i in range(n_params)]
        func.attributes["arg_attrs"] = ir.ArrayAttr.get(args)
        func.attributes["res_attrs"] = ir.ArrayAttr.get(results)
        return module.operation.get_asm(enable_debug_info=False)


def from_torch(model, loss_fn, example_batch, *, model_inputs=None,
               func_name="step"):
    """The FP32 training step of `model` as MLIR text with mpt's roles.

    `example_batch`: a tensor or a tuple of tensors (float32, or integer
    labels); the first `model_inputs` of them (default: all but the last
    when there is a loss_fn, else all) go to `model(...)`, the rest to
    `loss_fn(output, *rest)`, which returns a scalar float32 loss. With
    `loss_fn=None` the model returns the loss itself. Shapes are fixed by the
    example batch. The step's arguments: the trainable parameters in
    `named_parameters()` order, the batch tensors, the seed; its results:
    the loss and one gradient per parameter. The model is traced in
    training mode (batch-norm uses batch statistics; its running statistics
    are not updated by the step).

    Raises TorchImportError (bad model, loss or batch) or
    UnsupportedOpError (an op that cannot be lowered: names the op and the
    module path)."""
    torch = _torch()
    batch = _as_tuple(example_batch)
    params, model_inputs = _check_arguments(torch, model, loss_fn, batch,
                                            model_inputs)
    gm = _trace(torch, model, loss_fn, batch, params, model_inputs)
    _check_graph(gm)
    asm = _import(gm, func_name)
    return _write_roles(asm, func_name, len(params), len(batch))


def parameter_arrays(model):
    """The trainable parameters as float32 numpy arrays, in the order of the
    step's `param` arguments."""
    return [p.detach().cpu().numpy().astype("float32")
            for _, p in model.named_parameters() if p.requires_grad]


# ---------------------------------------------------------------------------
# mpt-import-torch

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="mpt-import-torch",
        description="Export a PyTorch model's FP32 training step (forward, "
        "loss and backward) as MLIR with mpt's roles, through torch-mlir. "
        "FILE is a Python file that defines `model` (a torch.nn.Module), "
        "`loss_fn` (loss_fn(output, *targets) -> scalar, or None when the "
        "model returns the loss) and `example_batch` (a tuple of tensors); "
        "optionally `model_inputs` (how many batch tensors go to the "
        "model).")
    parser.add_argument("file", metavar="FILE", help="the model definition")
    parser.add_argument("-o", "--output", default="-",
                        help="where to write the .mlir (default: stdout)")
    parser.add_argument("--func-name", default="step",
                        help="name of the step function (default: step)")
    args = parser.parse_args(argv)
    try:
        ns = runpy.run_path(args.file, run_name="mpt_import_torch")
    except OSError as e:
        parser.error("cannot read %s: %s" % (args.file, e))
    missing = [k for k in ("model", "loss_fn", "example_batch")
               if k not in ns]
    if missing:
        print("mpt-import-torch: error: %s defines no %s" % (
            args.file, ", ".join(missing)), file=sys.stderr)
        return 1
    try:
        text = from_torch(ns["model"], ns["loss_fn"], ns["example_batch"],
                          model_inputs=ns.get("model_inputs"),
                          func_name=args.func_name)
    except TorchImportError as e:
        print("mpt-import-torch: error: %s" % e, file=sys.stderr)
        return 1
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
