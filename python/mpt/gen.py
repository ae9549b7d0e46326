"""Generator of FP32 (or FP64) training steps in mpt's input form.

Emits a `func.func` in linalg/tensor/arith/math on ranked tensors with the
training-step roles (`mpt.role`, `mpt.grad_of`): forward, a scalar loss and
the backward half, which this module derives by reverse-mode differentiation
of the ops it emits. Three models, any sizes and depths:

  mlp          Linear + ReLU layers, softmax cross-entropy
  cnn          conv_2d_nhwc_hwcf + bias + ReLU blocks, 2x2 average pooling,
               a linear head, softmax cross-entropy
  transformer  pre-LN blocks: layernorm, multi-head attention with softmax,
               GELU MLP, residuals; a linear head with cross-entropy

Only the Python standard library is used, so a plain build can run it:

  python3 -m mpt.gen mlp --batch 8 --widths 16,32,10 -o mlp.mlir
  python3 -m mpt.gen transformer --depth 4 --ops 100000 -o big.mlir
"""

import argparse
import sys


def fmt_float(v):
    """An MLIR float literal (always with a '.')."""
    return "%.17e" % float(v)


class Tensor:
    def __init__(self, name, shape, dtype, needs_grad):
        self.name = name
        self.shape = list(shape)
        self.dtype = dtype
        self.needs_grad = needs_grad


class Emitter:
    """Emits MLIR ops on tensors and records how to differentiate them."""

    def __init__(self, dtype="f32"):
        self.dtype = dtype
        self.lines = []
        self.counter = 0
        self.tape = []  # (output, backward closure)

    # ----------------------------------------------------------------- basics
    def fresh(self, hint="v"):
        self.counter += 1
        return "%%%s%d" % (hint, self.counter)

    def emit(self, text):
        self.lines.append("    " + text)

    def ttype(self, shape, dtype=None):
        dims = "".join(("?" if isinstance(d, str) else str(d)) + "x"
                       for d in shape)
        return "tensor<%s%s>" % (dims, dtype or self.dtype)

    def typeof(self, t):
        return self.ttype(t.shape, t.dtype)

    def dyn_sizes(self, shape):
        return [d for d in shape if isinstance(d, str)]

    def index(self, value):
        name = self.fresh("c")
        self.emit("%s = arith.constant %d : index" % (name, value))
        return name

    def empty(self, shape):
        name = self.fresh("e")
        self.emit("%s = tensor.empty(%s) : %s" % (
            name, ", ".join(self.dyn_sizes(shape)), self.ttype(shape)))
        return name

    def scalar(self, value):
        name = self.fresh("s")
        self.emit("%s = arith.constant %s : %s" % (
            name, fmt_float(value), self.dtype))
        return name

    def splat(self, value, shape):
        """A tensor filled with `value`: a constant when the shape is static."""
        if not self.dyn_sizes(shape):
            name = self.fresh("k")
            self.emit("%s = arith.constant dense<%s> : %s" % (
                name, fmt_float(value), self.ttype(shape)))
            return Tensor(name, shape, self.dtype, False)
        return self.fill(self.scalar(value), shape)

    def fill(self, scalar, shape):
        init = self.empty(shape)
        name = self.fresh("f")
        self.emit("%s = linalg.fill ins(%s : %s) outs(%s : %s) -> %s" % (
            name, scalar, self.dtype, init, self.ttype(shape),
            self.ttype(shape)))
        return Tensor(name, shape, self.dtype, False)

    def zeros(self, shape):
        return self.fill(self.scalar(0.0), shape)

    def result(self, shape, needs_grad):
        return Tensor(self.fresh(), shape, self.dtype, needs_grad)

    # ------------------------------------------------------- raw (no tape) ops
    def raw_binary(self, op, a, b):
        r = self.result(a.shape, False)
        self.emit("%s = %s %s, %s : %s" % (r.name, op, a.name, b.name,
                                            self.typeof(a)))
        return r

    def raw_unary(self, op, a):
        r = self.result(a.shape, False)
        self.emit("%s = %s %s : %s" % (r.name, op, a.name, self.typeof(a)))
        return r

    def raw_scale(self, a, value):
        return self.raw_binary("arith.mulf", a, self.splat(value, a.shape))

    def raw_matmul(self, a, b, batch=False):
        shape = ([a.shape[0], a.shape[1], b.shape[2]] if batch
                 else [a.shape[0], b.shape[1]])
        init = self.zeros(shape)
        r = self.result(shape, False)
        op = "linalg.batch_matmul" if batch else "linalg.matmul"
        self.emit("%s = %s ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            r.name, op, a.name, b.name, self.typeof(a), self.typeof(b),
            init.name, self.ttype(shape), self.ttype(shape)))
        return r

    def raw_transpose(self, a, perm):
        shape = [a.shape[p] for p in perm]
        init = self.empty(shape)
        r = self.result(shape, False)
        self.emit("%s = linalg.transpose ins(%s : %s) outs(%s : %s) "
                  "permutation = [%s]" % (
                      r.name, a.name, self.typeof(a), init, self.ttype(shape),
                      ", ".join(map(str, perm))))
        return r

    def raw_broadcast(self, a, shape, dims):
        """Broadcasts `a` to `shape`, `dims` being the added dimensions."""
        init = self.empty(shape)
        r = self.result(shape, False)
        self.emit("%s = linalg.broadcast ins(%s : %s) outs(%s : %s) "
                  "dimensions = [%s]" % (
                      r.name, a.name, self.typeof(a), init, self.ttype(shape),
                      ", ".join(map(str, dims))))
        return r

    def raw_reduce(self, a, dims, kind="sum"):
        shape = [d for i, d in enumerate(a.shape) if i not in dims]
        if kind == "sum":
            init = self.zeros(shape)
        else:
            init = self.fill(self.neg_inf(), shape)
        r = self.result(shape, False)
        op = "arith.addf" if kind == "sum" else "arith.maximumf"
        x, acc, y = self.fresh("in"), self.fresh("acc"), self.fresh("red")
        self.emit("%s = linalg.reduce ins(%s : %s) outs(%s : %s) "
                  "dimensions = [%s]" % (
                      r.name, a.name, self.typeof(a), init.name,
                      self.ttype(shape), ", ".join(map(str, dims))))
        self.lines.append("      (%s: %s, %s: %s) {" % (x, self.dtype, acc,
                                                       self.dtype))
        self.emit("  %s = %s %s, %s : %s" % (y, op, x, acc, self.dtype))
        self.emit("  linalg.yield %s : %s" % (y, self.dtype))
        self.lines.append("      }")
        return r

    def neg_inf(self):
        name = self.fresh("s")
        bits = "0xFFF0000000000000" if self.dtype == "f64" else "0xFF800000"
        self.emit("%s = arith.constant %s : %s" % (name, bits, self.dtype))
        return name

    def reduce_last(self, a, kind="sum"):
        return self.raw_reduce(a, [len(a.shape) - 1], kind)

    def bcast_last(self, a, shape):
        return self.raw_broadcast(a, shape, [len(shape) - 1])

    def raw_reshape(self, a, reassoc, shape, expand):
        r = self.result(shape, False)
        groups = ", ".join("[%s]" % ", ".join(map(str, g)) for g in reassoc)
        if expand:
            out = ", ".join(str(d) for d in shape)
            self.emit("%s = tensor.expand_shape %s [%s] output_shape [%s] : "
                      "%s into %s" % (r.name, a.name, groups, out,
                                      self.typeof(a), self.ttype(shape)))
        else:
            self.emit("%s = tensor.collapse_shape %s [%s] : %s into %s" % (
                r.name, a.name, groups, self.typeof(a), self.ttype(shape)))
        return r

    def raw_generic(self, ins, out_shape, maps, iterators, body, init=None):
        """A linalg.generic; `body(args, out)` returns the yielded value."""
        init = init or self.zeros(out_shape)
        r = self.result(out_shape, False)
        rank = len(iterators)
        dims = ", ".join("d%d" % i for i in range(rank))
        amaps = ", ".join("affine_map<(%s) -> (%s)>" % (dims, m) for m in maps)
        its = ", ".join('"%s"' % it for it in iterators)
        args = [self.fresh("a") for _ in ins]
        acc = self.fresh("o")
        self.emit("%s = linalg.generic {indexing_maps = [%s], "
                  "iterator_types = [%s]} ins(%s : %s) outs(%s : %s) {" % (
                      r.name, amaps, its, ", ".join(t.name for t in ins),
                      ", ".join(self.typeof(t) for t in ins), init.name,
                      self.ttype(out_shape)))
        self.lines.append("    ^bb0(%s):" % ", ".join(
            "%s: %s" % (n, self.dtype) for n in args + [acc]))
        value = body(args, acc)
        self.emit("  linalg.yield %s : %s" % (value, self.dtype))
        self.lines.append("    } -> %s" % self.ttype(out_shape))
        return r

    def body_op(self, op, a, b):
        name = self.fresh("b")
        self.emit("  %s = %s %s, %s : %s" % (name, op, a, b, self.dtype))
        return name

    # ------------------------------------------------- differentiable ops
    def record(self, out, backward):
        if out.needs_grad:
            self.tape.append((out, backward))
        return out

    def _ng(self, *ts):
        return any(t.needs_grad for t in ts)

    def add(self, a, b):
        r = self.raw_binary("arith.addf", a, b)
        r.needs_grad = self._ng(a, b)
        return self.record(r, lambda g: [(a, g), (b, g)])

    def mul(self, a, b):
        r = self.raw_binary("arith.mulf", a, b)
        r.needs_grad = self._ng(a, b)
        return self.record(r, lambda g: [
            (a, lambda: self.raw_binary("arith.mulf", g, b)),
            (b, lambda: self.raw_binary("arith.mulf", g, a))])

    def scale(self, a, value):
        r = self.raw_scale(a, value)
        r.needs_grad = a.needs_grad
        return self.record(r, lambda g: [(a, lambda: self.raw_scale(g, value))])

    def bias_add(self, x, b):
        """x[..., N] + b[N]."""
        lead = list(range(len(x.shape) - 1))
        r = self.raw_binary("arith.addf", x, self.raw_broadcast(b, x.shape,
                                                                lead))
        r.needs_grad = self._ng(x, b)
        return self.record(r, lambda g: [
            (x, g), (b, lambda: self.raw_reduce(g, lead))])

    def relu(self, x):
        zero = self.splat(0.0, x.shape)
        r = self.raw_binary("arith.maximumf", x, zero)
        r.needs_grad = x.needs_grad

        def backward(g):
            def dx():
                z = self.splat(0.0, x.shape)
                mask = self.result(x.shape, False)
                self.emit("%s = arith.cmpf ogt, %s, %s : %s" % (
                    mask.name, x.name, z.name, self.typeof(x)))
                out = self.result(x.shape, False)
                self.emit("%s = arith.select %s, %s, %s : %s, %s" % (
                    out.name, mask.name, g.name, z.name,
                    self.ttype(x.shape, "i1"), self.typeof(x)))
                return out
            return [(x, dx)]
        return self.record(r, backward)

    def gelu(self, x):
        """GELU, tanh approximation: 0.5 x (1 + tanh(c (x + a x^3)))."""
        c, a = 0.7978845608028654, 0.044715
        x2 = self.raw_binary("arith.mulf", x, x)
        x3 = self.raw_binary("arith.mulf", x2, x)
        inner = self.raw_binary("arith.addf", x, self.raw_scale(x3, a))
        t = self.raw_unary("math.tanh", self.raw_scale(inner, c))
        one_t = self.raw_binary("arith.addf", t, self.splat(1.0, x.shape))
        r = self.raw_binary("arith.mulf", self.raw_scale(x, 0.5), one_t)
        r.needs_grad = x.needs_grad

        def dx(g):
            # 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
            t2 = self.raw_binary("arith.mulf", t, t)
            sech2 = self.raw_binary("arith.subf", self.splat(1.0, x.shape), t2)
            poly = self.raw_binary("arith.addf", self.splat(1.0, x.shape),
                                   self.raw_scale(x2, 3 * a))
            d2 = self.raw_binary("arith.mulf", self.raw_scale(x, 0.5 * c),
                                 self.raw_binary("arith.mulf", sech2, poly))
            d = self.raw_binary("arith.addf", self.raw_scale(one_t, 0.5), d2)
            return self.raw_binary("arith.mulf", g, d)
        return self.record(r, lambda g: [(x, lambda: dx(g))])

    def matmul(self, a, b):
        r = self.raw_matmul(a, b)
        r.needs_grad = self._ng(a, b)
        return self.record(r, lambda g: [
            (a, lambda: self.raw_matmul(g, self.raw_transpose(b, [1, 0]))),
            (b, lambda: self.raw_matmul(self.raw_transpose(a, [1, 0]), g))])

    def batch_matmul(self, a, b):
        r = self.raw_matmul(a, b, batch=True)
        r.needs_grad = self._ng(a, b)
        t = [0, 2, 1]
        return self.record(r, lambda g: [
            (a, lambda: self.raw_matmul(g, self.raw_transpose(b, t), True)),
            (b, lambda: self.raw_matmul(self.raw_transpose(a, t), g, True))])

    def transpose(self, a, perm):
        r = self.raw_transpose(a, perm)
        r.needs_grad = a.needs_grad
        inv = [perm.index(i) for i in range(len(perm))]
        return self.record(r, lambda g: [
            (a, lambda: self.raw_transpose(g, inv))])

    def reshape(self, a, reassoc, shape, expand):
        r = self.raw_reshape(a, reassoc, shape, expand)
        r.needs_grad = a.needs_grad
        return self.record(r, lambda g: [
            (a, lambda: self.raw_reshape(g, reassoc, a.shape, not expand))])

    def softmax(self, x):
        """Softmax over the last dimension."""
        m = self.reduce_last(x, "max")
        e = self.raw_unary("math.exp", self.raw_binary(
            "arith.subf", x, self.bcast_last(m, x.shape)))
        s = self.reduce_last(e)
        p = self.raw_binary("arith.divf", e, self.bcast_last(s, x.shape))
        p.needs_grad = x.needs_grad

        def dx(g):
            dot = self.reduce_last(self.raw_binary("arith.mulf", g, p))
            diff = self.raw_binary("arith.subf", g,
                                   self.bcast_last(dot, x.shape))
            return self.raw_binary("arith.mulf", p, diff)
        return self.record(p, lambda g: [(x, lambda: dx(g))])

    def layernorm(self, x, gamma, beta, eps=1e-5):
        """Layer normalisation of x[M, N] over N with scale and shift."""
        n = x.shape[-1]
        mu = self.raw_scale(self.reduce_last(x), 1.0 / n)
        xc = self.raw_binary("arith.subf", x, self.bcast_last(mu, x.shape))
        var = self.raw_scale(
            self.reduce_last(self.raw_binary("arith.mulf", xc, xc)), 1.0 / n)
        rstd = self.raw_unary("math.rsqrt", self.raw_binary(
            "arith.addf", var, self.splat(eps, var.shape)))
        rstd_b = self.bcast_last(rstd, x.shape)
        xhat = self.raw_binary("arith.mulf", xc, rstd_b)
        y = self.raw_binary("arith.mulf", xhat,
                            self.raw_broadcast(gamma, x.shape, [0]))
        y = self.raw_binary("arith.addf", y,
                            self.raw_broadcast(beta, x.shape, [0]))
        y.needs_grad = self._ng(x, gamma, beta)

        def dx(g):
            dxhat = self.raw_binary("arith.mulf", g,
                                    self.raw_broadcast(gamma, x.shape, [0]))
            m1 = self.raw_scale(self.reduce_last(dxhat), 1.0 / n)
            m2 = self.raw_scale(self.reduce_last(
                self.raw_binary("arith.mulf", dxhat, xhat)), 1.0 / n)
            t = self.raw_binary("arith.subf", dxhat,
                                self.bcast_last(m1, x.shape))
            t = self.raw_binary("arith.subf", t, self.raw_binary(
                "arith.mulf", xhat, self.bcast_last(m2, x.shape)))
            return self.raw_binary("arith.mulf", rstd_b, t)
        return self.record(y, lambda g: [
            (x, lambda: dx(g)),
            (gamma, lambda: self.raw_reduce(
                self.raw_binary("arith.mulf", g, xhat), [0])),
            (beta, lambda: self.raw_reduce(g, [0]))])

    def conv2d(self, x, w):
        """conv_2d_nhwc_hwcf, stride 1, no padding."""
        n, h, wd, _ = x.shape
        kh, kw, _, f = w.shape
        shape = [n, h - kh + 1, wd - kw + 1, f]
        init = self.zeros(shape)
        r = self.result(shape, self._ng(x, w))
        self.emit("%s = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : "
                  "tensor<2xi64>, strides = dense<1> : tensor<2xi64>} "
                  "ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
                      r.name, x.name, w.name, self.typeof(x), self.typeof(w),
                      init.name, self.ttype(shape), self.ttype(shape)))

        def mac(args, acc):
            return self.body_op("arith.addf", acc,
                                self.body_op("arith.mulf", args[0], args[1]))

        def dw(g):
            # dW[kh,kw,c,f] = sum_{n,oh,ow} x[n,oh+kh,ow+kw,c] g[n,oh,ow,f]
            return self.raw_generic(
                [x, g], w.shape,
                ["d4, d5 + d0, d6 + d1, d2", "d4, d5, d6, d3",
                 "d0, d1, d2, d3"],
                ["parallel"] * 4 + ["reduction"] * 3, mac)

        def dx(g):
            # dX[n,i,j,c] = sum_{kh,kw,f} gpad[n,i+KH-1-kh,j+KW-1-kw,f] W
            gp = self.pad(g, [0, kh - 1, kw - 1, 0])
            return self.raw_generic(
                [gp, w], x.shape,
                ["d0, d1 - d4 + %d, d2 - d5 + %d, d6" % (kh - 1, kw - 1),
                 "d4, d5, d3, d6", "d0, d1, d2, d3"],
                ["parallel"] * 4 + ["reduction"] * 3, mac)
        return self.record(r, lambda g: [(x, lambda: dx(g)),
                                         (w, lambda: dw(g))])

    def pad(self, a, amounts):
        shape = [d if isinstance(d, str) else d + 2 * p
                 for d, p in zip(a.shape, amounts)]
        zero = self.scalar(0.0)
        r = self.result(shape, False)
        lo = ", ".join(map(str, amounts))
        idx = ", ".join("%s: index" % self.fresh("i") for _ in amounts)
        self.emit("%s = tensor.pad %s low[%s] high[%s] {" % (
            r.name, a.name, lo, lo))
        self.lines.append("    ^bb0(%s):" % idx)
        self.emit("  tensor.yield %s : %s" % (zero, self.dtype))
        self.lines.append("    } : %s to %s" % (self.typeof(a),
                                                self.ttype(shape)))
        return r

    def avgpool2(self, x):
        """2x2 average pooling, stride 2 (H and W even)."""
        n, h, w, c = x.shape
        shape = [n, h // 2, w // 2, c]
        init = self.zeros(shape)
        win = self.empty([2, 2])
        s = self.result(shape, False)
        self.emit("%s = linalg.pooling_nhwc_sum {dilations = dense<1> : "
                  "tensor<2xi64>, strides = dense<2> : tensor<2xi64>} "
                  "ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
                      s.name, x.name, win, self.typeof(x),
                      self.ttype([2, 2]), init.name, self.ttype(shape),
                      self.ttype(shape)))
        r = self.raw_scale(s, 0.25)
        r.needs_grad = x.needs_grad

        def dx(g):
            quarter = self.scalar(0.25)
            return self.raw_generic(
                [g], x.shape,
                ["d0, d1 floordiv 2, d2 floordiv 2, d3", "d0, d1, d2, d3"],
                ["parallel"] * 4,
                lambda args, acc: self.body_op("arith.mulf", args[0], quarter),
                init=self.empty_tensor(x.shape))
        return self.record(r, lambda g: [(x, lambda: dx(g))])

    def empty_tensor(self, shape):
        return Tensor(self.empty(shape), shape, self.dtype, False)

    def softmax_xent(self, z, y, rows):
        """Mean over rows of softmax cross-entropy; y is one-hot."""
        m = self.reduce_last(z, "max")
        zc = self.raw_binary("arith.subf", z, self.bcast_last(m, z.shape))
        e = self.raw_unary("math.exp", zc)
        s = self.reduce_last(e)
        lse = self.raw_unary("math.log", s)
        picked = self.reduce_last(self.raw_binary("arith.mulf", y, zc))
        per_row = self.raw_binary("arith.subf", lse, picked)
        total = self.raw_reduce(per_row, [0])
        inv_rows = self.inv_count(rows)
        loss = self.raw_binary("arith.mulf", total, inv_rows)
        loss.needs_grad = z.needs_grad

        def dz(g):
            p = self.raw_binary("arith.divf", e, self.bcast_last(s, z.shape))
            d = self.raw_binary("arith.subf", p, y)
            gs = self.raw_binary("arith.mulf", g, inv_rows)
            return self.raw_binary("arith.mulf", d, self.raw_broadcast(
                gs, z.shape, list(range(len(z.shape)))))
        return self.record(loss, lambda g: [(z, lambda: dz(g))])

    def inv_count(self, rows):
        """tensor<dtype> holding 1/rows (rows: int or an index SSA name)."""
        if not isinstance(rows, str):
            return self.splat(1.0 / rows, [])
        i = self.fresh("n")
        self.emit("%s = arith.index_cast %s : index to i64" % (i, rows))
        f = self.fresh("n")
        self.emit("%s = arith.sitofp %s : i64 to %s" % (f, i, self.dtype))
        q = self.fresh("n")
        self.emit("%s = arith.divf %s, %s : %s" % (q, self.scalar(1.0), f,
                                                  self.dtype))
        r = self.result([], False)
        self.emit("%s = tensor.from_elements %s : %s" % (r.name, q,
                                                        self.ttype([])))
        return r

    # ---------------------------------------------------------- backward
    def backward(self, loss, seed):
        grads = {loss.name: seed}
        for out, fn in reversed(self.tape):
            g = grads.pop(out.name, None)
            if g is None:
                continue
            for inp, make in fn(g):
                if not inp.needs_grad:
                    continue
                d = make() if callable(make) else make
                prev = grads.get(inp.name)
                grads[inp.name] = (d if prev is None else
                                   self.raw_binary("arith.addf", prev, d))
        return grads


class Step:
    """Builds one training step: arguments with roles, body, results."""

    def __init__(self, name, dtype, seed_kind, batch, dynamic):
        self.em = Emitter(dtype)
        self.name = name
        self.args = []  # (Tensor, role)
        self.seed_kind = seed_kind
        self.dynamic = dynamic
        self.batch = batch

    def arg(self, hint, shape, role):
        t = Tensor("%" + hint, shape, self.em.dtype, role == "param")
        self.args.append((t, role))
        return t

    def param(self, hint, shape):
        return self.arg(hint, shape, "param")

    def batch_dim(self, x):
        """The batch size: an int, or an SSA index when the batch is '?'."""
        if not self.dynamic:
            return self.batch
        self.em.emit("%%batch = tensor.dim %s, %%c0 : %s" % (
            x.name, self.em.typeof(x)))
        return "%batch"

    def dim_product(self, b, factor, hint):
        if not isinstance(b, str):
            return b * factor
        name = "%" + hint
        self.em.emit("%s = arith.muli %s, %s : index" % (
            name, b, self.em.index(factor)))
        return name

    def finish(self, loss):
        em = self.em
        seed_t = None
        if self.seed_kind == "arg":
            seed_t = self.arg("seed", [], "loss_grad")
        else:
            seed_t = em.result([], False)
            em.emit("%s = mpt.loss_grad %s : %s" % (
                seed_t.name, loss.name, em.typeof(loss)))
        grads = em.backward(loss, seed_t)
        results = [(loss, '{mpt.role = "loss"}')]
        for i, (t, role) in enumerate(self.args):
            if role != "param":
                continue
            g = grads.get(t.name) or em.zeros(t.shape)
            results.append((g, '{mpt.role = "grad", mpt.grad_of = %d : i64}'
                            % i))
        arg_text = ",\n      ".join(
            '%s: %s {mpt.role = "%s"}' % (t.name, em.typeof(t), role)
            for t, role in self.args)
        res_text = ",\n         ".join("%s %s" % (em.typeof(t), a)
                                       for t, a in results)
        out = ["",
               "func.func @%s(\n      %s)\n    -> (%s) {" % (
                   self.name, arg_text, res_text)]
        if self.dynamic:
            out.append("    %c0 = arith.constant 0 : index")
        out += em.lines
        out.append("    return %s : %s" % (
            ", ".join(t.name for t, _ in results),
            ", ".join(em.typeof(t) for t, _ in results)))
        out.append("}")
        text = "\n".join(out[1:]) + "\n"
        # Named ops count as one op here; mpt-opt --print-op-stats also
        # counts the ops of their implicit bodies.
        return ("// Generated by mpt.gen: %d ops as written.\n" %
                count_ops(text)) + text


def batch_shape(step, dims):
    return ["%batch" if step.dynamic else step.batch] + dims


def build_mlp(step, widths):
    em = step.em
    x = step.arg("x", batch_shape(step, [widths[0]]), "input")
    labels = step.arg("labels", batch_shape(step, [widths[-1]]), "input")
    b = step.batch_dim(x)
    h = x
    layers = len(widths) - 1
    for i in range(layers):
        w = step.param("w%d" % i, [widths[i], widths[i + 1]])
        bias = step.param("b%d" % i, [widths[i + 1]])
        h = em.bias_add(em.matmul(h, w), bias)
        if i + 1 < layers:
            h = em.relu(h)
    return em.softmax_xent(h, labels, b)


def build_cnn(step, image, channels, classes, kernel):
    em = step.em
    x = step.arg("x", batch_shape(step, [image, image, channels[0]]), "input")
    labels = step.arg("labels", batch_shape(step, [classes]), "input")
    b = step.batch_dim(x)
    h, size = x, image
    for i in range(len(channels) - 1):
        w = step.param("k%d" % i, [kernel, kernel, channels[i],
                                   channels[i + 1]])
        bias = step.param("cb%d" % i, [channels[i + 1]])
        h = em.relu(em.bias_add(em.conv2d(h, w), bias))
        size = size - kernel + 1
        if size % 2 == 0 and size >= 4:
            h = em.avgpool2(h)
            size //= 2
    feat = size * size * channels[-1]
    flat = em.reshape(h, [[0], [1, 2, 3]], [h.shape[0], feat], expand=False)
    w = step.param("wf", [feat, classes])
    bias = step.param("bf", [classes])
    logits = em.bias_add(em.matmul(flat, w), bias)
    return em.softmax_xent(logits, labels, b)


def build_transformer(step, seq, dim, heads, hidden, classes, depth):
    em = step.em
    dh = dim // heads
    x = step.arg("x", batch_shape(step, [seq, dim]), "input")
    labels = step.arg("labels", batch_shape(step, [seq, classes]), "input")
    b = step.batch_dim(x)
    bt = step.dim_product(b, seq, "bt")
    bh = step.dim_product(b, heads, "bh")
    h = em.reshape(x, [[0, 1], [2]], [bt, dim], expand=False)
    y = em.reshape(labels, [[0, 1], [2]], [bt, classes], expand=False)

    def split_heads(t, perm, shape):
        t = em.reshape(t, [[0, 1], [2, 3]], [b, seq, heads, dh], expand=True)
        t = em.transpose(t, perm)
        return em.reshape(t, [[0, 1], [2], [3]], [bh] + shape, expand=False)

    for i in range(depth):
        p = lambda n, s: step.param("%s%d" % (n, i), s)
        g1, b1 = p("ln1g", [dim]), p("ln1b", [dim])
        wq, wk, wv, wo = (p(n, [dim, dim]) for n in ("wq", "wk", "wv", "wo"))
        g2, b2 = p("ln2g", [dim]), p("ln2b", [dim])
        w1, c1 = p("w1_", [dim, hidden]), p("c1_", [hidden])
        w2, c2 = p("w2_", [hidden, dim]), p("c2_", [dim])
        a = em.layernorm(h, g1, b1)
        q = split_heads(em.matmul(a, wq), [0, 2, 1, 3], [seq, dh])
        kt = split_heads(em.matmul(a, wk), [0, 2, 3, 1], [dh, seq])
        v = split_heads(em.matmul(a, wv), [0, 2, 1, 3], [seq, dh])
        scores = em.scale(em.batch_matmul(q, kt), 1.0 / dh ** 0.5)
        o = em.batch_matmul(em.softmax(scores), v)
        o = em.reshape(o, [[0, 1], [2], [3]], [b, heads, seq, dh],
                       expand=True)
        o = em.transpose(o, [0, 2, 1, 3])
        o = em.reshape(o, [[0, 1], [2, 3]], [bt, dim], expand=False)
        h = em.add(h, em.matmul(o, wo))
        m = em.gelu(em.bias_add(em.matmul(em.layernorm(h, g2, b2), w1), c1))
        h = em.add(h, em.bias_add(em.matmul(m, w2), c2))
    wout = step.param("wout", [dim, classes])
    return em.softmax_xent(em.matmul(h, wout), y, bt)


MODELS = ("mlp", "cnn", "transformer")


def generate(model, dtype="f32", seed="arg", batch=8, dynamic=False,
             depth=None, name="step", **sizes):
    """Returns (mlir_text, number_of_ops) of one training step."""
    step = Step(name, dtype, seed, batch, dynamic)
    if model == "mlp":
        widths = sizes.get("widths") or [16, 32, 10]
        if depth is not None:
            widths = [widths[0]] + [widths[1]] * depth + [widths[-1]]
        loss = build_mlp(step, widths)
    elif model == "cnn":
        channels = sizes.get("channels") or [3, 4, 8]
        if depth is not None:
            channels = [channels[0]] + [channels[1]] * depth
        loss = build_cnn(step, sizes.get("image", 10), channels,
                         sizes.get("classes", 5), sizes.get("kernel", 3))
    elif model == "transformer":
        loss = build_transformer(step, sizes.get("seq", 4),
                                 sizes.get("dim", 8), sizes.get("heads", 2),
                                 sizes.get("hidden", 16),
                                 sizes.get("classes", 5), depth or 1)
    else:
        raise ValueError("unknown model '%s'; expected one of %s"
                         % (model, ", ".join(MODELS)))
    text = step.finish(loss)
    return text, count_ops(text)


def count_ops(text):
    """Ops as written in the function body, with func.return."""
    import re
    return len(re.findall(r"^\s*(?:%[\w.]+ = |linalg\.yield|tensor\.yield|"
                          r"return )", text, re.M))


def depth_for_ops(model, target, **kw):
    """The depth whose step has about `target` ops (ops grow linearly)."""
    _, one = generate(model, depth=1, **kw)
    _, two = generate(model, depth=2, **kw)
    per_layer = max(two - one, 1)
    return max(1, round((target - one) / per_layer) + 1)


def _ints(text):
    return [int(v) for v in text.split(",")] if text else None


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m mpt.gen",
        description="Emit an FP32 training step (forward + backward, "
                    "mpt roles) for mpt.")
    ap.add_argument("model", choices=MODELS)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--dtype", choices=("f32", "f64"), default="f32",
                    help="element type (f64 for finite-difference checks)")
    ap.add_argument("--seed", choices=("arg", "op"), default="arg",
                    help="backward seed as a 'loss_grad' argument or as "
                         "the op mpt.loss_grad")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--dynamic-batch", action="store_true",
                    help="make the batch dimension dynamic ('?')")
    ap.add_argument("--depth", type=int,
                    help="hidden layers (mlp), conv blocks (cnn), blocks "
                         "(transformer)")
    ap.add_argument("--ops", type=int,
                    help="choose the depth to get about this many ops")
    ap.add_argument("--widths", help="mlp: comma-separated layer widths")
    ap.add_argument("--channels", help="cnn: comma-separated channels")
    ap.add_argument("--image", type=int, default=10, help="cnn: image size")
    ap.add_argument("--kernel", type=int, default=3, help="cnn: kernel size")
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--seq", type=int, default=4)
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--name", default="step", help="function name")
    args = ap.parse_args(argv)
    if args.model == "transformer" and args.dim % args.heads:
        ap.error("--dim must be a multiple of --heads")
    kw = dict(dtype=args.dtype, seed=args.seed, batch=args.batch,
              dynamic=args.dynamic_batch, name=args.name,
              widths=_ints(args.widths), channels=_ints(args.channels),
              image=args.image, kernel=args.kernel, classes=args.classes,
              seq=args.seq, dim=args.dim, heads=args.heads,
              hidden=args.hidden)
    depth = args.depth
    if args.ops:
        depth = depth_for_ops(args.model, args.ops, **kw)
    text, count = generate(args.model, depth=depth, **kw)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)
        print("%s: %s step, %d ops" % (args.output, args.model, count),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
