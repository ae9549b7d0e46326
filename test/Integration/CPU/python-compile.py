# mpt.compile and mpt.Step (python/mpt/step.py, docs/Python.md): a generated
# MLP step compiled FP32, f16 with dynamic loss scaling, bf16 and with
# optimizers, its numbers against a float64 numpy reference within budgets
# derived from the format; names from SSA names and locations; calls by
# position and by name; the content-hash cache; errors that name the
# argument.
# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s | FileCheck %s

import os
import re
import subprocess
import sys

import numpy as np

import mpt
from mpt import gen

# Normwise budgets in units of u (as mpt.testing.ampcheck): a grad meets ~4
# roundings per layer on its longest path, and relative error grows through
# the softmax backward at small sizes.
U = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}
FACTOR = 64
BATCH, WIDTHS = 4, [6, 8, 5]
TEXT, _ = gen.generate("mlp", batch=BATCH, widths=WIDTHS)


def normwise(got, want):
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) /
                 max(np.linalg.norm(want), 1e-30))


def reference(x, labels, params):
    """float64 loss and grads of mpt.gen's MLP: Linear + ReLU layers, the
    last without ReLU, mean softmax cross-entropy."""
    x = x.astype(np.float64)
    ws = [p.astype(np.float64) for p in params]
    hs, zs = [x], []
    for i in range(0, len(ws), 2):
        z = hs[-1] @ ws[i] + ws[i + 1]
        zs.append(z)
        hs.append(np.maximum(z, 0) if i + 2 < len(ws) else z)
    z = zs[-1]
    zc = z - z.max(1, keepdims=True)
    e = np.exp(zc)
    s = e.sum(1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - (labels * zc).sum(1))
    dz = (e / s - labels) / x.shape[0]
    grads = []
    for i in reversed(range(0, len(ws), 2)):
        grads = [hs[i // 2].T @ dz, dz.sum(0)] + grads
        if i:
            dz = (dz @ ws[i].T) * (zs[i // 2 - 1] > 0)
    return loss, grads


rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, WIDTHS[0])).astype(np.float32)
LABELS = np.eye(WIDTHS[-1], dtype=np.float32)[rng.integers(0, WIDTHS[-1],
                                                           BATCH)]
PARAMS = [(rng.standard_normal(s) * 0.5).astype(np.float32) for s in
          [(6, 8), (8,), (8, 5), (5,)]]
NAMES = ["w0", "b0", "w1", "b1"]
REF_LOSS, REF_GRADS = reference(X, LABELS, PARAMS)
FEED = dict(zip(NAMES, PARAMS), x=X, labels=LABELS)


def check_grads(out, fmt, what):
    worst = normwise(out.loss, REF_LOSS)
    for n, g in zip(NAMES, REF_GRADS):
        worst = max(worst, normwise(out["grad_" + n], g))
    budget = FACTOR * U[fmt]
    assert 0 <= worst <= budget, (what, worst, budget)
    print("PASS %s: worst normwise error %.2f u (budget %d u)" % (
        what, worst / U[fmt], FACTOR))
    return worst


# --- FP32: names, roles, by position and by name.
fp32 = mpt.compile(TEXT)
assert fp32.params == tuple(NAMES), fp32.params
assert fp32.inputs == ("x", "labels") and fp32.state == ()
assert fp32.loss_grad == "seed"
assert [r.name for r in fp32.results] == ["loss"] + ["grad_" + n
                                                     for n in NAMES]
assert fp32.pipeline == ["--mpt-lower-to-cpu"], fp32.pipeline
out = fp32(**FEED)  # the seed defaults to 1.0
check_grads(out, "f32", "fp32")
# CHECK: PASS fp32
positional = fp32(X, LABELS, *PARAMS, np.float32(1.0))
mixed = fp32(X, LABELS, w1=PARAMS[2], b1=PARAMS[3], w0=PARAMS[0],
             b0=PARAMS[1], seed=1.0)
for other in (positional, mixed):
    assert list(other) == list(out)
    for k in out:
        assert np.array_equal(other[k], out[k]), k
assert out.loss is out["loss"] and out.loss.shape == ()
# The seed scales the grads (linear in the seed).
half = fp32(**FEED, seed=np.float32(0.5))
assert np.allclose(half.grad_w0, 0.5 * out.grad_w0, rtol=1e-6)
print("PASS by position, by name, mixed")
# CHECK: PASS by position, by name, mixed

# --- f16 with dynamic loss scaling: state in and out, grads unscaled.
f16 = mpt.compile(TEXT, amp="f16", loss_scaling=mpt.LossScaling(
    "dynamic", init_scale=1024.0, growth_interval=2, hysteresis=2))
assert f16.pipeline == [
    "--auto-mixed-precision=dtype=f16 loss-scaling=dynamic "
    "init-scale=1024.0 growth-interval=2 hysteresis=2",
    "--mpt-lower-to-cpu"], f16.pipeline
assert f16.state == ("loss_scale", "growth_tracker", "hysteresis")
init = f16.init_state()
assert (float(init["loss_scale"]), int(init["growth_tracker"]),
        int(init["hysteresis"])) == (1024.0, 0, 2), init
assert init["growth_tracker"].dtype == np.int32
out = f16(**FEED, **init)
assert list(out)[5:] == ["found_inf", "loss_scale", "growth_tracker",
                         "hysteresis"], list(out)
assert not out.found_inf and float(out.loss_scale) == 1024.0
assert int(out.growth_tracker) == 1 and int(out.hysteresis) == 2
err16 = check_grads(out, "f16", "f16 dynamic")
assert err16 > 4 * U["f32"], "no 16-bit arithmetic ran"
# CHECK: PASS f16 dynamic
# A second finite step grows the scale (growth interval 2).
out2 = f16(**FEED, loss_scale=out.loss_scale,
           growth_tracker=out.growth_tracker, hysteresis=out.hysteresis)
assert float(out2.loss_scale) == 2048.0 and int(out2.growth_tracker) == 0

# --- bf16 (no loss scaling by default).
bf16 = mpt.compile(TEXT, amp="bf16")
assert bf16.state == () and "found_inf" not in [r.name
                                                 for r in bf16.results]
err = check_grads(bf16(**FEED), "bf16", "bf16")
assert err > 4 * U["f32"], "no 16-bit arithmetic ran"
# CHECK: PASS bf16

# --- f16 + SGD: the update form, by name; p_out = p - lr * g.
LR = 0.5
sgd = mpt.compile(TEXT, amp="f16", optimizer={"kind": "sgd", "lr": LR},
                  loss_scaling={"mode": "dynamic", "init_scale": 256.0})
assert sgd.updates == {"loss_scale": "loss_scale",
                       "growth_tracker": "growth_tracker",
                       "hysteresis": "hysteresis", "w0": "w0", "b0": "b0",
                       "w1": "w1", "b1": "b1"}, sgd.updates
out = sgd(**FEED, **sgd.init_state())
assert not out.found_inf
worst = 0.0
for n, p, g in zip(NAMES, PARAMS, REF_GRADS):
    step_taken = (p.astype(np.float64) - out[n]) / LR
    worst = max(worst, normwise(step_taken, g))
assert worst <= FACTOR * U["f16"], worst
print("PASS f16 sgd: update within %.2f u" % (worst / U["f16"]))
# CHECK: PASS f16 sgd

# --- FP32 + Adam over two steps, state fed back by name, against numpy.
adam = mpt.compile(TEXT, optimizer=mpt.Optimizer("adam", lr=0.01,
                                                 weight_decay=0.1))
assert adam.state == tuple(
    [s for n in NAMES for s in (n + "_m", n + "_v")] + ["adam_t"]), \
    adam.state
args = dict(FEED, **adam.init_state())
ref_p = [p.astype(np.float64) for p in PARAMS]
ref_m = [np.zeros_like(p) for p in ref_p]
ref_v = [np.zeros_like(p) for p in ref_p]
b1, b2, eps, wd, lr = 0.9, 0.999, 1e-8, 0.1, 0.01
for t in (1, 2):
    out = adam(**args)
    for k, v in out.items():
        if k in adam.updates:
            args[adam.updates[k]] = v
    _, grads = reference(X, LABELS, ref_p)
    for i in range(len(ref_p)):
        g = grads[i] + wd * ref_p[i]
        ref_m[i] = b1 * ref_m[i] + (1 - b1) * g
        ref_v[i] = b2 * ref_v[i] + (1 - b2) * g * g
        ref_p[i] = ref_p[i] - (lr / (1 - b1 ** t)) * ref_m[i] / (
            np.sqrt(ref_v[i]) / np.sqrt(1 - b2 ** t) + eps)
assert float(args["adam_t"]) == 2.0
worst = max(normwise(args[n], p) for n, p in zip(NAMES, ref_p))
assert worst <= FACTOR * U["f32"], worst
print("PASS fp32 adam: two steps within %.2f u of f32" % (worst / U["f32"]))
# CHECK: PASS fp32 adam

# --- pipeline= runs the caller's mpt-opt arguments instead.
custom = mpt.compile(TEXT, pipeline="--auto-mixed-precision=dtype=f16 "
                     "init-scale=512 hysteresis=3")
assert custom.pipeline == ["--auto-mixed-precision=dtype=f16 init-scale=512 "
                           "hysteresis=3", "--mpt-lower-to-cpu"]
assert float(custom.init_state()["loss_scale"]) == 512.0
assert int(custom.init_state()["hysteresis"]) == 3

# --- the cache: same inputs hit (in this process and another), other
# options miss, cache=False builds in a fresh directory.
again = mpt.compile(TEXT, amp="f16", loss_scaling=mpt.LossScaling(
    "dynamic", init_scale=1024.0, growth_interval=2, hysteresis=2))
assert again.cache_hit and not f16.cache_hit and again.path == f16.path
assert again.path.startswith(os.environ["MPT_CACHE_DIR"])
assert mpt.cache_dir() == os.environ["MPT_CACHE_DIR"]
got = again(**FEED, **init)
assert np.array_equal(got.grad_w0, f16(**FEED, **init).grad_w0)
child = subprocess.run([sys.executable, "-c", (
    "import mpt, sys\n"
    "s = mpt.compile(sys.argv[1], amp='bf16')\n"
    "print(s.cache_hit, s.path)"), TEXT], capture_output=True, text=True,
    check=True).stdout.split()
assert child == ["True", bf16.path], child
other = mpt.compile(TEXT, amp="bf16", amp_options={"keep_io_types": True})
assert not other.cache_hit and other.path != bf16.path
fresh = mpt.compile(TEXT, amp="bf16", cache=False)
assert not fresh.cache_hit and not fresh.path.startswith(
    os.environ["MPT_CACHE_DIR"])
entries = [d for d in os.listdir(os.environ["MPT_CACHE_DIR"])
           if not d.startswith(".")]
assert len(entries) == 7, entries  # fp32 f16 bf16 sgd adam custom other
print("PASS cache: hit %s" % os.path.basename(again.path)[:8])
# CHECK: PASS cache: hit cpu-

# --- a path, names from locations and SSA names, entry=.
named = re.sub(r"%x\b", "%arg0", TEXT)
named = named.replace('%arg0: tensor<4x6xf32> {mpt.role = "input"}',
                      '%arg0: tensor<4x6xf32> {mpt.role = "input"} '
                      'loc("features")')
named = named.replace('%labels: tensor<4x5xf32> {mpt.role = "input"}',
                      '%labels: tensor<4x5xf32> {mpt.role = "input"} '
                      'loc(#lbl)')
named = re.sub(r"%w1\b", "%arg4", named)
named = named.replace("func.func @step(", "func.func @train(")
named += '\n#lbl = loc("targets")\n'
path = os.path.join(os.path.dirname(os.environ["MPT_CACHE_DIR"]),
                    "named.mlir")
with open(path, "w") as f:
    f.write(named + "func.func @other(%a: tensor<f32>) -> tensor<f32> {\n"
            "  return %a : tensor<f32>\n}\n")
try:
    mpt.compile(path)
    raise AssertionError("two public functions, no entry")
except ValueError as e:
    assert "entry=" in str(e) and "train, other" in str(e), e
s = mpt.compile(path, entry="train")
assert s.entry == "train"
assert s.inputs == ("features", "targets") and s.params[2] == "arg4", \
    (s.inputs, s.params)
out = s(features=X, targets=LABELS, w0=PARAMS[0], b0=PARAMS[1],
        arg4=PARAMS[2], b1=PARAMS[3])
assert np.array_equal(out.grad_arg4, fp32(**FEED).grad_w1)
print("PASS names: %s" % ", ".join(a.name for a in s.arguments))
# CHECK: PASS names: features, targets, w0, b0, arg4, b1, seed


# --- errors name the argument.
def error(fn, kind, *needles):
    try:
        fn()
    except kind as e:
        msg = str(e)
        for n in needles:
            assert n in msg, (n, msg)
        print("ERROR %s" % msg.splitlines()[0])
        return
    raise AssertionError("no %s for %s" % (kind.__name__, needles))


error(lambda: f16(**dict(FEED, w0=PARAMS[0].T), **init), ValueError,
      "'w0'", "#2", "role param", "(8, 6)", "(6, 8)")
# CHECK: ERROR @step argument 'w0' (#2, role param, tensor<6x8xf32>): shape (8, 6) does not fit (6, 8)
error(lambda: f16(**dict(FEED, x=X.astype(np.float64)), **init), TypeError,
      "'x'", "float64", "float32")
# CHECK: ERROR @step argument 'x' (#0, role input, tensor<4x6xf32>): dtype float64, expected float32
error(lambda: f16(**dict(FEED, x=X[0]), **init), ValueError, "'x'", "(6,)")
# CHECK: ERROR @step argument 'x' {{.*}}: shape (6,) does not fit (4, 6)
error(lambda: f16(**dict(FEED, b1=PARAMS[3][:4]), **init), ValueError,
      "'b1'", "(4,)", "(5,)")
# CHECK: ERROR @step argument 'b1' {{.*}}: shape (4,) does not fit (5,)
error(lambda: f16(**FEED, loss_scale=init["loss_scale"], hysteresis=2,
                  growth_tracker=0.5), TypeError, "'growth_tracker'",
      "float64", "int32")
# CHECK: ERROR @step argument 'growth_tracker' {{.*}}: float of dtype float64, expected int32
error(lambda: f16(**{k: v for k, v in FEED.items() if k != "b0"}, **init),
      TypeError, "missing 1 argument", "'b0'")
# CHECK: ERROR @step missing 1 argument: 'b0' (#3, role param, tensor<8xf32>)
error(lambda: f16(**FEED), TypeError, "'loss_scale'", "'growth_tracker'",
      "'hysteresis'", "init_state()")
# CHECK: ERROR @step missing 3 arguments: 'loss_scale' {{.*}}step.init_state()
error(lambda: f16(**FEED, **init, scale=1.0), TypeError, "'scale'",
      "loss_scale")
# CHECK: ERROR @step got an unknown argument 'scale'
error(lambda: fp32(X, LABELS, *PARAMS, x=X), TypeError, "'x'", "twice")
# CHECK: ERROR @step got argument 'x' twice
error(lambda: fp32(X, LABELS, *PARAMS, 1.0, 2.0), TypeError,
      "takes 7 arguments")
# CHECK: ERROR @step takes 7 arguments (x, labels, w0, b0, w1, b1, seed), got 8
error(lambda: out.nothing, AttributeError, "'nothing'", "grad_arg4")
# CHECK: ERROR the step has no result 'nothing'
error(lambda: mpt.compile(TEXT, amp="fp8"), ValueError, "'fp8'")
error(lambda: mpt.compile(TEXT, target="tpu"), ValueError, "'tpu'")
error(lambda: mpt.compile(TEXT, optimizer="lamb"), ValueError, "'lamb'")
error(lambda: mpt.compile(TEXT, optimizer={"kind": "sgd", "rate": 1}),
      TypeError, "rate", "lr")
error(lambda: mpt.compile(TEXT, amp="f16", pipeline="--canonicalize"),
      ValueError, "pipeline replaces")
error(lambda: mpt.compile("no/such/step.mlir"), FileNotFoundError,
      "no/such/step.mlir")
# mpt-opt's diagnostic comes back in the exception.
error(lambda: mpt.compile(TEXT, amp="f16", loss_scaling={
    "mode": "dynamic", "init_scale": float("inf")}), mpt.CompileError,
    "mpt-opt", "init-scale")
# CHECK: ERROR {{.*}}mpt-opt{{.*}} failed:
print("DONE")
# CHECK: DONE
