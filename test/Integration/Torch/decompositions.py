# REQUIRES: torch
# mpt's own decompositions (python/mpt/torch_import.py, docs/PyTorch.md),
# run eagerly in float64 against the ATen ops they replace, over the cases
# their arguments allow: nll_loss forward and backward (reductions, class
# weights, ignore_index, unbatched and spatial inputs), max-pool backward
# (stride, padding, dilation, ceil_mode, ties: the first maximum of a window
# takes the gradient, as in PyTorch), avg-pool backward (padding counted or
# not, ceil_mode, divisor_override), adaptive avg-pool backward (windows
# that divide the input and windows that do not, batched and not),
# squeeze.dims and batch-norm in training and eval mode.
# RUN: %venv_python %s | FileCheck %s
# CHECK: PASS nll_loss: 36 cases
# CHECK: PASS max_pool2d backward: 10 cases
# CHECK: PASS avg_pool2d backward: 10 cases
# CHECK: PASS adaptive_avg_pool2d backward: 6 cases
# CHECK: PASS squeeze.dims: 4 cases
# CHECK: PASS native_batch_norm: 4 cases
# CHECK-NOT: FAIL

import sys

import torch

from mpt import torch_import as ti

aten = torch.ops.aten
torch.manual_seed(0)
D = torch.float64
failures = 0


def close(a, b):
    a, b = torch.as_tensor(a, dtype=D), torch.as_tensor(b, dtype=D)
    # NaN where PyTorch gives NaN: a mean over only ignored labels is 0/0.
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-12,
                                                 atol=1e-12, equal_nan=True)


def report(name, results):
    global failures
    bad = [c for c, ok in results if not ok]
    failures += bool(bad)
    print("%s %s: %d cases%s" % ("FAIL" if bad else "PASS", name,
                                 len(results),
                                 "".join("\n  wrong: %s" % (c,)
                                         for c in bad)))


# nll_loss: log-probabilities, labels with the ignored class among them.
results = []
for shape, fwd, bwd in (((6, 5), aten.nll_loss_forward,
                         aten.nll_loss_backward),
                        ((5,), aten.nll_loss_forward,
                         aten.nll_loss_backward),
                        ((3, 5, 2, 4), aten.nll_loss2d_forward,
                         aten.nll_loss2d_backward)):
    x = torch.randn(shape, dtype=D).log_softmax(1 if len(shape) > 1 else 0)
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = torch.randint(0, 5, tshape)
    for weight in (None, torch.rand(5, dtype=D) + 0.5):
        for ignore in (-100, 2):
            for reduction in (0, 1, 2):
                case = (shape, weight is not None, ignore, reduction)
                ref, total = fwd(x, t, weight, reduction, ignore)
                got, got_total = ti._nll_loss_forward(x, t, weight,
                                                      reduction, ignore)
                ok = close(got, ref) and (reduction == 0 or
                                          close(got_total, total))
                g = torch.randn(ref.shape, dtype=D)
                ok = ok and close(
                    ti._nll_loss_backward(g, x, t, weight, reduction,
                                          ignore, total),
                    bwd(g, x, t, weight, reduction, ignore, total))
                results.append((case, ok))
report("nll_loss", results)

# max_pool2d: small integers make ties in every window.
results = []
for shape, k, s, p, d, ceil in (
        ((2, 3, 8, 8), 2, 2, 0, 1, False), ((2, 3, 9, 7), 3, 2, 1, 1, False),
        ((1, 2, 9, 9), 3, 1, 1, 1, False), ((1, 2, 10, 10), 2, 3, 1, 2, False),
        ((1, 2, 9, 9), 2, 2, 0, 1, True), ((1, 1, 8, 11), (3, 2), (2, 1),
                                           (1, 0), 1, True),
        ((3, 8, 8), 2, 2, 0, 1, False), ((1, 1, 7, 7), 3, 3, 1, 1, True),
        ((2, 2, 6, 6), 3, (), 0, 1, False), ((1, 1, 5, 5), 5, 1, 2, 1, False)):
    x = torch.randint(-2, 3, shape).to(D)
    stride = [] if s == () else s
    out, idx = aten.max_pool2d_with_indices(x, k, stride, p, d, ceil)
    g = torch.randn(out.shape, dtype=D)
    ref = aten.max_pool2d_with_indices_backward(g, x, k, stride, p, d, ceil,
                                                idx)
    got = ti._max_pool2d_backward(g, x, k, stride, p, d, ceil, idx)
    results.append(((shape, k, s, p, d, ceil), close(got, ref)))
report("max_pool2d backward", results)

results = []
for shape, k, s, p, ceil, incl, div in (
        ((2, 3, 8, 8), 2, 2, 0, False, True, None),
        ((2, 3, 9, 7), 3, 2, 1, False, True, None),
        ((2, 3, 9, 7), 3, 2, 1, False, False, None),
        ((1, 2, 9, 9), 3, 1, 1, False, False, None),
        ((1, 2, 9, 9), 2, 2, 0, True, True, None),
        ((1, 2, 10, 9), 3, 2, 1, True, False, None),
        ((1, 2, 10, 9), 3, 2, 1, True, True, None),
        ((3, 8, 8), (3, 2), (2, 1), (1, 0), False, True, None),
        ((1, 1, 8, 8), 3, 2, 1, False, True, 4),
        ((2, 2, 6, 6), 3, (), 0, False, True, None)):
    x = torch.randn(shape, dtype=D)
    stride = [] if s == () else s
    out = aten.avg_pool2d(x, k, stride, p, ceil, incl, div)
    g = torch.randn(out.shape, dtype=D)
    ref = aten.avg_pool2d_backward(g, x, k, stride, p, ceil, incl, div)
    got = ti._avg_pool2d_backward(g, x, k, stride, p, ceil, incl, div)
    results.append(((shape, k, s, p, ceil, incl, div), close(got, ref)))
report("avg_pool2d backward", results)

results = []
for shape, out in (((2, 3, 6, 6), (3, 3)), ((2, 3, 5, 7), (3, 2)),
                   ((1, 2, 7, 7), (1, 1)), ((3, 5, 5), (2, 4)),
                   ((1, 1, 9, 4), (4, 4)), ((2, 2, 8, 8), (8, 8))):
    x = torch.randn(shape, dtype=D)
    y = aten._adaptive_avg_pool2d(x, out)
    g = torch.randn(y.shape, dtype=D)
    ref = aten._adaptive_avg_pool2d_backward(g, x)
    got = ti._adaptive_avg_pool2d_backward(g, x)
    results.append(((shape, out), close(got, ref)))
report("adaptive_avg_pool2d backward", results)

results = []
for shape, dims in (((1, 3, 1, 2), [0, 2]), ((1, 3, 1, 2), [1]),
                    ((2, 1), [-1]), ((1,), [0])):
    x = torch.randn(shape, dtype=D)
    results.append(((shape, dims), close(ti._squeeze_dims(x, dims),
                                         aten.squeeze.dims(x, dims))))
report("squeeze.dims", results)

results = []
for shape, training in (((4, 3, 5, 5), True), ((6, 4), True),
                        ((4, 3, 5, 5), False), ((2, 3, 4), True)):
    x = torch.randn(shape, dtype=D)
    c = shape[1]
    w, b = torch.randn(c, dtype=D), torch.randn(c, dtype=D)
    rm, rv = torch.randn(c, dtype=D), torch.rand(c, dtype=D) + 0.5
    ref = aten.native_batch_norm(x, w, b, rm.clone(), rv.clone(), training,
                                 0.1, 1e-5)
    got = ti._native_batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5)
    ok = close(got[0], ref[0]) and (not training or (
        close(got[1], ref[1]) and close(got[2], ref[2])))
    results.append(((shape, training), ok))
report("native_batch_norm", results)
sys.exit(failures)
