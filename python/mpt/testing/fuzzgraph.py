"""Random training graphs, FP32 against 16 bits on the CPU path.

Each seed draws a training step that is valid by construction: inputs,
parameters and the backward seed (`loss_grad`) as arguments; a forward half of
contractions (matmul, batch_matmul, matvec), elementwise ops (as tensor ops,
`linalg.generic` bodies or private callees), reductions, broadcasts, slices,
reshapes, concatenations and `scf.for` loops with tensor iter_args; constants
near the limits of f16/bf16 (dense, `linalg.fill` of a scalar, a scalar
captured by a generic body); optionally (feature "body") generic bodies
that cannot be retyped blindly (scf.if, bitcast, explicit truncf); a scalar
loss; and a backward half whose values
are linear in the seed (what loss scaling relies on)
and read the forward values, ending in one grad per parameter. The grads are
not derivatives of the loss: the check is differential, not a gradient check.

The step runs on the CPU path three ways: numpy in float64 (the graph's own
interpreter), `mpt-opt --mpt-lower-to-cpu` (FP32) and `mpt-opt
--auto-mixed-precision=<random options> --mpt-lower-to-cpu` (16 bits), each
compiled with python/mpt/aot.py and run in a child process. A case fails when

* a tool crashes, hangs or reports an error (the IR printed after the AMP
  pipeline is verified by mpt-opt), or the compiled step crashes;
* FP32 differs from float64 by more than its budget, or 16 bits differ from
  FP32 by more than theirs, unless an overflow explains it;
* loss scaling reports `found_inf` where no value comes near the format's
  largest finite number, or its state update is not the documented one.

Budgets derive from the format and follow mpt's own decisions:
mpt-assign-precision runs on the step with each op's node as location,
which names the 16-bit ops (less those that read a constant the format
cannot hold: documented to stay f32). The interpreter then runs the graph
three times with random rounding errors where the rewrite rounds: a value
read or written by a 16-bit op gets a relative error up to u (2^-11 f16,
2^-8 bf16) plus half the smallest subnormal (underflow), an f32 op u =
2^-24, a sum its f32 accumulation error; the seed is the loss scale (grads
divided by it at the end). The budget of an output is max(FLOOR_U * u,
SLACK * the largest deviation seen): the first-order error of the rewrite,
which tracks the conditioning of each random graph. An output whose
deviation exceeds ILL is ill-conditioned in the format: only its
finiteness is checked. An overflow is detected when a value at a 16-bit
rounding point (scaled) comes within a factor 2 of the format's largest
finite number.

  python3 -m mpt.testing.fuzzgraph --seeds 0-19       # fixed seeds
  python3 -m mpt.testing.fuzzgraph --time 600 --out fuzz-out/graphs
  python3 -m mpt.testing.fuzzgraph --repro fuzz-out/graphs  # saved cases

Failing cases are minimised (delta debugging: ops are replaced by fresh
arguments while the same kind of failure persists, then options are
dropped) and saved as DIR/<name>/{step.mlir, case.json, failure.txt};
case.json holds the options and the graph itself, so `--repro DIR` re-checks
saved cases whatever the generator becomes.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from mpt import aot

FORMATS = {
    # u: unit roundoff; max: largest finite; tiny: half the smallest
    # subnormal; normal: smallest normal.
    "f16": dict(u=2.0 ** -11, max=65504.0, tiny=2.0 ** -25, normal=2.0 ** -14),
    "bf16": dict(u=2.0 ** -8, max=3.3895313892515355e38, tiny=2.0 ** -134,
                 normal=2.0 ** -126),
    "f32": dict(u=2.0 ** -24, max=3.4028234663852886e38, tiny=2.0 ** -150,
                normal=2.0 ** -126),
}
# Budget = max(FLOOR_U * u, SLACK * deviation of the rounding model).
FLOOR_U = 8
SLACK = 8
TRIALS = 3
# An output whose model deviation exceeds ILL (10 %) carries no reliable
# digits in the format: only its finiteness is checked.
ILL = 0.1
TIMEOUT = 60  # seconds per tool run; more is a hang
# Failures of one kind and known defect minimised and saved per run (an
# unknown kind: three times as many).
SAVE_PER_KIND = 3
# Constants that are ordinary, and constants near the limits of the 16-bit
# formats (largest f16, just over it, f16 subnormals, below f16's range).
PLAIN_CONSTS = [0.5, 2.0, 0.125, 3.0, -1.5, 0.1, 0.75]
EDGE_CONSTS = [65504.0, 60000.0, 65520.0, 1.0e5, 3.0e5, 1.0e-5, 6.0e-8,
               2.0 ** -24, 1.0e-7, 1.0e-9, 2.0 ** -14, 1.0e-20, 1.0e30]
DIMS = [1, 2, 3, 4, 5, 8]


def fmt_float(v):
    if math.isinf(v):
        return "0x7F800000" if v > 0 else "0xFF800000"
    return "%.9e" % v


def fits(v, fmt):
    """A constant the format holds as a normal number (or zero): mpt
    rounds it; any other stays f32 (docs/AutoMixedPrecision.md)."""
    f = FORMATS[fmt]
    a = abs(v)
    return a == 0.0 or (f["normal"] <= a <= f["max"])


def ttype(shape):
    return "tensor<%sf32>" % "".join("%dx" % d for d in shape)


def idmap(rank):
    d = ", ".join("d%d" % i for i in range(rank))
    return "affine_map<(%s) -> (%s)>" % (d, d)


# ----------------------------------------------------------------------------
# Elementwise expressions: lists of steps over arguments a0.. and constants,
# emitted as tensor ops, generic bodies, loop bodies or callee bodies.
# A step is (op, operands...) where an operand is ("a", i), ("s", j) or
# ("c", value).

UNARY = {"neg": "arith.negf", "abs": "math.absf", "tanh": "math.tanh",
         "exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt",
         "rsqrt": "math.rsqrt", "erf": "math.erf"}
BINARY = {"add": "arith.addf", "sub": "arith.subf", "mul": "arith.mulf",
          "div": "arith.divf", "max": "arith.maximumf",
          "min": "arith.minimumf"}
NP_UNARY = {"neg": np.negative, "abs": np.abs, "tanh": np.tanh,
            "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
            "rsqrt": lambda x: 1.0 / np.sqrt(x),
            "erf": np.vectorize(math.erf, otypes=[np.float64])}
def bf16_round(x):
    """x rounded to bf16 (nearest even), as arith.truncf f32 -> bf16."""
    b = np.atleast_1d(np.asarray(x, np.float32)).view(np.uint32)
    b = b.astype(np.uint64)
    s16, one = np.uint64(16), np.uint64(1)
    b = ((b + np.uint64(0x7FFF) + ((b >> s16) & one)) >> s16) << s16
    out = b.astype(np.uint32).view(np.float32).astype(np.float64)
    return out.reshape(np.shape(x))


# Generic bodies only (feature "body"): an scf.if (leaky ReLU), a bitcast
# to i32 and back (abs by masking the sign), an explicit round trip
# through bf16: bodies that cannot be retyped blindly.
EXOTIC = {"leaky": lambda x: np.where(x > 0, x, x * 0.125),
          "bitabs": np.abs, "tobf16": bf16_round}
NP_UNARY.update(EXOTIC)
NP_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
             "div": np.divide, "max": np.maximum, "min": np.minimum}


def gen_expr(rng, arg_lin, want_lin, nsteps, edge, infer_only=False):
    """Random steps over arguments whose linearity in the seed is arg_lin;
    the last step is seed-linear iff want_lin (then some argument is).
    `infer_only`: no deny op (exp, log, sqrt, rsqrt), so that the steps may
    run in 16 bits between two contractions."""
    steps, lin = [], list(arg_lin)  # lin: per operand index (args first)
    refs = [("a", i) for i in range(len(arg_lin))]

    def lin_of(r):
        return r[0] != "c" and lin[r[1] if r[0] == "a" else
                                   len(arg_lin) + r[1]]

    def add(step, is_lin):
        steps.append(step)
        lin.append(is_lin)
        refs.append(("s", len(steps) - 1))
        return refs[-1]

    def pick(want):
        cand = [r for r in refs if lin_of(r) == want]
        return cand[int(rng.integers(len(cand)))] if cand else None

    def const():
        pool = EDGE_CONSTS if edge and rng.random() < 0.5 else PLAIN_CONSTS
        return ("c", float(pool[int(rng.integers(len(pool)))]))

    def positive(x):
        # c + x*x: bounded away from zero, for div, log, sqrt, rsqrt.
        sq = add(("mul", x, x), False)
        return add(("add", sq, ("c", float(rng.choice([0.5, 1.0, 2.0])))),
                   False)

    for _ in range(nsteps):
        have_lin = pick(True) is not None
        nl = pick(False)
        choice = rng.random()
        if have_lin and (choice < 0.5 or nl is None):
            x = pick(True)
            k = int(rng.integers(7))
            if k == 0:
                add(("add", x, pick(True)), True)
            elif k == 1:
                add(("sub", x, pick(True)), True)
            elif k == 2 and nl is not None:
                add(("mul", x, nl), True)
            elif k == 3 and nl is not None:
                add(("div", x, positive(nl)), True)
            elif k == 4:
                # Linear in the seed only: loss scaling checks linearity
                # (max, min, abs are merely positively homogeneous).
                op = {"max": "add", "min": "sub"}[str(rng.choice(["max",
                                                                   "min"]))]
                add((op, x, pick(True)), True)
            elif k == 5:
                rng.choice(["neg", "abs"])  # keeps the stream of draws
                add(("neg", x), True)
            else:
                c = const()
                op = str(rng.choice(["mul", "div"]))
                if c[1] in EDGE_CONSTS:  # shrink the value, never grow it
                    op = "div" if abs(c[1]) >= 1 else "mul"
                add((op, x, c), True)
        elif nl is not None:
            x = nl
            k = int(rng.integers(9))
            if infer_only and k in (2, 3):
                k = 1 if k == 2 else 6
            if k == 0:
                y = pick(False)
                op = str(rng.choice(["add", "sub", "mul", "max", "min"]))
                if op == "mul":
                    # x * tanh(y): products do not grow values with depth.
                    y = add(("tanh", y), False)
                add((op, x, y), False)
            elif k == 1:
                add(("tanh", x), False)
            elif k == 2:
                add(("exp", add(("tanh", x), False)), False)
            elif k == 3:
                add((str(rng.choice(["log", "sqrt", "rsqrt"])),
                     positive(x)), False)
            elif k == 4:
                add(("div", x, positive(pick(False))), False)
            elif k == 5:
                add((str(rng.choice(["neg", "abs", "erf"])), x), False)
            elif k == 6:
                # A near-limit constant and back: x * c / c or x / c * c.
                c = const()
                op1, op2 = ("div", "mul") if abs(c[1]) >= 1 else \
                    ("mul", "div")
                add((op2, add((op1, x, c), False), c), False)
            else:
                c = ("c", float(rng.choice(PLAIN_CONSTS)))
                add((str(rng.choice(["mul", "div", "add"])), x, c), False)
    if want_lin and not lin_of(refs[-1]):
        x, nl = pick(True), pick(False)
        add(("mul", x, nl) if nl is not None else ("add", x, x), True)
    if not want_lin and (lin_of(refs[-1]) or refs[-1][0] == "a"):
        nl = pick(False)
        add(("tanh", nl), False)
    return steps


def expr_consts(steps):
    return sorted({o[1] for s in steps for o in s[1:] if o[0] == "c"})


def emit_expr(steps, args, scalar, shape, fresh, const_names=None, loc=None):
    """Lines computing the steps; `args` are SSA names; returns (lines,
    result). Scalar: f32 ops (a generic body), else tensor ops of `shape`.
    `const_names` maps constants to SSA names defined outside; with `loc`,
    step j carries the location "<loc>_<j>"."""
    ty = "f32" if scalar else ttype(shape)
    lines, names, consts = [], [], dict(const_names or {})

    def name(r):
        if r[0] == "a":
            return args[r[1]]
        if r[0] == "s":
            return names[r[1]]
        if r[1] not in consts:
            consts[r[1]] = fresh("c")
            lit = fmt_float(r[1]) if scalar else "dense<%s>" % fmt_float(r[1])
            lines.append("%s = arith.constant %s : %s" % (consts[r[1]], lit,
                                                           ty))
        return consts[r[1]]

    for j, s in enumerate(steps):
        ops = [name(r) for r in s[1:]]
        n = fresh("t")
        where = ' loc("%s_%d")' % (loc, j) if loc else ""
        if s[0] in EXOTIC:
            lines.extend(emit_exotic(s[0], ops[0], n, fresh))
        elif s[0] in UNARY:
            lines.append("%s = %s %s : %s%s" % (n, UNARY[s[0]], ops[0], ty,
                                                 where))
        else:
            lines.append("%s = %s %s, %s : %s%s" % (
                n, BINARY[s[0]], ops[0], ops[1], ty, where))
        names.append(n)
    return lines, names[-1]


def emit_exotic(op, x, n, fresh):
    """Scalar lines computing n = op(x) (a generic body)."""
    a, b, c = fresh("x"), fresh("x"), fresh("x")
    if op == "leaky":
        return ["%s = arith.constant 0.000000e+00 : f32" % a,
                "%s = arith.cmpf ogt, %s, %s : f32" % (b, x, a),
                "%s = scf.if %s -> (f32) {" % (n, b),
                "  scf.yield %s : f32" % x,
                "} else {",
                "  %s = arith.constant 1.250000e-01 : f32" % c,
                "  %s = arith.mulf %s, %s : f32" % (a + "m", x, c),
                "  scf.yield %s : f32" % (a + "m"),
                "}"]
    if op == "bitabs":
        return ["%s = arith.bitcast %s : f32 to i32" % (a, x),
                "%s = arith.constant 2147483647 : i32" % b,
                "%s = arith.andi %s, %s : i32" % (c, a, b),
                "%s = arith.bitcast %s : i32 to f32" % (n, c)]
    return ["%s = arith.truncf %s : f32 to bf16" % (a, x),
            "%s = arith.extf %s : bf16 to f32" % (n, a)]


def eval_expr(steps, args, ctx, key, whole=False):
    """The steps over args [(value, is16, fits)...]; step j is the op
    "<key>_<j>", or, with `whole`, all are the body of the op `key` (a
    generic). Returns (value, is16)."""
    vals = []
    low = whole and key in ctx.low
    if low:
        args = [(ctx.inp(key, v, i16, ok), True, ok) for v, i16, ok in args]

    def get(r, k):
        if r[0] == "a":
            return args[r[1]]
        if r[0] == "s":
            return vals[r[1]]
        # Rounded here if it fits and its op is 16-bit; never again.
        return ctx.const(k, r[1]), True, True

    for j, st in enumerate(steps):
        k = key if whole else "%s_%d" % (key, j)
        xs = [get(r, k) for r in st[1:]]
        xs = [x[0] if whole else ctx.inp(k, x[0], x[1], x[2]) for x in xs]
        if st[0] in NP_UNARY:
            v = NP_UNARY[st[0]](xs[0])
        else:
            v = NP_BINARY[st[0]](xs[0], xs[1])
        v, is16 = ctx.out(k, np.asarray(v, np.float64))
        vals.append((v, is16, True))
    return vals[-1][0], vals[-1][1]


# ----------------------------------------------------------------------------
# The graph: a list of nodes; leaves are arguments and constants.

class Node:
    def __init__(self, op, ins, shape, lin, **attrs):
        self.op, self.ins, self.lin = op, list(ins), lin
        self.shape = tuple(shape)
        self.attrs = attrs


class Graph:
    def __init__(self):
        self.nodes = []
        self.loss = None
        self.grads = []  # (node index, param node index)

    def add(self, op, ins, shape, lin, **attrs):
        self.nodes.append(Node(op, ins, shape, lin, **attrs))
        return len(self.nodes) - 1


class Builder:
    """Draws a random graph from a seed and a feature set."""

    def __init__(self, rng, features, size):
        self.rng, self.g = rng, Graph()
        self.features, self.size = features, size
        self.seed_node = self.g.add("seed", [], (), True)

    def r(self, n):
        return int(self.rng.integers(n))

    def dim(self):
        return int(self.rng.choice(DIMS))

    def values(self, lin, shape=None, rank=None):
        return [i for i, n in enumerate(self.g.nodes)
                if n.lin == lin and n.op not in ("seed", "const")
                and (shape is None or n.shape == tuple(shape))
                and (rank is None or len(n.shape) == rank)]

    def leaf(self, shape, lin):
        if lin:
            return self.g.add("seedb", [self.seed_node], shape, True)
        if self.r(4) == 0 and "const" in self.features:
            c = float(PLAIN_CONSTS[self.r(len(PLAIN_CONSTS))])
            form = "fill" if self.r(2) else "dense"
            return self.g.add("const", [], shape, False, value=c, form=form)
        role = "param" if self.r(2) else "input"
        return self.g.add(role, [], shape, False)

    def get(self, shape, lin, reuse=0.7):
        cand = self.values(lin, shape)
        if cand and self.rng.random() < reuse:
            return cand[self.r(len(cand))]
        return self.leaf(shape, lin)

    def any_value(self, lin):
        cand = self.values(lin)
        if cand and self.rng.random() < 0.85:
            # Prefer recent values: deeper graphs.
            k = len(cand)
            return cand[max(0, k - 1 - int(abs(self.rng.normal(0, k / 3))))]
        rank = self.r(4)
        return self.get(tuple(self.dim() for _ in range(rank)), lin, 0.0)

    # Ops. Each returns the new node index (or None when not applicable).
    def op_ew(self, lin):
        x = self.any_value(lin)
        shape = self.g.nodes[x].shape
        nargs = 1 + self.r(3)
        ins = [x]
        for _ in range(nargs - 1):
            want = bool(lin and self.r(2))
            ins.append(self.get(shape, want))
        arg_lin = [self.g.nodes[i].lin for i in ins]
        if lin and not any(arg_lin):
            return None
        steps = gen_expr(self.rng, arg_lin, lin, 1 + self.r(4),
                         "const" in self.features)
        forms = ["tensor"] + [f for f in ("generic", "call")
                              if f in self.features]
        form = forms[self.r(len(forms))]
        captured = form == "generic" and self.r(2) == 0
        if form == "generic" and "body" in self.features and not lin \
                and self.r(2):
            pool = ["leaky", "bitabs", "tobf16"]
            steps = steps + [(pool[self.r(len(pool))],
                              ("s", len(steps) - 1))]
        return self.g.add("ew", ins, shape, lin, steps=steps, form=form,
                          captured=captured)

    def op_matmul(self, lin):
        kind = ["matmul", "matmul", "bmm", "matvec"][self.r(4)]
        if kind == "matmul":
            m, k, n = self.dim(), self.dim(), self.dim()
            sa, sb, so = (m, k), (k, n), (m, n)
        elif kind == "bmm":
            b, m, k, n = self.dim(), self.dim(), self.dim(), self.dim()
            sa, sb, so = (b, m, k), (b, k, n), (b, m, n)
        else:
            m, k = self.dim(), self.dim()
            sa, sb, so = (m, k), (k,), (m,)
        # Reuse a value of a fitting shape for the first operand if any.
        cand = self.values(lin, rank=len(sa))
        if cand and self.r(3):
            a = cand[self.r(len(cand))]
            sa = self.g.nodes[a].shape
            if kind == "matvec":
                sb, so = (sa[1],), (sa[0],)
            elif kind == "matmul":
                sb, so = (sa[1], sb[1]), (sa[0], sb[1])
            else:
                sb, so = (sa[0], sa[2], sb[2]), (sa[0], sa[1], sb[2])
        else:
            a = self.get(sa, lin)
        b = self.get(sb, False)
        return self.g.add(kind, [a, b], so, lin)

    def op_block(self, lin):
        """matmul, elementwise steps with no deny op, matmul: the 16-bit
        region of an MLP block, with its constants."""
        cand = self.values(lin, rank=2)
        if cand and self.r(3):
            x = cand[self.r(len(cand))]
        else:
            x = self.get((self.dim(), self.dim()), lin, 0.0)
        m, k = self.g.nodes[x].shape
        h, n = self.dim(), self.dim()
        m1 = self.g.add("matmul", [x, self.get((k, h), False)], (m, h), lin)
        ins = [m1]
        if self.r(2):
            ins.append(self.get((m, h), bool(lin and self.r(2))))
        arg_lin = [self.g.nodes[i].lin for i in ins]
        steps = gen_expr(self.rng, arg_lin, lin, 1 + self.r(3),
                         "const" in self.features, infer_only=True)
        form = "generic" if "generic" in self.features and self.r(2) else \
            "tensor"
        if form == "generic" and "body" in self.features and not lin \
                and self.r(2):
            pool = ["leaky", "bitabs", "tobf16"]
            steps = steps + [(pool[self.r(len(pool))],
                              ("s", len(steps) - 1))]
        e = self.g.add("ew", ins, (m, h), lin, steps=steps, form=form,
                       captured=form == "generic" and self.r(2) == 0)
        return self.g.add("matmul", [e, self.get((h, n), False)], (m, n), lin)

    def op_edge(self, lin):
        """x / c or x * c with a constant near a format's limits (dense or
        linalg.fill), the magnitude shrinking, sometimes scaled back."""
        if "const" not in self.features:
            return None
        x = self.any_value(lin)
        shape = self.g.nodes[x].shape
        c = float(EDGE_CONSTS[self.r(len(EDGE_CONSTS))])
        cn = self.g.add("const", [], shape, False, value=c,
                        form="fill" if self.r(2) else "dense")
        op, back = ("div", "mul") if c >= 1 else ("mul", "div")
        steps = [(op, ("a", 0), ("a", 1))]
        if self.r(2):
            steps.append((back, ("s", 0), ("a", 1)))
        forms = ["tensor"] + [f for f in ("generic", "call")
                              if f in self.features]
        return self.g.add("ew", [x, cn], shape, lin, steps=steps,
                          form=forms[self.r(len(forms))], captured=False)

    def op_reduce(self, lin):
        cand = [i for i in self.values(lin) if len(self.g.nodes[i].shape)]
        if not cand:
            return None
        x = cand[self.r(len(cand))]
        shape = self.g.nodes[x].shape
        d = self.r(len(shape))
        kind = "sum" if lin or self.r(3) else "max"
        init = 0.0 if kind == "sum" else float(
            self.rng.choice([-math.inf, -3.0e38]))
        out = shape[:d] + shape[d + 1:]
        return self.g.add("reduce", [x], out, lin, dim=d, kind=kind,
                          init=init)

    def op_bcast(self, lin):
        cand = [i for i in self.values(lin) if len(self.g.nodes[i].shape) < 3]
        if not cand:
            return None
        x = cand[self.r(len(cand))]
        shape = list(self.g.nodes[x].shape)
        d = self.r(len(shape) + 1)
        out = tuple(shape[:d] + [self.dim()] + shape[d:])
        return self.g.add("bcast", [x], out, lin, dim=d)

    def op_move(self, lin):
        cand = [i for i in self.values(lin) if len(self.g.nodes[i].shape)]
        if not cand:
            return None
        x = cand[self.r(len(cand))]
        shape = self.g.nodes[x].shape
        k = self.r(5)
        if k == 0 and len(shape) >= 2:
            perm = list(self.rng.permutation(len(shape)))
            return self.g.add("transpose", [x], [shape[p] for p in perm],
                              lin, perm=[int(p) for p in perm])
        if k == 1:
            sizes = [1 + self.r(s) for s in shape]
            offs = [self.r(s - z + 1) for s, z in zip(shape, sizes)]
            return self.g.add("slice", [x], sizes, lin, offsets=offs)
        if k == 2:
            sizes = [1 + self.r(s) for s in shape]
            small = self.get(sizes, lin)
            offs = [self.r(s - z + 1) for s, z in zip(shape, sizes)]
            return self.g.add("insert", [small, x], shape, lin, offsets=offs)
        if k == 3 and len(shape) >= 2:
            d = self.r(len(shape) - 1)
            out = shape[:d] + (shape[d] * shape[d + 1],) + shape[d + 2:]
            c = self.g.add("collapse", [x], out, lin, dim=d)
            if self.r(2):
                return c
            return self.g.add("expand", [c], shape, lin, dim=d)
        d = self.r(len(shape))
        other = list(shape)
        other[d] = self.dim()
        y = self.get(other, lin)
        out = list(shape)
        out[d] += other[d]
        return self.g.add("concat", [x, y], out, lin, dim=d)

    def op_loop(self, lin):
        x = self.any_value(lin)
        shape = self.g.nodes[x].shape
        cap = [self.get(shape, False)]
        if lin and self.r(2):
            cap.append(self.get(shape, True))
        arg_lin = [lin] + [self.g.nodes[i].lin for i in cap]
        steps = gen_expr(self.rng, arg_lin, lin, 1 + self.r(3),
                         "const" in self.features)
        # Contract the body (x_{i+1} = f(x_i) / 2 + ...) so that a loop does
        # not grow values geometrically: final step averaged with a tanh.
        return self.g.add("loop", [x] + cap, shape, lin, steps=steps,
                          trips=1 + self.r(4))

    def build(self):
        g, feats = self.g, self.features
        ops = [self.op_ew, self.op_ew, self.op_matmul, self.op_block,
               self.op_block, self.op_edge, self.op_reduce, self.op_bcast,
               self.op_move]
        if "loop" in feats:
            ops.append(self.op_loop)
        nf = self.size // 2 + self.r(self.size // 2 + 1)
        for _ in range(nf):
            ops[self.r(len(ops))](False)
        # The loss: the mean of squares of every forward value that nothing
        # reads (so that the forward half is live), summed.
        terms = [self.to_scalar(h, False) for h in self.sinks(False)]
        if not terms:
            terms = [self.to_scalar(self.any_value(False), False)]
        loss = terms[0]
        for t in terms[1:]:
            loss = g.add("ew", [loss, t], (), False,
                         steps=[("add", ("a", 0), ("a", 1))], form="tensor",
                         captured=False)
        g.loss = loss
        # The backward: seed-linear values that read forward ones.
        nb = self.size // 2 + self.r(self.size // 2 + 1)
        for _ in range(nb):
            ops[self.r(len(ops))](True)
        sinks = self.sinks(True)
        params = [i for i, n in enumerate(g.nodes) if n.op == "param"]
        if not params:
            # A training step has a parameter (and a step with the loss as
            # its only result does not lower today: see docs/Testing.md).
            params = [g.add("param", [], (self.dim(), self.dim()), False)]
        for k, p in enumerate(params):
            # Each grad takes its share of the unread seed-linear values.
            mine = sinks[k::len(params)] if k < len(sinks) else []
            if "detached" in self.features and self.r(4) == 0:
                # A grad term that does not read the seed (a weight decay
                # folded into the grad): loss scaling must refuse it.
                g.grads.append((g.add(
                    "ew", [p], g.nodes[p].shape, False,
                    steps=[("tanh", ("a", 0)), ("mul", ("s", 0), ("c", 0.5))],
                    form="tensor", captured=False), p))
                continue
            g.grads.append((self.grad_for(p, mine), p))
        return g

    def sinks(self, lin):
        used = {j for n in self.g.nodes for j in n.ins}
        return [i for i in self.values(lin) if i not in used and
                self.g.nodes[i].op not in ("input", "param", "const",
                                           "seedb")]

    def to_scalar(self, h, lin):
        """mean(h * h) (forward) or sum(h) (seed-linear), as tensor<f32>."""
        g = self.g
        tot = h
        if not lin:
            tot = g.add("ew", [h], g.nodes[h].shape, False,
                        steps=[("mul", ("a", 0), ("a", 0))], form="tensor",
                        captured=False)
        for _ in g.nodes[h].shape:
            tot = g.add("reduce", [tot], g.nodes[tot].shape[1:], lin, dim=0,
                        kind="sum", init=0.0)
        if lin:
            return tot
        n = max(1, int(np.prod(g.nodes[h].shape)))
        return g.add("ew", [tot], (), False,
                     steps=[("mul", ("a", 0), ("c", 1.0 / n))], form="tensor",
                     captured=False)

    def adapt(self, lv, shape):
        """A seed-linear value of `shape` made from the seed-linear lv."""
        g = self.g
        src = g.nodes[lv].shape
        if src == tuple(shape):
            return lv
        if len(shape) == 2 and len(src) == 2 and src[1] == shape[1]:
            # A weight grad: transpose(N[a,k]) @ L[a,n] -> [k,n].
            nv = self.get((src[0], shape[0]), False)
            t = g.add("transpose", [nv], (shape[0], src[0]), False,
                      perm=[1, 0])
            return g.add("matmul", [t, lv], shape, True)
        gv = self.to_scalar(lv, True)
        for d in shape:
            gv = g.add("bcast", [gv], g.nodes[gv].shape + (d,), True,
                       dim=len(g.nodes[gv].shape))
        return gv

    def grad_for(self, p, mine):
        g = self.g
        shape = g.nodes[p].shape
        if not mine:
            cand = self.values(True)
            mine = [cand[self.r(len(cand))] if cand else self.seed_node]
        gv = self.adapt(mine[0], shape)
        for lv in mine[1:]:
            gv = g.add("ew", [gv, self.adapt(lv, shape)], shape, True,
                       steps=[("add", ("a", 0), ("a", 1))], form="tensor",
                       captured=False)
        # Read the parameter: grad = gv * tanh(p) + gv (still seed-linear).
        return g.add("ew", [gv, p], shape, True,
                     steps=[("tanh", ("a", 1)), ("mul", ("a", 0), ("s", 0)),
                            ("add", ("s", 1), ("a", 0))],
                     form="tensor", captured=False)


ALL_FEATURES = ("const", "generic", "call", "loop", "body", "detached")


def generate(seed, size=12, features=ALL_FEATURES, removed=()):
    """The graph of `seed`, with the ops in `removed` replaced by leaves."""
    rng = np.random.default_rng(seed)
    g = Builder(rng, set(features), size).build()
    for i in removed:
        replace_by_leaf(g, i)
    return g


def replace_by_leaf(g, i):
    """Node i becomes a fresh input (the seed broadcast if seed-linear, so
    that the grads stay linear in the seed)."""
    n = g.nodes[i]
    g.nodes[i] = Node("seedb" if n.lin else "input", [0] if n.lin else [],
                      n.shape, n.lin)


def compact(g):
    """The live nodes only, renumbered (the seed stays node 0)."""
    live = live_nodes(g)
    if 0 not in live:
        live = [0] + live
    new = {old: k for k, old in enumerate(live)}
    out = Graph()
    for old in live:
        n = g.nodes[old]
        out.nodes.append(Node(n.op, [new[j] for j in n.ins], n.shape, n.lin,
                              **n.attrs))
    out.loss = new[g.loss]
    out.grads = [(new[gi], new[p]) for gi, p in g.grads]
    return out


def bypass(g, i, j):
    """Users of node i read node j instead."""
    for n in g.nodes:
        n.ins = [j if k == i else k for k in n.ins]
    if g.loss == i:
        g.loss = j
    g.grads = [(j if gi == i else gi, p) for gi, p in g.grads]


def graph_to_json(g):
    return {"loss": g.loss, "grads": [list(x) for x in g.grads],
            "nodes": [{"op": n.op, "ins": n.ins, "shape": list(n.shape),
                       "lin": n.lin, "attrs": n.attrs} for n in g.nodes]}


def _tuples(x):
    """JSON lists back to the tuples of expression steps."""
    if isinstance(x, list):
        return tuple(_tuples(y) for y in x)
    return x


def graph_from_json(d):
    g = Graph()
    for n in d["nodes"]:
        attrs = dict(n["attrs"])
        if "steps" in attrs:
            attrs["steps"] = [_tuples(st) for st in attrs["steps"]]
        for k in ("perm", "offsets"):
            if k in attrs:
                attrs[k] = list(attrs[k])
        g.nodes.append(Node(n["op"], n["ins"], n["shape"], n["lin"], **attrs))
    g.loss = d["loss"]
    g.grads = [tuple(x) for x in d["grads"]]
    return g


def live_nodes(g):
    need = set()
    stack = [g.loss] + [i for gr in g.grads for i in gr]
    while stack:
        i = stack.pop()
        if i in need:
            continue
        need.add(i)
        stack.extend(g.nodes[i].ins)
    return sorted(need)


# ----------------------------------------------------------------------------
# Emission.

def emit(g, locs=False):
    """The step as MLIR text; with `locs`, every op that
    mpt-assign-precision colours carries its node key as location."""
    live = live_nodes(g)
    lines, helpers, counter = [], [], [0]

    def fresh(prefix):
        counter[0] += 1
        return "%%%s%d" % (prefix, counter[0])

    args, params = [], {}
    for i in live:
        n = g.nodes[i]
        if n.op in ("input", "param"):
            args.append((i, n))
    names = {}
    sig = []
    for k, (i, n) in enumerate(args):
        names[i] = "%%arg%d" % k
        if n.op == "param":
            params[i] = k
        sig.append('%s: %s {mpt.role = "%s"}' % (names[i], ttype(n.shape),
                                                  n.op))
    names[0] = "%seed"
    sig.append('%seed: tensor<f32> {mpt.role = "loss_grad"}')
    res = ['%s {mpt.role = "loss"}' % ttype(())]
    for gi, p in g.grads:
        res.append('%s {mpt.role = "grad", mpt.grad_of = %d : i64}' % (
            ttype(g.nodes[p].shape), params[p]))

    def empty(shape):
        e = fresh("e")
        lines.append("%s = tensor.empty() : %s" % (e, ttype(shape)))
        return e

    def zeros(shape, value=0.0):
        e = empty(shape)
        c, f = fresh("c"), fresh("f")
        lines.append("%s = arith.constant %s : f32" % (c, fmt_float(value)))
        lines.append("%s = linalg.fill ins(%s : f32) outs(%s : %s) -> %s" % (
            f, c, e, ttype(shape), ttype(shape)))
        return f

    for i in live:
        n = g.nodes[i]
        if n.op in ("input", "param", "seed"):
            continue
        v = "%%v%d" % i
        names[i] = v
        before = len(lines)
        emit_node(g, i, n, v, names, lines, helpers, fresh, empty, zeros,
                  locs)
        if locs and len(lines) > before and (
                n.op in MOVES + ("matmul", "bmm", "matvec", "reduce") or
                (n.op == "ew" and n.attrs["form"] == "generic")):
            lines[-1] += ' loc("k%d")' % i
    outs = [names[g.loss]] + [names[gi] for gi, _ in g.grads]
    out_tys = [ttype(())] + [ttype(g.nodes[p].shape) for _, p in g.grads]
    text = ["// Generated by mpt.testing.fuzzgraph.", "func.func @step(",
            "    " + ",\n    ".join(sig) + ")",
            "    -> (" + ",\n        ".join(res) + ") {"]
    text += ["  " + l for l in lines]
    text.append("  return %s : %s" % (", ".join(outs), ", ".join(out_tys)))
    text.append("}")
    for h in helpers:
        text.extend(h)
    return "\n".join(text) + "\n"


def emit_node(g, i, n, v, names, lines, helpers, fresh, empty, zeros,
              locs):
    """Appends the lines of node i (named v)."""
    ins = [names[j] for j in n.ins]
    tys = [ttype(g.nodes[j].shape) for j in n.ins]
    ty = ttype(n.shape)
    a = n.attrs
    if n.op == "seedb":
        if not n.shape:
            names[i] = "%seed"
            return
        e = empty(n.shape)
        lines.append("%s = linalg.broadcast ins(%%seed : tensor<f32>) "
                     "outs(%s : %s) dimensions = [%s]" % (
                         v, e, ty, ", ".join(
                             str(d) for d in range(len(n.shape)))))
    elif n.op == "const":
        if a["form"] == "fill":
            e = empty(n.shape)
            c = fresh("c")
            lines.append("%s = arith.constant %s : f32" % (
                c, fmt_float(a["value"])))
            lines.append("%s = linalg.fill ins(%s : f32) outs(%s : %s) "
                         "-> %s" % (v, c, e, ty, ty))
        else:
            lines.append("%s = arith.constant dense<%s> : %s" % (
                v, fmt_float(a["value"]), ty))
    elif n.op == "ew":
        emit_ew(n, v, ins, ty, lines, helpers, fresh, empty,
                "k%d" % i if locs else None)
    elif n.op in ("matmul", "bmm", "matvec"):
        f = zeros(n.shape)
        opname = {"matmul": "linalg.matmul", "bmm": "linalg.batch_matmul",
                  "matvec": "linalg.matvec"}[n.op]
        lines.append("%s = %s ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            v, opname, ins[0], ins[1], tys[0], tys[1], f, ty, ty))
    elif n.op == "reduce":
        f = zeros(n.shape, a["init"])
        x, acc, r = fresh("x"), fresh("acc"), fresh("r")
        body = "arith.addf" if a["kind"] == "sum" else "arith.maximumf"
        lines.append("%s = linalg.reduce ins(%s : %s) outs(%s : %s) "
                     "dimensions = [%d]" % (v, ins[0], tys[0], f, ty,
                                            a["dim"]))
        lines.append("  (%s: f32, %s: f32) {" % (x, acc))
        lines.append("  %s = %s %s, %s : f32" % (r, body, x, acc))
        lines.append("  linalg.yield %s : f32" % r)
        lines.append("  }")
    elif n.op == "bcast":
        e = empty(n.shape)
        lines.append("%s = linalg.broadcast ins(%s : %s) outs(%s : %s) "
                     "dimensions = [%d]" % (v, ins[0], tys[0], e, ty,
                                            a["dim"]))
    elif n.op == "transpose":
        e = empty(n.shape)
        lines.append("%s = linalg.transpose ins(%s : %s) outs(%s : %s) "
                     "permutation = [%s]" % (
                         v, ins[0], tys[0], e, ty,
                         ", ".join(str(p) for p in a["perm"])))
    elif n.op == "slice":
        r = len(n.shape)
        lines.append("%s = tensor.extract_slice %s[%s] [%s] [%s] : %s to "
                     "%s" % (v, ins[0], ", ".join(map(str, a["offsets"])),
                             ", ".join(map(str, n.shape)),
                             ", ".join(["1"] * r), tys[0], ty))
    elif n.op == "insert":
        small = g.nodes[n.ins[0]].shape
        lines.append("%s = tensor.insert_slice %s into %s[%s] [%s] [%s] : "
                     "%s into %s" % (
                         v, ins[0], ins[1],
                         ", ".join(map(str, a["offsets"])),
                         ", ".join(map(str, small)),
                         ", ".join(["1"] * len(small)), tys[0], ty))
    elif n.op in ("collapse", "expand"):
        d = a["dim"]
        full = n.shape if n.op == "expand" else g.nodes[n.ins[0]].shape
        groups, k = [], 0
        for j in range(len(full) - 1):
            if j == d:
                groups.append("[%d, %d]" % (k, k + 1))
                k += 2
            else:
                groups.append("[%d]" % k)
                k += 1
        if k < len(full):
            groups.append("[%d]" % k)
        assoc = "[%s]" % ", ".join(groups)
        if n.op == "collapse":
            lines.append("%s = tensor.collapse_shape %s %s : %s into %s" %
                         (v, ins[0], assoc, tys[0], ty))
        else:
            lines.append("%s = tensor.expand_shape %s %s output_shape "
                         "[%s] : %s into %s" % (
                             v, ins[0], assoc,
                             ", ".join(map(str, n.shape)), tys[0], ty))
    elif n.op == "concat":
        lines.append("%s = tensor.concat dim(%d) %s, %s : (%s, %s) -> %s" %
                     (v, a["dim"], ins[0], ins[1], tys[0], tys[1], ty))
    elif n.op == "loop":
        lo, hi, st = fresh("lb"), fresh("ub"), fresh("st")
        lines.append("%s = arith.constant 0 : index" % lo)
        lines.append("%s = arith.constant %d : index" % (hi, a["trips"]))
        lines.append("%s = arith.constant 1 : index" % st)
        iv, acc = fresh("i"), fresh("acc")
        lines.append("%s = scf.for %s = %s to %s step %s iter_args(%s = "
                     "%s) -> (%s) {" % (v, iv, lo, hi, st, acc, ins[0],
                                        ty))
        body, out = emit_expr(a["steps"], [acc] + ins[1:], False, n.shape,
                              fresh, loc="k%d" % i if locs else None)
        lines.extend("  " + b for b in body)
        lines.append("  scf.yield %s : %s" % (out, ty))
        lines.append("}")
    else:
        raise AssertionError(n.op)


def emit_ew(n, v, ins, ty, lines, helpers, fresh, empty, loc):
    a = n.attrs
    steps = a["steps"]
    if a["form"] == "tensor":
        body, out = emit_expr(steps, ins, False, n.shape, fresh, loc=loc)
        # The last line defines the last step: name it v.
        last = body.pop()
        lines.extend(body)
        lines.append(v + last[last.index(" = "):])
    elif a["form"] == "generic":
        rank = len(n.shape)
        const_names = {}
        if a.get("captured"):
            for c in expr_consts(steps):
                const_names[c] = fresh("k")
                lines.append("%s = arith.constant %s : f32" % (
                    const_names[c], fmt_float(c)))
        e = empty(n.shape)
        bargs = [fresh("in") for _ in ins]
        o = fresh("o")
        body, out = emit_expr(steps, bargs, True, n.shape, fresh, const_names)
        maps = ", ".join([idmap(rank)] * (len(ins) + 1))
        its = ", ".join(['"parallel"'] * rank)
        lines.append("%s = linalg.generic {indexing_maps = [%s], "
                     "iterator_types = [%s]} ins(%s : %s) outs(%s : %s) {" % (
                         v, maps, its, ", ".join(ins),
                         ", ".join([ty] * len(ins)), e, ty))
        lines.append("^bb0(%s, %s: f32):" % (
            ", ".join("%s: f32" % b for b in bargs), o))
        lines.extend("  " + b for b in body)
        lines.append("  linalg.yield %s : f32" % out)
        lines.append("} -> %s" % ty)
    else:
        name = "helper%d" % len(helpers)
        hargs = ["%%h%d" % k for k in range(len(ins))]
        body, out = emit_expr(steps, hargs, False, n.shape, fresh, loc=loc)
        helpers.append(["func.func private @%s(%s) -> %s {" % (
            name, ", ".join("%s: %s" % (h, ty) for h in hargs), ty)]
            + ["  " + b for b in body]
            + ["  return %s : %s" % (out, ty), "}"])
        lines.append("%s = func.call @%s(%s) : (%s) -> %s" % (
            v, name, ", ".join(ins), ", ".join([ty] * len(ins)), ty))


# ----------------------------------------------------------------------------
# The interpreter (float64), with a rounding model.

class Ctx:
    """Evaluation context: the seed is `scale` (grads are divided by it at
    the end, as the compiled step unscales them in f32). `low` holds the ops
    (node keys) that mpt-assign-precision made 16-bit. With `rng`, values
    are perturbed as rounding would: to `fmt` where a 16-bit op reads or
    writes them (relative u plus half the smallest subnormal), to f32
    elsewhere, plus the f32 accumulation error of sums. `peak` is the
    largest magnitude seen at a 16-bit rounding point, `peak_all` of any
    computed value."""

    def __init__(self, fmt="f32", rng=None, scale=1.0, low=()):
        self.fmt, self.rng, self.scale = fmt, rng, scale
        self.low = set(low)
        self.peak = self.peak_all = 0.0

    @staticmethod
    def _max(v):
        v = np.asarray(v)
        if not v.size:
            return 0.0
        m = float(np.max(np.abs(v)))
        return m if math.isfinite(m) else math.inf

    def _perturb(self, v, fmt):
        if self.rng is None:
            return v
        f = FORMATS[fmt]
        r1 = self.rng.uniform(-1, 1, np.shape(v))
        r2 = self.rng.uniform(-1, 1, np.shape(v))
        return v * (1 + f["u"] * r1) + f["tiny"] * r2

    def to16(self, v):
        self.peak = max(self.peak, self._max(v))
        return self._perturb(v, self.fmt)

    def inp(self, key, v, is16, ok=True):
        """Operand v of op `key`: cast to 16 bits if the op is 16-bit, the
        value is not 16-bit already and (constants) fits the format."""
        if key in self.low and not is16 and ok:
            return self.to16(v)
        return v

    def out(self, key, v, acc=None):
        """Result of op `key` -> (value, is16). `acc`: (sum of magnitudes,
        terms) of an f32-accumulated sum, whose result stays f32."""
        self.peak_all = max(self.peak_all, self._max(v))
        if acc is not None and self.rng is not None:
            v = v + acc[1] * FORMATS["f32"]["u"] * acc[0] * \
                self.rng.uniform(-1, 1, np.shape(v))
        if key in self.low and acc is None:
            return self.to16(v), True
        return self._perturb(v, "f32"), False

    def const(self, key, c):
        if key in self.low and fits(c, self.fmt):
            return self.to16(np.float64(c))
        return np.float64(c)


MOVES = ("seedb", "bcast", "transpose", "slice", "insert", "collapse",
         "expand", "concat")


def evaluate(g, inputs, ctx):
    """Runs the graph; `inputs` maps leaf node index -> array. Returns the
    outputs [loss, grads...] (grads divided by the scale)."""
    vals = {}
    for i in live_nodes(g):
        n = g.nodes[i]
        a = n.attrs
        key = "k%d" % i
        ops = [(vals[j][0], vals[j][1],
                g.nodes[j].op != "const" or fits(g.nodes[j].attrs["value"],
                                                 ctx.fmt))
               for j in n.ins]
        ins = [ctx.inp(key, *o) for o in ops]
        is16 = False
        if n.op in ("input", "param"):
            v = inputs[i]
        elif n.op == "seed":
            v = np.float64(ctx.scale)
        elif n.op == "const":
            v = np.full(n.shape, np.float64(a["value"]))
        elif n.op == "ew":
            if a["form"] == "generic":
                v, is16 = eval_expr(a["steps"], ops, ctx, key, whole=True)
            else:
                v, is16 = eval_expr(a["steps"], ops, ctx, key)
        elif n.op in ("matmul", "bmm", "matvec"):
            k = g.nodes[n.ins[0]].shape[-1]
            v = np.matmul(ins[0], ins[1])
            absval = np.matmul(np.abs(ins[0]), np.abs(ins[1]))
            v, is16 = ctx.out(key, v, (absval, k))
        elif n.op == "reduce":
            x = ins[0]
            if a["kind"] == "sum":
                v = np.sum(x, axis=a["dim"])
                v, is16 = ctx.out(key, v, (np.sum(np.abs(x), axis=a["dim"]),
                                           x.shape[a["dim"]]))
            else:
                v = np.maximum(np.max(x, axis=a["dim"]), a["init"])
        elif n.op in MOVES:
            is16 = key in ctx.low or all(o[1] for o in ops)
            if n.op == "seedb":
                v = np.broadcast_to(ins[0], n.shape)
            elif n.op == "bcast":
                v = np.broadcast_to(np.expand_dims(ins[0], a["dim"]),
                                    n.shape)
            elif n.op == "transpose":
                v = np.transpose(ins[0], a["perm"])
            elif n.op == "slice":
                v = ins[0][tuple(slice(o, o + s)
                                 for o, s in zip(a["offsets"], n.shape))]
            elif n.op == "insert":
                v = np.array(ins[1], np.float64, copy=True)
                v[tuple(slice(o, o + s) for o, s in
                        zip(a["offsets"], ins[0].shape))] = ins[0]
            elif n.op in ("collapse", "expand"):
                v = np.reshape(ins[0], n.shape)
            else:
                v = np.concatenate([ins[0], ins[1]], axis=a["dim"])
        elif n.op == "loop":
            cur = ops[0]
            for _ in range(a["trips"]):
                v, c16 = eval_expr(a["steps"], [cur] + ops[1:], ctx, key)
                cur = (v, c16, True)
            v, is16 = cur[0], cur[1]
        else:
            raise AssertionError(n.op)
        vals[i] = (np.asarray(v, np.float64), is16)
    return [vals[g.loss][0]] + [
        vals[gi][0] / (ctx.scale if g.nodes[gi].lin else 1.0)
        for gi, _ in g.grads]


def random_inputs(g, rng):
    """Inputs N(0, 1); parameters scaled by 1/sqrt(fan-in), as initializers
    do; all values exactly representable in f32."""
    out = {}
    for i in live_nodes(g):
        n = g.nodes[i]
        if n.op in ("input", "param"):
            x = rng.standard_normal(n.shape)
            if n.op == "param" and len(n.shape) > 1:
                x /= math.sqrt(max(1, int(np.prod(n.shape[:-1]))))
            out[i] = x.astype(np.float32).astype(np.float64)
    return out


def sensitivity(g, inputs, exact, fmt, seed, scale=1.0, low=()):
    """The largest normwise deviation per output of TRIALS runs of the
    rounding model."""
    rng = np.random.default_rng(seed)
    worst = [0.0] * len(exact)
    for _ in range(TRIALS):
        got = evaluate(g, inputs, Ctx(fmt, rng, scale, low))
        worst = [max(w, normwise(a, b)) for w, a, b in zip(worst, got, exact)]
    return worst


def normwise(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    nb = float(np.linalg.norm(b))
    d = float(np.linalg.norm(a - b))
    if nb == 0.0:
        return 0.0 if d == 0.0 else math.inf
    return d / nb


# ----------------------------------------------------------------------------
# Pipelines and running.

def random_config(rng):
    dtype = "f16" if rng.random() < 0.6 else "bf16"
    opts = {"dtype": dtype}
    if dtype == "f16":
        scaling = str(rng.choice(["none", "static", "dynamic", "default"]))
    else:
        scaling = str(rng.choice(["none", "static", "default"]))
    if scaling != "default":
        opts["loss-scaling"] = scaling
    eff = scaling if scaling != "default" else (
        "dynamic" if dtype == "f16" else "none")
    if eff != "none":
        opts["init-scale"] = float(rng.choice([1.0, 16.0, 1024.0, 65536.0]))
    if eff == "dynamic":
        opts["growth-interval"] = int(rng.choice([1, 2, 2000]))
        opts["hysteresis"] = int(rng.choice([1, 2]))
        opts["growth-factor"] = 2.0
        opts["backoff-factor"] = 0.5
    if rng.random() < 0.3:
        opts["keep-io-types"] = "false"
    if rng.random() < 0.3:
        opts["allow-excess-precision"] = "true"
    return opts


def scaling_of(opts):
    s = opts.get("loss-scaling")
    if s is None:
        return "dynamic" if opts["dtype"] == "f16" else "none"
    return s


def amp_flag(opts):
    parts = []
    for k, v in opts.items():
        if isinstance(v, float):
            v = repr(v)
        parts.append("%s=%s" % (k, v))
    return "--auto-mixed-precision=" + " ".join(parts)


def classify_tool_error(err):
    """A short failure class of a ToolError."""
    text = err.stderr or str(err)
    if err.timed_out:
        return "hang (timeout)"
    if (err.returncode is not None and err.returncode < 0) or \
            "PLEASE submit a bug report" in text or "Assertion" in text:
        return "crash"
    first = [l for l in text.splitlines() if "error:" in l]
    if first:
        msg = first[0].split("error:", 1)[1].strip()
        # Drop SSA names and numbers: one class per kind of message.
        msg = re.sub(r"'[^']*'|\"[^\"]*\"|%\w+|\b\d[\w.+-]*", "_", msg)
        return "error: " + msg[:80]
    return "tool failed (rc %s)" % err.returncode


def call_child(jobs, timeout):
    """Runs @step of each compiled library [(Library, arrays)...] in one
    child process (a crash of a compiled step must not end the harness).
    Returns (outputs per job, None) or (None, what went wrong)."""
    for k, (lib, arrays) in enumerate(jobs):
        d = os.path.dirname(lib.path)
        np.savez(os.path.join(d, "in.npz"), *arrays)
        with open(os.path.join(d, "module.mlir"), "w") as f:
            f.write(lib.text)
    dirs = [os.path.dirname(lib.path) for lib, _ in jobs]
    cmd = [sys.executable, "-m", "mpt.testing.fuzzgraph",
           "--call-child"] + dirs
    which = lambda: next((("fp32", "amp")[k] for k, d in enumerate(dirs)
                          if not os.path.exists(os.path.join(d, "out.npz"))),
                         "step")
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "%s step hangs (timeout)" % which()
    if proc.returncode != 0:
        return None, "%s step crashed (rc %d): %s" % (
            which(), proc.returncode,
            proc.stderr.decode(errors="replace")[-300:])
    outs = []
    for d in dirs:
        out = np.load(os.path.join(d, "out.npz"))
        outs.append([out["arr_%d" % i] for i in range(len(out.files))])
    return outs, None


def to_bf16_bits(a):
    """bf16 bits of a (round to nearest even), as the loader wants them."""
    b = np.ascontiguousarray(a, np.float32).view(np.uint32).astype(np.uint64)
    s16, one = np.uint64(16), np.uint64(1)
    b = (b + np.uint64(0x7FFF) + ((b >> s16) & one)) >> s16
    return b.astype(np.uint16)


def child_main(dirs):
    for d in dirs:
        child_call(d)
    return 0


def child_call(d):
    with open(os.path.join(d, "module.mlir")) as f:
        text = f.read()
    lib = aot.Library(os.path.join(d, "libstep.so"), text)
    ins = np.load(os.path.join(d, "in.npz"))
    arrays = [ins["arr_%d" % i] for i in range(len(ins.files))]
    arg_types, _ = aot.parse_signature(text, "step")
    conv = []
    for a, t in zip(arrays, arg_types):
        if t.shape is None:
            conv.append(a.reshape(()).item())
        elif t.elem == "bf16":
            conv.append(to_bf16_bits(a))
        else:
            conv.append(a.astype(aot._NP_TYPES[t.elem]))
    outs = lib.call("step", *conv)
    _, res_types = aot.parse_signature(text, "step")
    fixed = []
    for o, t in zip(outs, res_types):
        if t.elem == "bf16":
            o = (o.astype(np.uint32) << 16).view(np.float32)
        fixed.append(np.asarray(o))
    np.savez(os.path.join(d, "out.npz"), *fixed)


class Failure(Exception):
    def __init__(self, kind, detail=""):
        super().__init__("%s%s" % (kind, (": " + detail) if detail else ""))
        self.kind, self.detail = kind, detail


def compile_in(text, workdir, amp_opts=None):
    """The FP32 step lowered, or the step through the AMP pipeline (printed,
    hence verified, by mpt-opt) then lowered; a failure names its stage."""
    stage = "fp32 lowering"
    try:
        if amp_opts is not None:
            stage = "amp"
            src = os.path.join(workdir, "input.mlir")
            with open(src, "w") as f:
                f.write(text)
            text = aot._run([aot._tool("mpt-opt", "MPT_TOOLS_DIR"), src,
                             amp_flag(amp_opts)], timeout=TIMEOUT).decode()
            stage = "amp lowering"
        return aot.compile_module(text, workdir=workdir, timeout=TIMEOUT)
    except aot.ToolError as e:
        msg = "\n".join(l for l in (e.stderr or str(e)).splitlines()
                        if "error:" in l or "Assertion" in l
                        or "PLEASE" in l)[:1500]
        raise Failure("%s: %s" % (stage, classify_tool_error(e)),
                      msg or str(e)[-1500:])


def check_case(g, opts, input_seed, workdir):
    """Raises Failure or returns a one-line summary."""
    text = emit(g)
    fmt = opts["dtype"]
    scaling = scaling_of(opts)
    scale = opts.get("init-scale", 1.0) if scaling != "none" else 1.0
    rng = np.random.default_rng(input_seed)
    inputs = random_inputs(g, rng)
    exact = evaluate(g, inputs, Ctx())
    if not all(np.all(np.isfinite(e)) for e in exact):
        return "skipped: not finite in float64"
    os.makedirs(workdir, exist_ok=True)
    low = documented_low(g, assigned_low(g, fmt, workdir, opts), fmt)
    # Overflow: values at 16-bit rounding points near the format's max, at
    # the loss scale.
    peak_ctx = Ctx(fmt, None, scale, low)
    evaluate(g, inputs, peak_ctx)
    overflow = peak_ctx.peak >= FORMATS[fmt]["max"] / 2
    if peak_ctx.peak_all >= FORMATS["f32"]["max"] / 2 / max(scale, 1.0):
        return "skipped: near f32 overflow"
    sens32 = sensitivity(g, inputs, exact, "f32", input_seed + 1)
    sens16 = sensitivity(g, inputs, exact, fmt, input_seed + 2, scale, low)
    u16, u32 = FORMATS[fmt]["u"], FORMATS["f32"]["u"]
    arrays = [inputs[i] for i in sorted(inputs)] + [np.float64(1.0)]
    # Argument order of emit(): live leaves in node order, then the seed.
    ref_dir = os.path.join(workdir, "fp32")
    amp_dir = os.path.join(workdir, "amp")
    os.makedirs(ref_dir, exist_ok=True)
    os.makedirs(amp_dir, exist_ok=True)
    ref = compile_in(text, ref_dir)
    detached = [k for k, (gi, _) in enumerate(g.grads)
                if not g.nodes[gi].lin]
    try:
        amp = compile_in(text, amp_dir, opts)
    except Failure as f:
        if detached and scaling != "none" and f.kind.startswith(
                "amp: error") and re.search(r"seed|loss_grad", f.detail):
            # Documented: loss scaling refuses grads not from the seed.
            return "ok: refused, grad #%d does not read the seed: %s" % (
                detached[0], f.detail.splitlines()[0][-120:])
        raise
    extra = []
    if scaling == "dynamic":
        extra = [np.float32(scale), np.int32(0),
                 np.int32(opts.get("hysteresis", 1))]
    outs, err = call_child([(ref, arrays), (amp, arrays + extra)], TIMEOUT)
    if err:
        raise Failure(err.split(":")[0], err)
    want, got = outs
    nout = 1 + len(g.grads)
    notes = []
    # FP32 against float64.
    for k in range(nout):
        e = normwise(want[k], exact[k])
        budget = max(FLOOR_U * u32, SLACK * sens32[k])
        if not e <= budget:
            raise Failure("fp32 differs from float64",
                          "result #%d: normwise %.3g > budget %.3g" % (
                              k, e, budget))
    found_inf = False
    if scaling != "none":
        if len(got) < nout + 1:
            raise Failure("loss scaling: missing found_inf result")
        found_inf = bool(np.asarray(got[nout]))
        if found_inf and not overflow:
            raise Failure("spurious found_inf",
                          "no value within 2x of the %s max at scale %g "
                          "(peak %.3g)" % (fmt, scale, peak_ctx.peak))
        if scaling == "dynamic":
            check_state(opts, scale, found_inf, got[nout + 1:nout + 4])
    worst, unchecked = 0.0, 0
    for k in range(nout):
        if k > 0 and found_inf:
            continue  # the step would be skipped
        e = normwise(got[k], want[k])
        if sens16[k] > ILL and (math.isfinite(e) or overflow):
            # The rewrite as decided cannot give this output to 10 %
            # (underflow, cancellation): only its finiteness is checked.
            unchecked += 1
            continue
        budget = max(FLOOR_U * u16, SLACK * sens16[k]) + max(
            FLOOR_U * u32, SLACK * sens32[k])
        if not e <= budget:
            if overflow:
                notes.append("result #%d off (%.3g > %.3g) explained by "
                             "overflow (peak %.3g)" % (k, e, budget,
                                                       peak_ctx.peak))
                continue
            raise Failure("16-bit result off budget",
                          "result #%d: normwise %.3g > budget %.3g = %.1f u "
                          "(%s)" % (k, e, budget, budget / u16, fmt))
        if budget > 0:
            worst = max(worst, e / budget)
    return "ok: %d ops, %d 16-bit, worst error %.2f of budget%s%s%s" % (
        len(live_nodes(g)), len(low), worst,
        ", %d ill-conditioned output(s) unchecked" % unchecked
        if unchecked else "",
        ", found_inf (overflow)" if found_inf else "",
        "; " + "; ".join(notes) if notes else "")


def documented_low(g, low, fmt):
    """`low` without the ops that read a constant the format cannot hold:
    such an op stays f32 (docs/AutoMixedPrecision.md), whatever mpt
    decided, so that the budget is the one of the documented rewrite."""
    out = set(low)

    def bad_node(j):
        n = g.nodes[j]
        return n.op == "const" and not fits(n.attrs["value"], fmt)

    def bad_ref(r, args):
        return (r[0] == "c" and not fits(r[1], fmt)) or (
            r[0] == "a" and r[1] < len(args) and args[r[1]] is not None
            and bad_node(args[r[1]]))

    for i, n in enumerate(g.nodes):
        key = "k%d" % i
        if any(bad_node(j) for j in n.ins):
            out.discard(key)
        steps = n.attrs.get("steps")
        if not steps:
            continue
        args = list(n.ins) if n.op == "ew" else [None] + list(n.ins[1:])
        for j, st in enumerate(steps):
            if any(bad_ref(r, args) for r in st[1:]):
                out.discard("%s_%d" % (key, j))
                out.discard(key)  # a generic holding it
    return out


def assigned_low(g, fmt, workdir, opts=None):
    """The node keys that mpt-assign-precision makes 16-bit (read from the
    locations of the coloured ops): the rounding model follows mpt's
    decisions, the check then holds the rewrite to them."""
    opts = opts or {}
    src = os.path.join(workdir, "located.mlir")
    with open(src, "w") as f:
        f.write(emit(g, locs=True))
    try:
        lists = "".join(" %s=%s" % (k, opts[k]) for k in
                        ("allow", "infer", "clear", "deny", "policy")
                        if k in opts)
        out = aot._run([aot._tool("mpt-opt", "MPT_TOOLS_DIR"), src,
                        "--mpt-assign-precision=dtype=%s%s" % (fmt, lists),
                        "--mlir-print-op-generic", "--mlir-print-debuginfo"],
                       timeout=TIMEOUT).decode()
    except aot.ToolError as e:
        raise Failure("assign: %s" % classify_tool_error(e), str(e)[-1500:])
    aliases = dict(re.findall(r'^(#loc\d+) = loc\("(k[\d_]+)"\)', out, re.M))
    low = set()
    for m in re.finditer(r'mpt\.assigned = "(\w+)".*loc\((#loc\d+|"k[\d_]+")'
                         r'\)\s*$', out, re.M):
        if m.group(1) != "f32":
            ref = m.group(2)
            key = aliases.get(ref) if ref.startswith("#") else ref.strip('"')
            if key:
                low.add(key)
    return low


def check_state(opts, scale, found_inf, state):
    """The documented dynamic update of (scale, tracker, hysteresis) after
    one step from (init-scale, 0, hysteresis)."""
    hyst = opts.get("hysteresis", 1)
    interval = opts.get("growth-interval", 2000)
    if found_inf:
        if hyst <= 1:
            want = (max(scale * opts.get("backoff-factor", 0.5), 1.0), 0, hyst)
        else:
            want = (scale, 0, hyst - 1)
    else:
        tracker, s = 1, scale
        if tracker >= interval:
            grown = scale * opts.get("growth-factor", 2.0)
            if math.isfinite(grown):
                s = min(grown, 16777216.0)
            tracker = 0
        want = (s, tracker, hyst)
    got = tuple(float(np.asarray(x)) for x in state)
    if got != tuple(float(w) for w in want):
        raise Failure("loss-scale state update",
                      "got %s, expected %s" % (got, want))


# ----------------------------------------------------------------------------
# Cases: a seed and its options, or a saved (minimised) graph.

def case_for(seed, size, features):
    rng = np.random.default_rng([seed, 7])
    return dict(seed=seed, size=size, features=list(features),
                opts=random_config(rng), input_seed=seed)


def case_graph(case):
    """A saved case carries its (minimised) graph; a fresh one its seed."""
    if "graph" in case:
        return graph_from_json(case["graph"])
    return generate(case["seed"], case["size"], case["features"])


def failure_of(case, tmp, g=None):
    wd = tempfile.mkdtemp(dir=tmp)
    try:
        check_case(g or case_graph(case), case["opts"], case["input_seed"],
                   wd)
        return None
    except Failure as f:
        return f
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def minimise(case, failure, tmp, budget_s=300):
    """Delta debugging: replace chunks of ops by fresh leaves while the same
    kind of failure persists (halving the chunk when none can go), then
    drop options. Returns the case with its minimised graph."""
    start = time.time()
    g = case_graph(case)

    def same(c, gr):
        f = failure_of(c, tmp, gr)
        return f is not None and f.kind == failure.kind

    def removable(gr):
        return [i for i in live_nodes(gr)
                if gr.nodes[i].op not in ("input", "param", "seed", "seedb")
                and i != gr.loss]

    cand = removable(g)
    chunk = max(1, len(cand) // 2)
    while chunk >= 1 and time.time() - start < budget_s:
        changed, k = False, 0
        while k < len(cand) and time.time() - start < budget_s:
            trial = graph_from_json(graph_to_json(g))
            for i in cand[k:k + chunk]:
                replace_by_leaf(trial, i)
            if same(case, trial):
                g, changed = trial, True
                live = set(removable(g))
                cand = [i for i in cand if i in live]
            else:
                k += chunk
        if not changed:
            chunk //= 2
    # Then bypass single ops: users read an operand of the same shape.
    for i in sorted(removable(g), reverse=True):
        if time.time() - start >= budget_s:
            break
        n = g.nodes[i]
        for j in n.ins:
            m = g.nodes[j]
            if m.shape == n.shape and m.lin == n.lin and m.op != "const":
                trial = graph_from_json(graph_to_json(g))
                bypass(trial, i, j)
                if same(case, trial):
                    g = trial
                break
    case = dict(case, graph=graph_to_json(g))
    for key in ["keep-io-types", "allow-excess-precision", "growth-interval",
                "hysteresis", "growth-factor", "backoff-factor"]:
        if key in case["opts"] and time.time() - start < budget_s:
            opts = dict(case["opts"])
            del opts[key]
            trial = dict(case, opts=opts)
            if same(trial, g):
                case = trial
    return case


def const16_values(amp_text):
    """(value, text) of every f16/bf16 constant in the AMP output."""
    out = []
    for m in re.finditer(r"arith\.constant (?:dense<)?"
                         r"([-+0-9.eEx]+|0x[0-9A-Fa-f]+)"
                         r">? : (?:tensor<[0-9x]*)?(b?f16)\b", amp_text):
        lit, ty = m.group(1), m.group(2)
        if lit.startswith("0x"):
            bits = int(lit, 16)
            v = float(np.array(bits, np.uint16).view(np.float16)) \
                if ty == "f16" else float(np.array(bits << 16, np.uint32)
                                          .view(np.float32))
        else:
            v = float(lit)
        out.append((v, ty, m.group(0)))
    return out


def known_defect(case, failure, text):
    """Which defect of issue 12 a failure is (checked where it can be)."""
    fmt = case["opts"]["dtype"]
    consts = []
    for m in re.finditer(r"arith\.constant (?:dense<)?([-0-9.e+]+)", text):
        try:
            consts.append(float(m.group(1)))
        except ValueError:
            pass
    odd = [c for c in consts if not fits(c, fmt) and abs(c) < 1e38]
    if failure.kind.startswith("amp: error") and re.search(
            r"arith\.(bitcast|truncf)|scf\.if|requires the same type",
            failure.detail):
        return "defect 4 (a generic body retyped into invalid IR)"
    g = case_graph(case)
    if failure.kind == "16-bit result off budget" and \
            scaling_of(case["opts"]) != "none" and any(
                not g.nodes[gi].lin for gi, _ in g.grads):
        return "defect 2 (a grad that does not read the seed was unscaled)"
    if failure.kind not in ("16-bit result off budget", "spurious found_inf"):
        return "unknown"
    if not odd:
        return "unknown: no constant out of the format's range"
    try:
        amp = aot._run([aot._tool("mpt-opt", "MPT_TOOLS_DIR"), "-",
                        amp_flag(case["opts"])], stdin=text.encode(),
                       timeout=TIMEOUT).decode()
    except aot.ToolError:
        return "defect 1? (constant %s does not fit %s)" % (
            fmt_float(odd[0]), fmt)
    normal = FORMATS[fmt]["normal"]
    for v, ty, lit in const16_values(amp):
        if math.isinf(v) or 0 < abs(v) < normal:
            return "defect 1 (the rewrite holds '%s' for a constant that " \
                "does not fit %s)" % (lit, fmt)
    small = [c for c in odd if c and abs(c) < normal]
    for v, ty, lit in const16_values(amp):
        if v == 0 and small:
            return "defect 1 (the rewrite holds '%s' for %s)" % (
                lit, fmt_float(small[0]))
    return "defect 1? (constant %s does not fit %s; no truncated copy " \
        "seen)" % (fmt_float(odd[0]), fmt)


def save(case, failure, out_dir, name):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    g = compact(case_graph(case))
    case = dict(case, graph=graph_to_json(g))
    text = emit(g)
    with open(os.path.join(d, "step.mlir"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=1, sort_keys=True)
    # Scratch paths of this machine out: the file is step.mlir.
    detail = re.sub(r"/\S*/(\w+\.mlir)", "step.mlir", failure.detail)
    with open(os.path.join(d, "failure.txt"), "w") as f:
        f.write("%s\n%s\npipeline: mpt-opt step.mlir '%s' --mpt-lower-to-cpu"
                "\nhint: %s\n" % (failure.kind, detail,
                                  amp_flag(case["opts"]),
                                  known_defect(case, failure, text)))
    return d


def parse_seeds(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.fuzzgraph")
    ap.add_argument("--seeds", help="e.g. 0-19 or 3,5,8")
    ap.add_argument("--time", type=float, help="run random seeds this long")
    ap.add_argument("--start", type=int, default=0,
                    help="first seed of a --time run")
    ap.add_argument("--size", type=int, default=12, help="ops per half")
    ap.add_argument("--features", default=",".join(ALL_FEATURES))
    ap.add_argument("--out", help="save failing cases, minimised, here")
    ap.add_argument("--minimise-time", type=float, default=300)
    ap.add_argument("--repro", help="re-run saved cases under this folder")
    ap.add_argument("--print", type=int, metavar="SEED",
                    help="print the step of a seed and its options")
    ap.add_argument("--call-child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.call_child:
        return child_main(args.call_child)
    feats = [f for f in args.features.split(",") if f]
    if args.print is not None:
        case = case_for(args.print, args.size, feats)
        print("// %s" % amp_flag(case["opts"]))
        print(emit(generate(args.print, args.size, feats)), end="")
        return 0
    tmp = tempfile.mkdtemp(prefix="mpt-fuzzgraph-")
    try:
        if args.repro:
            return repro(args.repro, tmp)
        return run(args, feats, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, feats, tmp):
    if args.seeds:
        seeds = iter(parse_seeds(args.seeds))
    else:
        seeds = iter(range(args.start, 1 << 62))
    deadline = time.time() + args.time if args.time else None
    fails = 0
    count = 0
    kinds = {}
    for seed in seeds:
        if deadline and time.time() > deadline:
            break
        case = case_for(seed, args.size, feats)
        wd = tempfile.mkdtemp(dir=tmp)
        f = None
        try:
            summary = check_case(case_graph(case), case["opts"],
                                 case["input_seed"], wd)
        except Failure as e:
            f = e
        except Exception:  # a bug of the harness: say so, go on
            import traceback
            f = Failure("harness error", traceback.format_exc()[-2000:])
        shutil.rmtree(wd, ignore_errors=True)
        count += 1
        if f is None:
            print("PASS seed %d %s: %s" % (seed, amp_flag(case["opts"]),
                                           summary), flush=True)
            continue
        fails += 1
        label = known_defect(case, f, emit(case_graph(case))).split(" (")[0]
        key = "%s [%s]" % (f.kind, label)
        kinds[key] = kinds.get(key, 0) + 1
        print("FAIL seed %d %s: %s" % (seed, amp_flag(case["opts"]), f),
              flush=True)
        if kinds[key] > (SAVE_PER_KIND if label.startswith("defect")
                         else 3 * SAVE_PER_KIND):
            # Seen often (a known defect): counted, not minimised again.
            print("  %s: seen %d times, not saved" % (label, kinds[key]))
        elif args.out:
            budget = args.minimise_time
            if deadline:
                budget = min(budget, max(30.0, deadline - time.time()))
            small = minimise(case, f, tmp, budget)
            g2 = case_graph(small)
            f2 = failure_of(small, tmp) or f
            d = save(small, f2, args.out, "graph-%d" % seed)
            print("  minimised to %d ops, saved in %s (%s)" % (
                len(live_nodes(g2)), d, known_defect(small, f2, emit(g2))),
                flush=True)
    print("%d graphs, %d failing" % (count, fails))
    for k in sorted(kinds):
        print("  %4d x %s" % (kinds[k], k))
    return 1 if fails else 0


def repro(folder, tmp):
    """Re-runs every saved case (a folder with case.json) under `folder`."""
    dirs = sorted(os.path.dirname(os.path.join(r, "case.json"))
                  for r, _, files in os.walk(folder) if "case.json" in files)
    bad = 0
    for d in dirs:
        with open(os.path.join(d, "case.json")) as f:
            case = json.load(f)
        g = case_graph(case)
        name = os.path.relpath(d, folder)
        f = failure_of(case, tmp, g)
        if f is None:
            print("PASS %s" % name)
        else:
            bad += 1
            print("FAIL %s: %s" % (name, f), flush=True)
    print("%d cases, %d failing" % (len(dirs), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
