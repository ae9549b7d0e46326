"""PyTorch (and numpy) references of the training steps `mpt.gen` emits.

The model is written once (`forward`) against a small set of ops, with two
implementations of the set:

  NumpyOps   float64 numpy, forward only: checked here, without PyTorch,
             against mpt's own CPU path on the FP64 step (`selftest`).
  TorchOps   torch functional ops (F.linear, F.conv2d, F.layer_norm, ...),
             so that autograd differentiates the model and torch.autocast
             applies its own policy, as for a model written in PyTorch.

The model follows python/mpt/gen.py exactly:

  mlp          x @ w_i + b_i, ReLU between layers (not after the last)
  cnn          conv_2d_nhwc_hwcf (stride 1, no padding) + bias + ReLU per
               block, then 2x2 average pooling (stride 2) while the size is
               even and >= 4; the NHWC result flattened in NHWC order; a
               linear head with bias
  transformer  on x[B, T, D] as [B*T, D]: per block, pre-LN (eps 1e-5,
               biased variance) multi-head attention without biases or
               mask (scores scaled by 1/sqrt(D/H) after Q K^T, softmax over
               keys), a residual, pre-LN GELU MLP (tanh form) with biases,
               a residual; no final layernorm; a head without bias
  loss         softmax cross-entropy with one-hot labels, mean over the rows
               (the batch; B*T tokens for the transformer)

Parameters come in the step's argument order (`param_shapes`); the step's
arguments are (inputs x, labels), the parameters, the seed (loss_grad),
then the state that loss scaling and mpt-attach-optimizer add.

`compare_step` compares one call of a compiled step (any of its forms:
grads, loss-scaled grads, update form with an optimizer) with PyTorch on
the same inputs; bench/gpu/check.py calls it for every case prepare.py
built from a generated model (see docs/GPU.md, Checks).

  python3 bench/gpu/torch_ref.py selftest     (mpt-opt of MPT_TOOLS_DIR)
"""

import re
import sys

import numpy as np

GELU_C, GELU_A = 0.7978845608028654, 0.044715
LN_EPS = 1e-5


# ------------------------------------------------------------------ model
def full_spec(model, depth=None, **sizes):
    """The model's hyper-parameters with gen.generate's defaults filled in
    (batch and dynamic are not part of the model: shapes come from x)."""
    if model == "mlp":
        widths = list(sizes.get("widths") or [16, 32, 10])
        if depth is not None:
            widths = [widths[0]] + [widths[1]] * depth + [widths[-1]]
        return dict(model="mlp", widths=widths)
    if model == "cnn":
        channels = list(sizes.get("channels") or [3, 4, 8])
        if depth is not None:
            channels = [channels[0]] + [channels[1]] * depth
        return dict(model="cnn", channels=channels,
                    image=sizes.get("image", 10),
                    classes=sizes.get("classes", 5),
                    kernel=sizes.get("kernel", 3))
    if model == "transformer":
        return dict(model="transformer", seq=sizes.get("seq", 4),
                    dim=sizes.get("dim", 8), heads=sizes.get("heads", 2),
                    hidden=sizes.get("hidden", 16),
                    classes=sizes.get("classes", 5), depth=depth or 1)
    raise ValueError("unknown model '%s'" % model)


def cnn_sizes(spec):
    """(pool after block i?, final spatial size) as gen.build_cnn."""
    size, pools = spec["image"], []
    for _ in range(len(spec["channels"]) - 1):
        size = size - spec["kernel"] + 1
        pool = size % 2 == 0 and size >= 4
        if pool:
            size //= 2
        pools.append(pool)
    return pools, size


def param_shapes(spec):
    """[(name, shape)] of the parameters, in argument order (gen's names)."""
    m = spec["model"]
    out = []
    if m == "mlp":
        w = spec["widths"]
        for i in range(len(w) - 1):
            out += [("w%d" % i, [w[i], w[i + 1]]), ("b%d" % i, [w[i + 1]])]
    elif m == "cnn":
        c, k = spec["channels"], spec["kernel"]
        for i in range(len(c) - 1):
            out += [("k%d" % i, [k, k, c[i], c[i + 1]]),
                    ("cb%d" % i, [c[i + 1]])]
        _, size = cnn_sizes(spec)
        out += [("wf", [size * size * c[-1], spec["classes"]]),
                ("bf", [spec["classes"]])]
    elif m == "transformer":
        d, hid = spec["dim"], spec["hidden"]
        for i in range(spec["depth"]):
            out += [(n + str(i), s) for n, s in (
                ("ln1g", [d]), ("ln1b", [d]), ("wq", [d, d]), ("wk", [d, d]),
                ("wv", [d, d]), ("wo", [d, d]), ("ln2g", [d]), ("ln2b", [d]),
                ("w1_", [d, hid]), ("c1_", [hid]), ("w2_", [hid, d]),
                ("c2_", [d]))]
        out.append(("wout", [d, spec["classes"]]))
    else:
        raise ValueError("unknown model '%s'" % m)
    return out


def forward(ops, spec, x, labels, params):
    """The scalar loss of the step's forward half."""
    p = dict(zip([n for n, _ in param_shapes(spec)], params))
    if len(p) != len(params):
        raise ValueError("%d parameters, the model has %d"
                         % (len(params), len(p)))
    m = spec["model"]
    if m == "mlp":
        h, layers = x, len(spec["widths"]) - 1
        for i in range(layers):
            h = ops.linear(h, p["w%d" % i], p["b%d" % i])
            if i + 1 < layers:
                h = ops.relu(h)
        return ops.xent(h, labels)
    if m == "cnn":
        h = x
        pools, _ = cnn_sizes(spec)
        for i, pool in enumerate(pools):
            h = ops.relu(ops.conv2d(h, p["k%d" % i], p["cb%d" % i]))
            if pool:
                h = ops.avgpool2(h)
        h = ops.reshape(h, [h.shape[0], -1])
        return ops.xent(ops.linear(h, p["wf"], p["bf"]), labels)
    return transformer(ops, spec, x, labels, p)


def transformer(ops, spec, x, labels, p):
    b, t, d, nh = x.shape[0], spec["seq"], spec["dim"], spec["heads"]
    dh = d // nh
    h = ops.reshape(x, [b * t, d])
    y = ops.reshape(labels, [b * t, spec["classes"]])

    def heads(v, perm, shape):
        v = ops.permute(ops.reshape(v, [b, t, nh, dh]), perm)
        return ops.reshape(v, [b * nh] + shape)

    for i in range(spec["depth"]):
        def q(n):
            return p[n + str(i)]
        a = ops.layernorm(h, q("ln1g"), q("ln1b"))
        qh = heads(ops.linear(a, q("wq")), [0, 2, 1, 3], [t, dh])
        kt = heads(ops.linear(a, q("wk")), [0, 2, 3, 1], [dh, t])
        vh = heads(ops.linear(a, q("wv")), [0, 2, 1, 3], [t, dh])
        scores = ops.bmm(qh, kt) * (1.0 / dh ** 0.5)
        o = ops.bmm(ops.softmax(scores), vh)
        o = ops.permute(ops.reshape(o, [b, nh, t, dh]), [0, 2, 1, 3])
        h = h + ops.linear(ops.reshape(o, [b * t, d]), q("wo"))
        mid = ops.gelu(ops.linear(ops.layernorm(h, q("ln2g"), q("ln2b")),
                                  q("w1_"), q("c1_")))
        h = h + ops.linear(mid, q("w2_"), q("c2_"))
    return ops.xent(ops.linear(h, p["wout"]), y)


def contraction_flops(spec, batch):
    """FLOPs (2 per multiply-add) of the forward's matmuls, batch matmuls
    and convolutions. Each has both operands needing a gradient except the
    first layer's input, so forward + backward is 3x this minus that
    layer's input gradient (`step_flops`)."""
    m = spec["model"]
    if m == "mlp":
        w = spec["widths"]
        return sum(2 * batch * i * o for i, o in zip(w, w[1:]))
    if m == "transformer":
        t, d, hid = spec["seq"], spec["dim"], spec["hidden"]
        rows = batch * t
        block = (2 * rows * d * d * 4        # q, k, v, o projections
                 + 2 * 2 * rows * d * hid    # the MLP
                 + 2 * 2 * batch * t * t * d)  # Q K^T and P V, all heads
        return spec["depth"] * block + 2 * rows * d * spec["classes"]
    raise ValueError("no FLOP count for '%s'" % m)


def step_flops(spec, batch):
    """Forward + backward FLOPs of the step's contractions (elementwise
    ops, reductions and the optimizer are not counted)."""
    fwd = contraction_flops(spec, batch)
    if spec["model"] == "mlp":  # no gradient of x for the first layer
        w = spec["widths"]
        return 3 * fwd - 2 * batch * w[0] * w[1]
    return 3 * fwd  # the first op on x is a layernorm: all dX are needed


# ------------------------------------------------------------- op sets
class NumpyOps:
    """float64 numpy, forward only."""

    @staticmethod
    def linear(x, w, b=None):
        y = x @ w
        return y if b is None else y + b

    @staticmethod
    def relu(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def gelu(x):
        return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + GELU_A * x ** 3)))

    @staticmethod
    def layernorm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + LN_EPS) * g + b

    @staticmethod
    def softmax(x):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    @staticmethod
    def bmm(a, b):
        return a @ b

    @staticmethod
    def conv2d(x, w, b):
        """NHWC input, HWCF filter, stride 1, no padding."""
        kh, kw = w.shape[:2]
        oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
        y = np.zeros((x.shape[0], oh, ow, w.shape[3]))
        for i in range(kh):
            for j in range(kw):
                y += x[:, i:i + oh, j:j + ow, :] @ w[i, j]
        return y + b

    @staticmethod
    def avgpool2(x):
        n, h, w, c = x.shape
        return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))

    @staticmethod
    def xent(z, y):
        zc = z - z.max(-1, keepdims=True)
        lse = np.log(np.exp(zc).sum(-1))
        return (lse - (y * zc).sum(-1)).mean()

    @staticmethod
    def reshape(t, shape):
        return t.reshape(shape)

    @staticmethod
    def permute(t, perm):
        return t.transpose(perm)


class TorchOps:
    """The same ops in torch: differentiable, and autocast applies its
    policy to each (linear/bmm/conv in 16-bit; layer_norm, softmax and
    cross_entropy in f32)."""

    def __init__(self):
        import torch
        import torch.nn.functional as F
        self.torch, self.F = torch, F

    def linear(self, x, w, b=None):
        return self.F.linear(x, w.t(), b)

    def relu(self, x):
        return self.F.relu(x)

    def gelu(self, x):
        return self.F.gelu(x, approximate="tanh")

    def layernorm(self, x, g, b):
        return self.F.layer_norm(x, (x.shape[-1],), g, b, eps=LN_EPS)

    def softmax(self, x):
        return self.torch.softmax(x, -1)

    def bmm(self, a, b):
        return self.torch.bmm(a, b)

    def conv2d(self, x, w, b):
        y = self.F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), b)
        return y.permute(0, 2, 3, 1)

    def avgpool2(self, x):
        return self.F.avg_pool2d(x.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)

    def xent(self, z, y):
        return self.F.cross_entropy(z, y)  # probabilities as targets

    def reshape(self, t, shape):
        return t.reshape(shape)

    def permute(self, t, perm):
        return t.permute(perm)


# ------------------------------------------------------- the step's form
def signature(text, name="step"):
    """(argument roles, [result attributes]) of func.func @name; a result's
    attributes: dict(role, updates=arg index or None, grad_of=...)."""
    m = re.search(r"func\.func\s+(?:public\s+)?@%s\s*\(" % name, text)
    if not m:
        raise ValueError("no func.func @%s in the step" % name)
    i, depth = m.end(), 1
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    args = re.findall(r'mpt\.role = "(\w+)"', text[m.end():i])
    j = text.index("(", i)
    k, depth = j + 1, 1
    while depth:
        depth += {"(": 1, ")": -1}.get(text[k], 0)
        k += 1
    results = []
    for attrs in re.findall(r"\{([^{}]*)\}", text[j:k]):
        role = re.search(r'mpt\.role = "(\w+)"', attrs)
        link = {}
        for key in ("updates", "grad_of"):
            v = re.search(r"mpt\.%s = (\d+)" % key, attrs)
            link[key] = int(v.group(1)) if v else None
        results.append(dict(role=role.group(1) if role else None, **link))
    return args, results


def pass_options(flag_text):
    """'--name=k=v k=v' -> {k: v} with numbers converted."""
    body = flag_text.split("=", 1)[1] if "=" in flag_text else ""
    out = {}
    for item in body.split():
        k, v = item.split("=", 1)
        try:
            v = float(v)
        except ValueError:
            pass
        out[k.replace("-", "_")] = v
    return out


OPTIMIZER_DEFAULTS = dict(kind="sgd", lr=1e-3, momentum=0.9, beta1=0.9,
                          beta2=0.999, eps=1e-8, weight_decay=0.0,
                          clip_norm=0.0)
SCALING_DEFAULTS = dict(init_scale=65536.0, growth_factor=2.0,
                        backoff_factor=0.5, growth_interval=2000,
                        hysteresis=1, min_scale=1.0, max_scale=2.0 ** 24)


def training_options(passes):
    """(optimizer, loss scaling, dtype) options of prepare.py-style pass
    flags, with mpt's defaults (docs/LossScaling.md)."""
    opt = scaling = None
    dtype = "fp32"
    for flag in passes:
        if flag.startswith("--mpt-attach-optimizer"):
            opt = dict(OPTIMIZER_DEFAULTS, **pass_options(flag))
        elif flag.startswith("--auto-mixed-precision"):
            o = pass_options(flag)
            dtype = o.get("dtype", "f16")
            mode = o.get("loss_scaling",
                         "dynamic" if dtype == "f16" else "none")
            if mode != "none":
                scaling = dict(SCALING_DEFAULTS, mode=mode, **{
                    k: v for k, v in o.items() if k in SCALING_DEFAULTS})
    return opt, scaling, dtype


# ----------------------------------------------------------- torch side
def torch_available():
    try:
        import torch
        return bool(torch.__version__)
    except ImportError:
        return False


UNIT_ROUNDOFF = {"fp32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8,
                 "fp64": 2.0 ** -53}


def torch_loss_grads(spec, x, labels, params, mode, seed=1.0, scale=1.0):
    """(loss, unscaled grads) of PyTorch on torch tensors (x, labels and
    params in the dtype of `mode`: float64 for "fp64", else float32).

    mode: "fp64"; "fp32" (TF32 off); "f16" / "bf16": FP32 tensors under
    torch.autocast. The backward is seeded with seed * scale (in f32) and
    the grads multiplied by 1/scale in f32, as GradScaler and mpt do."""
    import torch
    saved = (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        ps = [p.detach().requires_grad_() for p in params]
        low = {"f16": torch.float16, "bf16": torch.bfloat16}.get(mode)
        with torch.autocast(x.device.type, dtype=low or torch.float16,
                            enabled=low is not None):
            loss = forward(TorchOps(), spec, x, labels, ps)
        if mode == "fp64":
            cot, inv = seed * scale, 1.0 / scale
        else:
            cot = float(np.float32(seed) * np.float32(scale))
            inv = float(np.float32(1.0) / np.float32(scale))
        grads = torch.autograd.grad(
            loss, ps, grad_outputs=torch.tensor(cot, dtype=loss.dtype,
                                                device=x.device))
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = saved
    dt = torch.float64 if mode == "fp64" else torch.float32
    return loss.detach(), [g.to(dt) * inv for g in grads]


def torch_grads(spec, x, labels, params, mode, device, seed=1.0, scale=1.0):
    """torch_loss_grads on numpy arrays: (loss, grads as float64 numpy,
    found_inf)."""
    import torch
    dt = torch.float64 if mode == "fp64" else torch.float32

    def t(a):
        return torch.as_tensor(np.asarray(a, np.float64), dtype=dt,
                               device=device)
    loss, grads = torch_loss_grads(spec, t(x), t(labels),
                                   [t(p) for p in params], mode, seed, scale)
    out = [g.cpu().numpy().astype(np.float64) for g in grads]
    found_inf = not all(np.isfinite(g).all() for g in out)
    return float(loss.cpu()), out, found_inf


def scale_update(s, found_inf, scale, tracker, hyst):
    """mpt.update_scale (docs/LossScaling.md), in f32 like the step."""
    f32 = np.float32
    scale = f32(scale)
    if s["mode"] != "dynamic":
        return scale, tracker, hyst
    if found_inf:
        if hyst <= 1:
            scale = max(f32(scale * f32(s["backoff_factor"])),
                        f32(s["min_scale"]))
        else:
            hyst -= 1
        return scale, 0, hyst
    tracker += 1
    if tracker >= s["growth_interval"]:
        grown = f32(scale * f32(s["growth_factor"]))
        if np.isfinite(grown):
            scale = min(grown, f32(s["max_scale"]))
        tracker, hyst = 0, int(s["hysteresis"])
    return scale, tracker, hyst


def opt_consts(o, dt):
    """The optimizer's constants as the step holds them (f32), in dt."""
    c = {k: dt(np.float32(o[k])) for k in ("lr", "momentum", "beta1",
                                           "beta2", "eps", "weight_decay")}
    c["1-beta1"] = dt(np.float32(1.0 - o["beta1"]))
    c["1-beta2"] = dt(np.float32(1.0 - o["beta2"]))
    return c


def optimizer_update(o, p, g, state, t, dt):
    """(new p, new state list) of one parameter, in dtype dt
    (docs/LossScaling.md, The optimizer); t is the new step count."""
    c = opt_consts(o, dt)
    p, g = p.astype(dt), g.astype(dt)
    kind, wd = o["kind"], c["weight_decay"]
    if wd and kind != "adamw":
        g = g + wd * p
    if kind == "sgd":
        return p - c["lr"] * g, []
    if kind == "momentum":
        b = c["momentum"] * state[0].astype(dt) + g
        return p - c["lr"] * b, [b]
    m = c["beta1"] * state[0].astype(dt) + c["1-beta1"] * g
    v = c["beta2"] * state[1].astype(dt) + c["1-beta2"] * g * g
    step = c["lr"] / (dt(1) - c["beta1"] ** dt(t))
    bc2 = np.sqrt(dt(1) - c["beta2"] ** dt(t))
    base = p * (dt(1) - c["lr"] * wd) if kind == "adamw" and wd else p
    return base - step * (m / (np.sqrt(v) / bc2 + c["eps"])), [m, v]


def implied_grad(o, p, p_new, state, new_state):
    """The gradient a compiled step used, recovered in float64 from its
    inputs and outputs: from the first moment (adam, adamw), the momentum
    buffer, or the update (sgd)."""
    c = opt_consts(o, np.float64)
    p64 = p.astype(np.float64)
    wd = c["weight_decay"] if o["kind"] != "adamw" else 0.0
    if o["kind"] in ("adam", "adamw"):
        g = (new_state[0].astype(np.float64)
             - c["beta1"] * state[0].astype(np.float64)) / c["1-beta1"]
    elif o["kind"] == "momentum":
        g = (new_state[0].astype(np.float64)
             - c["momentum"] * state[0].astype(np.float64))
    else:
        g = (p64 - p_new.astype(np.float64)) / c["lr"]
    return g - wd * p64


def normwise(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def compare_step(info, inputs, got, device="cpu", factor=64):
    """One call of a compiled step against PyTorch on the same inputs.

    info: dict(spec, precision ("fp32", "f16", "bf16"), arg_roles, results
    (signature()'s), optimizer, loss_scaling). inputs, got: the call's
    numpy arguments and results.

    Every floating-point quantity q (the loss; each gradient, or for an
    update-form step the gradient implied by the new state and the update
    p_new - p and the second moment) is compared normwise with PyTorch in
    float64 (the exact reference): err_mpt = |q_mpt - q_64| / |q_64| must
    be <= factor * u + 2 * err_torch, err_torch the same error of PyTorch
    at the step's precision (FP32 with TF32 off, or autocast f16/bf16 with
    the same loss scale), u the unit roundoff of that precision. found_inf
    and the loss-scale state must equal what PyTorch's grads at that
    precision give; a skipped update must return its inputs bit for bit.

    Returns dict(ok, rows=[(what, err_mpt, err_torch, tol, err_vs_torch)],
    problems=[...], found_inf)."""
    spec, prec = info["spec"], info["precision"]
    roles, results = info["arg_roles"], info["results"]
    opt, scaling = info.get("optimizer"), info.get("loss_scaling")
    if opt and opt.get("clip_norm"):
        raise NotImplementedError("clip-norm is not emulated")
    u = UNIT_ROUNDOFF[prec]
    idx = [i for i, r in enumerate(roles) if r == "input"]
    pidx = [i for i, r in enumerate(roles) if r == "param"]
    x, labels = inputs[idx[0]], inputs[idx[1]]
    params = [inputs[i] for i in pidx]
    arg = {r: inputs[i] for i, r in enumerate(roles)
           if r in ("loss_grad", "loss_scale", "growth_tracker",
                    "hysteresis")}
    seed = float(arg.get("loss_grad", 1.0))
    scale = float(arg["loss_scale"]) if "loss_scale" in arg else 1.0
    loss64, g64, _ = torch_grads(spec, x, labels, params, "fp64", device,
                                 seed)
    lossq, gq, inf_q = torch_grads(spec, x, labels, params, prec, device,
                                   seed, scale)
    rows, problems = [], []

    def add(what, mine, exact, theirs):
        if np.shape(mine) != np.shape(exact):
            problems.append("%s: shape %s, expected %s" % (
                what, np.shape(mine), np.shape(exact)))
            return
        e, et = normwise(mine, exact), normwise(theirs, exact)
        tol = factor * u + 2 * et
        finite = bool(np.isfinite(np.asarray(mine, np.float64)).all())
        rows.append((what, e, et, tol, normwise(mine, theirs)))
        if not (e <= tol and finite):
            problems.append("%s: error %.3g vs float64 > %.3g (= %d u + 2 x "
                            "PyTorch's %.3g)%s" % (
                                what, e, tol, factor, et,
                                "" if finite else ", not finite"))

    def exact(what, mine, want):
        if not np.array_equal(np.asarray(mine), np.asarray(want)):
            problems.append("%s: %s, expected %s" % (
                what, np.asarray(mine).ravel()[:4],
                np.asarray(want).ravel()[:4]))

    # Which argument each state result updates: per parameter (m, v) or
    # (b), in parameter order, then Adam's step count.
    state_args = [i for i, r in enumerate(roles) if r == "opt_state"]
    per = {"sgd": 0, "momentum": 1}.get(opt["kind"], 2) if opt else 0
    owner = {}
    for n, a in enumerate(state_args):
        owner[a] = (n // per, n % per) if per and n < per * len(pidx) \
            else (None, "t")
    by_update = {r["updates"]: k for k, r in enumerate(results)
                 if r["updates"] is not None}
    for k, r in enumerate(results):
        if r["role"] == "loss":
            add("loss", got[k], loss64, lossq)
        elif r["role"] == "grad":
            n = pidx.index(r["grad_of"])
            add("grad %d" % n, got[k], g64[n], gq[n])
        elif r["role"] == "found_inf":
            exact("found_inf", bool(got[k]), inf_q)
    if scaling and "loss_scale" in arg:
        want = scale_update(scaling, inf_q, scale,
                            int(arg["growth_tracker"]),
                            int(arg["hysteresis"]))
        for name, w in zip(("loss_scale", "growth_tracker", "hysteresis"),
                           want):
            a = roles.index(name)
            if a in by_update:
                exact(name, np.asarray(got[by_update[a]]).astype(
                    np.asarray(w).dtype), w)
    if opt:
        compare_update(opt, inputs, got, pidx, state_args, owner, by_update,
                       g64, gq, inf_q, add, exact)
    return dict(ok=not problems, rows=rows, problems=problems,
                found_inf=inf_q)


def compare_update(opt, inputs, got, pidx, state_args, owner, by_update,
                   g64, gq, skipped, add, exact):
    t_arg = [a for a in state_args if owner[a][1] == "t"]
    t_old = float(inputs[t_arg[0]]) if t_arg else 0.0
    t_new = t_old + 1
    for n, a in enumerate(pidx):
        states = [s for s in state_args if owner[s][0] == n]
        p_old = inputs[a]
        p_new = got[by_update[a]]
        s_old = [inputs[s] for s in states]
        s_new = [got[by_update[s]] for s in states]
        if skipped:  # the update is skipped: inputs come back unchanged
            exact("param %d (update skipped)" % n, p_new, p_old)
            for s, o, w in zip(states, s_new, s_old):
                exact("state %d of param %d (update skipped)" % (s, n), o, w)
            continue
        p64, st64 = optimizer_update(opt, p_old, g64[n], s_old, t_new,
                                     np.float64)
        pq, stq = optimizer_update(opt, p_old, gq[n], s_old, t_new,
                                   np.float32)
        add("grad %d (from the update)" % n,
            implied_grad(opt, p_old, p_new, s_old, s_new), g64[n], gq[n])
        base = p_old.astype(np.float64)
        add("update %d" % n, p_new - base, p64 - base, pq - base)
        if len(states) == 2:
            add("second moment %d" % n, s_new[1], st64[1], stq[1])
    for a in t_arg:
        exact("step count", got[by_update[a]],
              np.float32(t_old if skipped else t_new))


# -------------------------------------------------------------- selftest
SELFTEST_SPECS = [
    dict(model="mlp"),
    dict(model="mlp", widths=[24, 40, 40, 7]),
    dict(model="cnn"),
    dict(model="cnn", channels=[3, 6, 8], image=14, classes=4),
    dict(model="transformer"),
    dict(model="transformer", seq=6, dim=12, heads=3, hidden=20, classes=7,
         depth=2),
]


def selftest(argv):
    """numpy float64 forward vs mpt's CPU path on the FP64 step; with
    torch: torch float64 loss and grads vs the same, then compare_step on
    mpt's CPU mixed-precision steps (the GPU check's comparison, on the
    CPU)."""
    import time
    from mpt import aot, gen
    from mpt.testing import gradcheck
    have_torch = torch_available() and "--no-torch" not in argv
    rng = np.random.default_rng(0)
    ok = True
    for sp in SELFTEST_SPECS:
        t0 = time.time()
        kw = dict(sp)
        model = kw.pop("model")
        depth = kw.pop("depth", None)
        spec = full_spec(model, depth=depth, **kw)
        text, _ = gen.generate(model, dtype="f64", batch=3, depth=depth, **kw)
        names = re.findall(r"%(\w+): tensor<([^>]*)> \{mpt\.role = "
                           r"\"param\"", text)
        want = [(n, [int(d) for d in s.split("x")[:-1]])
                for n, s in names]
        if want != param_shapes(spec):
            print("FAIL %s: parameters %s, gen has %s" % (
                spec, param_shapes(spec), want))
            ok = False
            continue
        lib = aot.compile_module(text)
        arg_types, _ = aot.parse_signature(text, "step")
        roles = gradcheck.roles_of(text)
        arrays = gradcheck.random_inputs(arg_types, roles, rng, 3,
                                         fan_in=True)
        gradcheck.one_hot_labels(arrays, roles, rng)
        got = lib.call("step", *arrays)
        params = [a for a, r in zip(arrays, roles) if r == "param"]
        loss = forward(NumpyOps, spec, arrays[0], arrays[1], params)
        err = abs(loss - got[0]) / abs(got[0])
        line = "%s: numpy loss rel. error %.2g" % (spec_name(sp), err)
        good = err < 1e-12
        if have_torch:
            tl, tg, _ = torch_grads(spec, arrays[0], arrays[1], params,
                                    "fp64", "cpu")
            terr = max([abs(tl - got[0]) / abs(got[0])] +
                       [normwise(a, b) for a, b in zip(tg, got[1:])])
            line += ", torch float64 loss and grads %.2g" % terr
            good &= terr < 1e-11
        print("%s %s (%.1fs)" % ("PASS" if good else "FAIL", line,
                                 time.time() - t0), flush=True)
        ok &= good
    if have_torch:
        ok &= selftest_steps()
    else:
        print("torch not available: torch side not checked")
    return 0 if ok else 1


def spec_name(sp):
    return " ".join("%s=%s" % (k, v if not isinstance(v, list) else
                               ",".join(map(str, v)))
                    for k, v in sp.items())


def selftest_steps():
    """compare_step on mpt's CPU path for the GPU check's step forms."""
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import prepare
    from mpt import aot, gen
    ok = True
    forms = [("fp32", prepare.PASSES["fp32"], 2.0 ** 10),
             ("f16", prepare.PASSES["f16"], 2.0 ** 10),
             ("bf16", prepare.PASSES["bf16"], 2.0 ** 10),
             ("f16-overflow", prepare.PASSES["f16"], 2.0 ** 40),
             ("bf16-adam", ["--auto-mixed-precision=dtype=bf16",
                            "--mpt-attach-optimizer=kind=adam lr=1e-2 "
                            "weight-decay=0.1"], 1.0),
             ("f16-momentum", ["--auto-mixed-precision=dtype=f16",
                               "--mpt-attach-optimizer=kind=momentum "
                               "lr=1e-2 weight-decay=0.1"], 1.0),
             ("f16-sgd", ["--auto-mixed-precision=dtype=f16 "
                          "loss-scaling=static init-scale=128",
                          "--mpt-attach-optimizer=kind=sgd lr=0.1"], 1.0)]
    for sp in [dict(model="mlp"), dict(model="cnn"),
               dict(model="transformer", depth=2)]:
        kw = dict(sp)
        model = kw.pop("model")
        spec = full_spec(model, **kw)
        text, _ = gen.generate(model, **kw)
        for form, passes, scale in forms:
            if form.startswith("f16-") and form != "f16-overflow" \
                    and model != "mlp":
                continue
            step = text
            if passes:
                step = aot._run([aot._tool("mpt-opt", "MPT_TOOLS_DIR"), "-"]
                                + passes, stdin=text.encode()).decode()
            lib = aot.compile_module(step)
            args, results = signature(step)
            opt, scaling, dtype = training_options(passes)
            rng = np.random.default_rng(1)
            inputs = prepare.make_inputs(step, 8, rng, scale)
            got = lib.call("step", *inputs)
            info = dict(spec=spec, precision=dtype, arg_roles=args,
                        results=results, optimizer=opt, loss_scaling=scaling)
            r = compare_step(info, inputs, got)
            worst = max(r["rows"], key=lambda row: row[1] / row[3])
            print("%s %s %s: %d quantities, worst %s %.3g (%.2f u; PyTorch "
                  "%.2f u; budget %.2f u), found_inf %s" % (
                      "PASS" if r["ok"] else "FAIL", model, form,
                      len(r["rows"]), worst[0], worst[1],
                      worst[1] / UNIT_ROUNDOFF[dtype],
                      worst[2] / UNIT_ROUNDOFF[dtype],
                      worst[3] / UNIT_ROUNDOFF[dtype], r["found_inf"]),
                  flush=True)
            for msg in r["problems"]:
                print("     " + msg)
            ok &= r["ok"]
    return ok


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "selftest":
        print(__doc__)
        return 2
    return selftest(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
