"""Kernel-level GPU check cases: single ops against a float64 reference.

prepare.py builds these beside the training steps (cases named `kernel-...`,
same data.npz / meta.json format); check.py runs them on the GPU. Each case
is a plain `func.func @step(...) -> (...)` on tensors (no roles) holding one
op, or a short chain, that the lowering could get wrong: the tiled block
reductions of `mpt-linalg-to-gpu-launch` (column / row / full / mixed
layouts, split across blocks with a second combining launch when the
outputs are few, a short reduction kept one thread per output, an initial
output combined with the result, dynamic shapes, several outputs, max and
`or` combiners), broadcasting elementwise ops, 16-bit elementwise chains,
and tensor-core contractions with transposed operands.

The expected results come from an independent numpy float64 reference
computed from the exact input values (inputs are generated in their storage
format, so rounding the inputs is no error), then rounded to the result's
format (bf16 as uint16 bits, i1 as bool).

Tolerances (meta `norm` = "inf": check.py compares
||got - want||_inf / ||want||_inf, so that one wrong output of many is not
averaged away). Every case has an a priori bound b_j on the error of output
j, computed from the data, and

    tolerance = SAFETY * max_j b_j / max_j |y_j|,     SAFETY = 2,

where y is the float64 result. Results rounded to a format with unit
roundoff u_out (2^-24 f32, 2^-11 f16, 2^-8 bf16) add 2 u_out |y_j| to b_j
(the GPU rounds its result, the reference is rounded too: one ulp apart at
most).

* Sums accumulated in a format with unit roundoff u (2^-24 for f32; the
  f16/bf16 -> f32 conversion and the square of a 16-bit value are exact in
  f32) are summation trees of depth h, so |err_j| <= h u sum_i |x_ij|
  (Higham, Accuracy and Stability, 4.2; the sum includes the initial output
  value). h follows the documented plan of `mpt-linalg-to-gpu-launch`:
  lanes L = 8 (column layout: innermost dimension parallel), 32 (row
  layout), 256 (full reduction); S splits along grid y = min(ceil(2 * 132
  SMs / blocks), max(1, n // (32 L))), blocks = ceil(outputs / (256 / L));
  each lane folds c = ceil(ceil(n / S) / L) elements into 4 accumulators
  (ceil(c/4) adds), 3 combines of the accumulators and at most 3 tail
  adds, then a tree of log2 L; a split adds the second launch's
  ceil(ceil(S / L2) / 4) + 6 + log2 L2 (L2 = 8, or 256 for a full
  reduction); +1 for the combine with the initial output:

      h = ceil(c/4) + 6 + log2 L [+ ceil(ceil(S/L2)/4) + 6 + log2 L2] + 1.

  That is the "(n_per_lane + log2 lanes) u" bound, n_per_lane counted per
  accumulator. A static partial reduction shorter than L runs in one
  thread per output: h = n (a full reduction is always tiled). A product x*x of f32 values adds one rounding (h + 1).
  The data are mostly positive (uniform in [-0.5, 1.5)), so sum|x| is
  about 1.25 |sum x| and the tolerance stays near 2 h u: a chunk of terms
  lost or counted twice is far outside it.
* Max reductions and `or` reductions are exact: tolerance 0 (bool results
  are compared for equality in any case).
* Tensor-core contractions (f16/bf16 inputs, f32 accumulator): products of
  16-bit values are exact in f32; the accumulation inside an mma.sync
  aligns and truncates (Fasi, Higham, Mikaitis, Pranesh 2021), so with
  u = 2^-23 and h = K + 2, b_ij = h u (|A| |B|)_ij. Inputs are N(0, 1)
  rounded to the input format.
* TF32 contractions (f32 inputs and output, built with the pipeline
  option `tf32=true`, carried as meta `pipeline`): each input is rounded
  to TF32 (cvt.rna, unit roundoff u_in = 2^-11), so each product is off
  by at most (2 u_in + u_in^2) |a||b|; products of TF32 values are exact
  in f32, and the accumulation is that of the 16-bit case:
  b_ij = ((2 u_in + u_in^2) + (K + 2) 2^-23 (1 + u_in)^2) (|A| |B|)_ij,
  plus 2^-24 |y| per f32 elementwise op of an epilogue and 2 2^-24 |y|
  for the f32 result. The input rounding dominates (about 2^-10 |A||B|),
  so a wrong element of a fragment (an O(1) error) stays far outside.
  `unit_roundoff` is u_in.
* Elementwise ops round once each, in the result's format u:
  (x + b) + c in f32: b = u (2 |x| + 2 |b| + |c|); relu(a * b + c) in
  f16/bf16: b = u (|a b| + |a b + c|) + u |y| (the 16-bit result is the
  kernel's last rounding; the reference is rounded once): a few units of
  the 16-bit format.

Usage: CASES lists (name, factory); factory() returns a Case whose first
fields are (name, mlir_text, inputs, expected, tolerance, unit_roundoff):
inputs[k] and expected[k] are the argument and result arrays of call k
(a dynamic-shape case is called with several shapes: `batches` labels
them). `python3 kernel_cases.py [REGEX...]` prints the cases (no build).
"""

import collections
import math
import re
import sys
import zlib

import numpy as np

U = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8, "i1": 0.0,
     "tf32": 2.0 ** -11}
U_TENSOR_CORE = 2.0 ** -23
SAFETY = 2
NUM_SMS = 132          # num-sms default of mpt-linalg-to-gpu-launch
MIN_PER_THREAD = 32    # a split leaves each thread at least this many
UNROLL = 4             # accumulators per lane
LANES = {"cols": 8, "rows": 32, "full": 256}
THREADS = 256
PRECISION = {"f32": "fp32", "f16": "f16", "bf16": "bf16", "tf32": "tf32"}
# A contraction "tf32" stores f32 inputs, which the kernel rounds to TF32
# (mpt-lower-to-nvvm option tf32=true).
STORAGE = {"tf32": "f32"}
TF32_PIPELINE = "tf32=true"
NEG_INF = {"f32": "0xFF800000", "f16": "0xFC00", "bf16": "0xFF80"}

Case = collections.namedtuple("Case", [
    "name", "text", "inputs", "expected", "tolerance", "unit_roundoff",
    "precision", "batches", "roles", "extra"])


# ---------------------------------------------------------------- formats

def bf16_bits(x):
    """float64/float32 -> bf16 bits (round to nearest even, via f32)."""
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    return b.astype(np.uint16)


def bf16_value(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(
        np.float32).astype(np.float64)


def store(x, elem):
    """(array in the storage dtype of `elem`, its exact float64 values)."""
    x = np.asarray(x, np.float64)
    if elem == "bf16":
        bits = bf16_bits(x)
        return bits, bf16_value(bits)
    if elem == "i1":
        return x.astype(np.bool_), x
    a = x.astype({"f32": np.float32, "f16": np.float16}[elem])
    return a, a.astype(np.float64)


def result(y, elem):
    """The float64 reference rounded to the result format."""
    return store(y, elem)[0]


def tolerance(bound, y):
    """SAFETY * max bound / max |y| (0 when the bound is 0)."""
    bound = np.max(np.asarray(bound, np.float64))
    if bound == 0:
        return 0.0
    return float(SAFETY * bound / max(np.max(np.abs(y)), 1e-300))


def ttype(shape, elem):
    if not shape:
        return "tensor<%s>" % elem
    return "tensor<%sx%s>" % ("x".join("?" if d is None else str(d)
                                       for d in shape), elem)


def amap(rank, results):
    dims = ", ".join("d%d" % i for i in range(rank))
    return "affine_map<(%s) -> (%s)>" % (dims, ", ".join(results))


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def mostly_positive(rng, shape):
    return rng.uniform(-0.5, 1.5, shape)


def negative(rng, shape):
    return -np.abs(rng.standard_normal(shape)) * 10.0 - 1e-3


# ------------------------------------------------------------- reductions

def reduction_depth(n, outputs, layout, static=True):
    """Depth h of the summation tree of one output (see the docstring)."""
    lanes = LANES[layout]
    if static and n < lanes and layout != "full":
        return n
    blocks = max(-(-outputs // (THREADS // lanes)), 1)
    wanted = -(-2 * NUM_SMS // blocks)
    most = max(n // (lanes * MIN_PER_THREAD), 1)
    splits = min(wanted, most)
    per_lane = -(-(-(-n // splits)) // lanes)
    h = -(-per_lane // UNROLL) + 6 + int(math.log2(lanes))
    if splits > 1:
        lanes2 = 256 if layout == "full" else 8
        h += -(-(-(-splits // lanes2)) // UNROLL) + 6 + int(math.log2(lanes2))
    return h + 1


def reduction_text(shape, elem_in, elem_out, rdims, kind, init=None,
                   form="generic"):
    """func @step(x) -> reduction of x over rdims. kind: sum, max, sumsq,
    nonfinite (i1 or), summax (two outputs: sum and max)."""
    rank = len(shape)
    keep = [d for d in range(rank) if d not in rdims]
    oshape = [shape[d] for d in keep]
    xt = ttype(shape, elem_in)
    ot = ttype(oshape, elem_out)
    nout = 2 if kind == "summax" else 1
    lines = ["func.func @step(%%x: %s) -> (%s) {" % (
        xt, ", ".join([ot] * nout))]
    dyn = []
    for d in keep:
        if shape[d] is None:
            lines.append("  %%c%d = arith.constant %d : index" % (d, d))
            lines.append("  %%n%d = tensor.dim %%x, %%c%d : %s" % (d, d, xt))
            dyn.append("%%n%d" % d)
    inits = []
    if kind == "summax":
        inits = [init or "0.0", NEG_INF[elem_out]]
    elif kind == "max":
        inits = [NEG_INF[elem_out]]
    elif kind == "nonfinite":
        inits = ["false"]
    else:
        inits = [init or "0.0"]
    outs = []
    for i, v in enumerate(inits):
        lines.append("  %%i%d = arith.constant %s" % (i, v) + (
            "" if v == "false" else " : %s" % elem_out))
        lines.append("  %%e%d = tensor.empty(%s) : %s" % (i, ", ".join(dyn),
                                                          ot))
        lines.append("  %%f%d = linalg.fill ins(%%i%d : %s) outs(%%e%d : %s)"
                     " -> %s" % (i, i, elem_out, i, ot, ot))
        outs.append("%%f%d" % i)
    accs = ["%%acc%d" % i for i in range(nout)]
    body = []
    v = "%in"
    if kind != "nonfinite" and elem_in != elem_out:
        body.append("%%v = arith.extf %%in : %s to %s" % (elem_in, elem_out))
        v = "%v"
    if kind == "sum":
        body.append("%%r0 = arith.addf %s, %%acc0 : %s" % (v, elem_out))
    elif kind == "max":
        body.append("%%r0 = arith.maximumf %s, %%acc0 : %s" % (v, elem_out))
    elif kind == "sumsq":
        body.append("%%sq = arith.mulf %s, %s : %s" % (v, v, elem_out))
        body.append("%%r0 = arith.addf %%sq, %%acc0 : %s" % elem_out)
    elif kind == "summax":
        body.append("%%r0 = arith.addf %s, %%acc0 : %s" % (v, elem_out))
        body.append("%%r1 = arith.maximumf %s, %%acc1 : %s" % (v, elem_out))
    elif kind == "nonfinite":
        body += ["%%a = math.absf %%in : %s" % elem_in,
                 "%%inf = arith.constant %s : %s" % (
                     {"f32": "0x7F800000", "f16": "0x7C00",
                      "bf16": "0x7F80"}[elem_in], elem_in),
                 "%%isinf = arith.cmpf oeq, %%a, %%inf : %s" % elem_in,
                 "%%isnan = arith.cmpf uno, %%in, %%in : %s" % elem_in,
                 "%bad = arith.ori %isinf, %isnan : i1",
                 "%r0 = arith.ori %bad, %acc0 : i1"]
    res = ["%%r%d" % i for i in range(nout)]
    yield_ = "linalg.yield %s : %s" % (", ".join(res),
                                       ", ".join([elem_out] * nout))
    args = ", ".join(["%%in: %s" % elem_in] +
                     ["%s: %s" % (a, elem_out) for a in accs])
    if form == "reduce":
        lines.append("  %%r = linalg.reduce ins(%%x : %s) outs(%s : %s) "
                     "dimensions = [%s]" % (xt, ", ".join(outs),
                                            ", ".join([ot] * nout),
                                            ", ".join(map(str, rdims))))
        lines.append("    (%s) {" % args)
        lines += ["    " + s for s in body + [yield_]]
        lines.append("    }")
    else:
        iters = ", ".join('"reduction"' if d in rdims else '"parallel"'
                          for d in range(rank))
        maps = [amap(rank, ["d%d" % d for d in range(rank)])]
        maps += [amap(rank, ["d%d" % d for d in keep])] * nout
        lines.append("  %%r%s = linalg.generic {indexing_maps = [%s], "
                     "iterator_types = [%s]}" % (
                         ":%d" % nout if nout > 1 else "", ", ".join(maps),
                         iters))
        lines.append("      ins(%%x : %s) outs(%s : %s) {" % (
            xt, ", ".join(outs), ", ".join([ot] * nout)))
        lines.append("  ^bb0(%s):" % args)
        lines += ["    " + s for s in body + [yield_]]
        lines.append("  } -> %s" % (ot if nout == 1 else
                                      "(%s)" % ", ".join([ot] * nout)))
    rets = ["%%r#%d" % i for i in range(nout)] if nout > 1 else ["%r"]
    lines.append("  return %s : %s" % (", ".join(rets),
                                       ", ".join([ot] * nout)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout_of(rank, rdims):
    if len(rdims) == rank:
        return "full"
    return "rows" if rank - 1 in rdims else "cols"


def reduce_reference(vals, rdims, kind, init):
    """(float64 results, their bound sums sum|terms|, terms rounded)."""
    axes = tuple(rdims)
    if kind in ("sum", "summax"):
        y = vals.sum(axis=axes) + init
        s1 = np.abs(vals).sum(axis=axes) + abs(init)
    elif kind == "sumsq":
        y = (vals * vals).sum(axis=axes) + init
        s1 = y.copy()
    if kind == "summax":
        return [y, vals.max(axis=axes)], s1
    if kind == "max":
        return [vals.max(axis=axes)], None
    if kind == "nonfinite":
        return [(~np.isfinite(vals)).any(axis=axes)], None
    return [y], s1


def reduction_case(name, shapes, elem_in, elem_out, rdims, kind="sum",
                   init=0.0, data=mostly_positive, plant=None,
                   form="generic", dynamic=False):
    """A reduction called once per shape of `shapes` (several: dynamic)."""
    rank = len(shapes[0])
    sig = [None] * rank if dynamic else list(shapes[0])
    text = reduction_text(sig, elem_in, elem_out, rdims, kind,
                          None if init == 0.0 else repr(float(init)), form)
    layout = layout_of(rank, rdims)
    rng = rng_for(name)
    inputs, expected, tols, depths = [], [], [], []
    for shape in shapes:
        x, vals = store(data(rng, shape), elem_in)
        if plant is not None:
            for idx, value in plant(shape):
                if elem_in == "bf16":
                    x[idx] = bf16_bits(value)
                else:
                    x[idx] = value
                vals[idx] = value
        ys, s1 = reduce_reference(vals, rdims, kind, init)
        n = int(np.prod([shape[d] for d in rdims]))
        outputs = int(np.prod([shape[d] for d in range(rank)
                               if d not in rdims]))
        h = reduction_depth(n, outputs, layout, static=not dynamic)
        if kind == "sumsq" and elem_in == "f32":
            h += 1
        depths.append(h)
        if s1 is not None:
            u_out = U[elem_out]
            bound = h * U[elem_out] * s1 + 2 * u_out * np.abs(ys[0])
            tols.append(tolerance(bound, ys[0]))
        else:
            tols.append(0.0)
        inputs.append([x])
        expected.append([result(y, elem_out) for y in ys])
    u = U[elem_out] if elem_out != "i1" else U[elem_in]
    return Case(name, text, inputs, expected, max(tols), u,
                PRECISION[elem_in], [s[0] if s else 1 for s in shapes],
                ["out%d" % i for i in range(len(expected[0]))],
                dict(shapes=[list(s) for s in shapes], layout=layout,
                     depth=depths, kind=kind))


# -------------------------------------------------------------- elementwise

def bcast_add_case(name, shape, elem):
    """y = (x + b) + c, b broadcast along the leading dims, c along the
    trailing ones (one linalg.generic)."""
    rank = len(shape)
    bshape, cshape = shape[-1:], shape[:1]
    xt, bt, ct = ttype(shape, elem), ttype(bshape, elem), ttype(cshape, elem)
    all_ = ["d%d" % i for i in range(rank)]
    maps = [amap(rank, all_), amap(rank, [all_[-1]]), amap(rank, [all_[0]]),
            amap(rank, all_)]
    iters = ", ".join(['"parallel"'] * rank)
    text = "\n".join([
        "func.func @step(%%x: %s, %%b: %s, %%c: %s) -> (%s) {" % (
            xt, bt, ct, xt),
        "  %%e = tensor.empty() : %s" % xt,
        "  %%r = linalg.generic {indexing_maps = [%s], iterator_types = "
        "[%s]}" % (", ".join(maps), iters),
        "      ins(%%x, %%b, %%c : %s, %s, %s) outs(%%e : %s) {" % (
            xt, bt, ct, xt),
        "  ^bb0(%%x0: %s, %%b0: %s, %%c0: %s, %%o: %s):" % ((elem,) * 4),
        "    %%s = arith.addf %%x0, %%b0 : %s" % elem,
        "    %%t = arith.addf %%s, %%c0 : %s" % elem,
        "    linalg.yield %%t : %s" % elem,
        "  } -> %s" % xt,
        "  return %%r : %s" % xt,
        "}"]) + "\n"
    rng = rng_for(name)
    x, xv = store(rng.standard_normal(shape), elem)
    b, bv = store(rng.standard_normal(bshape), elem)
    c, cv = store(rng.standard_normal(cshape), elem)
    cb = cv.reshape(cshape + [1] * (rank - 1))
    y = (xv + bv) + cb
    u = U[elem]
    bound = u * (2 * np.abs(xv) + 2 * np.abs(bv) + np.abs(cb)) + \
        2 * u * np.abs(y)
    return Case(name, text, [[x, b, c]], [[result(y, elem)]],
                tolerance(bound, y), u, PRECISION[elem], [1], ["out0"],
                dict(shapes=[list(shape)], kind="bcast-add"))


def chain_case(name, shape, elem, form):
    """y = max(a * b + c, 0) in the 16-bit format: three tensor ops
    (form "tensor", a kernel each, intermediates rounded) or one
    linalg.generic (form "generic", each op still rounded)."""
    t = ttype(shape, elem)
    rank = len(shape)
    if form == "tensor":
        body = [
            "  %%m = arith.mulf %%a, %%b : %s" % t,
            "  %%s = arith.addf %%m, %%c : %s" % t,
            "  %%z = arith.constant 0.0 : %s" % elem,
            "  %%e = tensor.empty() : %s" % t,
            "  %%f = linalg.fill ins(%%z : %s) outs(%%e : %s) -> %s" % (
                elem, t, t),
            "  %%r = arith.maximumf %%s, %%f : %s" % t]
    else:
        idm = amap(rank, ["d%d" % i for i in range(rank)])
        body = [
            "  %%e = tensor.empty() : %s" % t,
            "  %%r = linalg.generic {indexing_maps = [%s], iterator_types"
            " = [%s]}" % (", ".join([idm] * 4),
                          ", ".join(['"parallel"'] * rank)),
            "      ins(%%a, %%b, %%c : %s, %s, %s) outs(%%e : %s) {" % (
                t, t, t, t),
            "  ^bb0(%%a0: %s, %%b0: %s, %%c0: %s, %%o: %s):" % ((elem,) * 4),
            "    %%m = arith.mulf %%a0, %%b0 : %s" % elem,
            "    %%s = arith.addf %%m, %%c0 : %s" % elem,
            "    %%z = arith.constant 0.0 : %s" % elem,
            "    %%y = arith.maximumf %%s, %%z : %s" % elem,
            "    linalg.yield %%y : %s" % elem,
            "  } -> %s" % t]
    text = "\n".join(
        ["func.func @step(%%a: %s, %%b: %s, %%c: %s) -> (%s) {" % (
            t, t, t, t)] + body + ["  return %%r : %s" % t, "}"]) + "\n"
    rng = rng_for(name)
    a, av = store(rng.standard_normal(shape), elem)
    b, bv = store(rng.standard_normal(shape), elem)
    c, cv = store(rng.standard_normal(shape), elem)
    y = np.maximum(av * bv + cv, 0.0)
    u = U[elem]
    bound = u * (np.abs(av * bv) + np.abs(av * bv + cv)) + u * np.abs(y)
    return Case(name, text, [[a, b, c]], [[result(y, elem)]],
                tolerance(bound, y), u, PRECISION[elem], [1], ["out0"],
                dict(shapes=[list(shape)], kind="chain-" + form))


def softmax_case(name, shape, elem):
    """A row softmax over the last dim as four generics (max, exp(x - max),
    sum, divide), the input and the probabilities in `elem`, the math in
    f32; returns the probabilities and the row sums. mpt-linalg-to-gpu-
    launch runs such a chain as one kernel, a block per row (fuse-rows),
    where the row fits; longer rows run op by op."""
    rank = len(shape)
    dims = ["d%d" % i for i in range(rank)]
    idm, rowm = amap(rank, dims), amap(rank, dims[:-1])
    par = ", ".join(['"parallel"'] * rank)
    red = ", ".join(['"parallel"'] * (rank - 1) + ['"reduction"'])
    t, tf, rt = ttype(shape, elem), ttype(shape, "f32"), ttype(shape[:-1],
                                                                "f32")
    ext = (lambda v: "%%x = arith.extf %s : %s to f32" % (v, elem)) \
        if elem != "f32" else None

    def load(v):
        return ([ext(v)], "%x") if ext else ([], v)
    lm, xm = load("%a")
    le, xe = load("%a")
    out = ("    %%q = arith.truncf %%d : f32 to %s" % elem, "%q") \
        if elem != "f32" else (None, "%d")
    lines = [
        "func.func @step(%%x0: %s) -> (%s, %s) {" % (t, t, rt),
        "  %ninf = arith.constant 0xFF800000 : f32",
        "  %zero = arith.constant 0.0 : f32",
        "  %%m0 = tensor.empty() : %s" % rt,
        "  %%m1 = linalg.fill ins(%%ninf : f32) outs(%%m0 : %s) -> %s" % (
            rt, rt),
        "  %%m = linalg.generic {indexing_maps = [%s, %s], iterator_types"
        " = [%s]} ins(%%x0 : %s) outs(%%m1 : %s) {" % (idm, rowm, red, t,
                                                        rt),
        "  ^bb0(%%a: %s, %%o: f32):" % elem]
    lines += ["    " + l for l in lm] + [
        "    %%y = arith.maximumf %s, %%o : f32" % xm,
        "    linalg.yield %y : f32",
        "  } -> %s" % rt,
        "  %%e0 = tensor.empty() : %s" % tf,
        "  %%e = linalg.generic {indexing_maps = [%s, %s, %s], "
        "iterator_types = [%s]} ins(%%x0, %%m : %s, %s) outs(%%e0 : %s) {" % (
            idm, rowm, idm, par, t, rt, tf),
        "  ^bb0(%%a: %s, %%b: f32, %%o: f32):" % elem]
    lines += ["    " + l for l in le] + [
        "    %%s = arith.subf %s, %%b : f32" % xe,
        "    %y = math.exp %s : f32",
        "    linalg.yield %y : f32",
        "  } -> %s" % tf,
        "  %%s0 = tensor.empty() : %s" % rt,
        "  %%s1 = linalg.fill ins(%%zero : f32) outs(%%s0 : %s) -> %s" % (
            rt, rt),
        "  %%s = linalg.generic {indexing_maps = [%s, %s], iterator_types"
        " = [%s]} ins(%%e : %s) outs(%%s1 : %s) {" % (idm, rowm, red, tf, rt),
        "  ^bb0(%a: f32, %o: f32):",
        "    %y = arith.addf %a, %o : f32",
        "    linalg.yield %y : f32",
        "  } -> %s" % rt,
        "  %%p0 = tensor.empty() : %s" % t,
        "  %%p = linalg.generic {indexing_maps = [%s, %s, %s], "
        "iterator_types = [%s]} ins(%%e, %%s : %s, %s) outs(%%p0 : %s) {" % (
            idm, rowm, idm, par, tf, rt, t),
        "  ^bb0(%%a: f32, %%b: f32, %%o: %s):" % elem,
        "    %d = arith.divf %a, %b : f32"]
    if out[0]:
        lines.append(out[0])
    lines += ["    linalg.yield %s : %s" % (out[1], elem),
              "  } -> %s" % t,
              "  return %%p, %%s : %s, %s" % (t, rt), "}"]
    text = "\n".join(lines) + "\n"
    rng = rng_for(name)
    x, xv = store(rng.standard_normal(shape) * 3, elem)
    e = np.exp(xv - xv.max(axis=-1, keepdims=True))
    ssum = e.sum(axis=-1)
    prob = e / ssum[..., None]
    n = shape[-1]
    # f32 math: each exp, the sum's n terms and the divide; the result
    # rounded once more to `elem`.
    u32, u = U["f32"], U[elem]
    bound_p = (4 * u32 + n * u32) * np.abs(prob) + u * np.abs(prob)
    bound_s = (2 * u32 + n * u32) * ssum
    return Case(name, text, [[x]], [[result(prob, elem), result(ssum, "f32")]],
                max(tolerance(bound_p, prob), tolerance(bound_s, ssum)), u,
                PRECISION[elem], [1], ["out0", "out1"],
                dict(shapes=[list(shape)], kind="softmax"))


def multi_reduce_case(name, shapes, elem, inf_at=None):
    """The loss-scaling check of several gradients: each tensor, scaled by
    0.5, folds into the same two scalars (any Inf/NaN, sum of squares), a
    linalg.generic a tensor. mpt-linalg-to-gpu-launch runs the chain as two
    kernels (fuse-reductions): partial results of chunks of every tensor,
    then their total. The second batch has an Inf in tensor `inf_at`."""
    lines = []
    args = ", ".join("%%x%d: %s" % (i, ttype(sh, elem))
                     for i, sh in enumerate(shapes))
    lines.append("func.func @step(%s) -> (tensor<i1>, tensor<f32>) {" % args)
    lines += ["  %false = arith.constant false",
              "  %zero = arith.constant 0.0 : f32",
              "  %f0 = tensor.empty() : tensor<i1>",
              "  %f = linalg.fill ins(%false : i1) outs(%f0 : tensor<i1>)"
              " -> tensor<i1>",
              "  %s0 = tensor.empty() : tensor<f32>",
              "  %s = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>)"
              " -> tensor<f32>"]
    flag, ssq = "%f", "%s"
    for i, sh in enumerate(shapes):
        rank = len(sh)
        idm = amap(rank, ["d%d" % k for k in range(rank)])
        scal = amap(rank, [])
        red = ", ".join(['"reduction"'] * rank)
        ext = ["%%e = arith.extf %%a : %s to f32" % elem] if elem != "f32" \
            else []
        v = "%e" if ext else "%a"
        lines += [
            "  %%r%d:2 = linalg.generic {indexing_maps = [%s, %s, %s], "
            "iterator_types = [%s]} ins(%%x%d : %s) outs(%s, %s : "
            "tensor<i1>, tensor<f32>) {" % (i, idm, scal, scal, red, i,
                                             ttype(sh, elem), flag, ssq),
            "  ^bb0(%%a: %s, %%o: i1, %%q: f32):" % elem] + [
            "    " + l for l in ext] + [
            "    %h = arith.constant 0.5 : f32",
            "    %%v = arith.mulf %s, %%h : f32" % v,
            "    %inf = arith.constant 0x7F800000 : f32",
            "    %abs = math.absf %v : f32",
            "    %fin = arith.cmpf olt, %abs, %inf : f32",
            "    %true = arith.constant true",
            "    %bad = arith.xori %fin, %true : i1",
            "    %any = arith.ori %o, %bad : i1",
            "    %sq = arith.mulf %v, %v : f32",
            "    %acc = arith.addf %q, %sq : f32",
            "    linalg.yield %any, %acc : i1, f32",
            "  } -> (tensor<i1>, tensor<f32>)"]
        flag, ssq = "%%r%d#0" % i, "%%r%d#1" % i
    lines += ["  return %s, %s : tensor<i1>, tensor<f32>" % (flag, ssq), "}"]
    text = "\n".join(lines) + "\n"
    rng = rng_for(name)
    batches, expected = [], []
    for with_inf in (False, True):
        xs, vals = [], []
        for i, sh in enumerate(shapes):
            raw = rng.standard_normal(sh)
            if with_inf and i == inf_at:
                raw.flat[raw.size // 2] = np.inf
            x, xv = store(raw, elem)
            xs.append(x)
            vals.append(xv)
        batches.append(xs)
        scaled = [0.5 * xv for xv in vals]
        bad = any((~np.isfinite(v)).any() for v in scaled)
        ssq = sum(float((v[np.isfinite(v)] ** 2).sum()) for v in scaled)
        expected.append([np.array(bad), result(np.inf if bad else ssq,
                                               "f32")])
    n = sum(int(np.prod(sh)) for sh in shapes)
    u32 = U["f32"]
    return Case(name, text, batches, expected, SAFETY * (n + 2) * u32,
                U[elem], PRECISION[elem], [1, 1], ["out0", "out1"],
                dict(shapes=[list(sh) for sh in shapes], kind="multi-reduce"))


def tcast_case(name, shape, elem_in, elem_out):
    """y[i, k, j] = cast(x[i, j, k]): a transposed read (a scalar load a
    point) into a contiguous result (vector stores where the innermost
    size allows), as the backward's casts of attention scores."""
    a, b, c = shape
    xt, yt = ttype(shape, elem_in), ttype([a, c, b], elem_out)
    cast = "arith.truncf" if elem_in == "f32" else "arith.extf"
    text = "\n".join([
        "func.func @step(%%x: %s) -> (%s) {" % (xt, yt),
        "  %%e = tensor.empty() : %s" % yt,
        "  %%r = linalg.generic {indexing_maps = [%s, %s], iterator_types "
        "= [\"parallel\", \"parallel\", \"parallel\"]}" % (
            amap(3, ["d0", "d2", "d1"]), amap(3, ["d0", "d1", "d2"])),
        "      ins(%%x : %s) outs(%%e : %s) {" % (xt, yt),
        "  ^bb0(%%x0: %s, %%o: %s):" % (elem_in, elem_out),
        "    %%y = %s %%x0 : %s to %s" % (cast, elem_in, elem_out),
        "    linalg.yield %%y : %s" % elem_out,
        "  } -> %s" % yt,
        "  return %%r : %s" % yt,
        "}"]) + "\n"
    rng = rng_for(name)
    x, xv = store(rng.standard_normal(shape), elem_in)
    y = np.transpose(xv, (0, 2, 1))
    # One rounding (or none: widening is exact), to nearest even as numpy.
    return Case(name, text, [[x]], [[result(y, elem_out)]], 0.0,
                U[elem_out], PRECISION[elem_out], [1], ["out0"],
                dict(shapes=[list(shape)], kind="tcast"))


# ------------------------------------------------------------ contractions

def matmul_text(m, n, k, elem, form):
    """C[m,n] = sum_k A'[m,k] B'[k,n], f32 out. form: tA (A given KxM,
    linalg.transpose then linalg.matmul), tB (B given NxK), gen-tA /
    gen-tB (one linalg.generic with the transposed map), maps-tB
    (linalg.matmul with indexing_maps). elem "tf32": f32 inputs."""
    elem = STORAGE.get(elem, elem)
    ta = form.endswith("tA")
    ashape = [k, m] if ta else [m, k]
    bshape = [n, k] if not ta else [k, n]
    at, bt = ttype(ashape, elem), ttype(bshape, elem)
    ct = ttype([m, n], "f32")
    lines = ["func.func @step(%%a: %s, %%b: %s) -> (%s) {" % (at, bt, ct),
             "  %z = arith.constant 0.0 : f32",
             "  %%e = tensor.empty() : %s" % ct,
             "  %%f = linalg.fill ins(%%z : f32) outs(%%e : %s) -> %s" % (
                 ct, ct)]
    if form in ("tA", "tB"):
        src, shp, other = ("%a", ashape, "%b") if ta else ("%b", bshape,
                                                           "%a")
        tt = ttype(shp[::-1], elem)
        lines += ["  %%et = tensor.empty() : %s" % tt,
                  "  %%t = linalg.transpose ins(%s : %s) outs(%%et : %s) "
                  "permutation = [1, 0]" % (src, ttype(shp, elem), tt)]
        lhs, rhs = ("%t", other) if ta else (other, "%t")
        lt = tt if ta else at
        rt = bt if ta else tt
        lines.append("  %%r = linalg.matmul ins(%s, %s : %s, %s) outs(%%f :"
                     " %s) -> %s" % (lhs, rhs, lt, rt, ct, ct))
    else:
        amap_ = "affine_map<(d0, d1, d2) -> (%s)>" % (
            "d2, d0" if ta else "d0, d2")
        bmap = "affine_map<(d0, d1, d2) -> (%s)>" % (
            "d2, d1" if ta else "d1, d2")
        cmap = "affine_map<(d0, d1, d2) -> (d0, d1)>"
        if form.startswith("maps"):
            lines.append("  %%r = linalg.matmul indexing_maps = [%s, %s, %s]"
                         " ins(%%a, %%b : %s, %s) outs(%%f : %s) -> %s" % (
                             amap_, bmap, cmap, at, bt, ct, ct))
        else:
            lines += [
                "  %%r = linalg.generic {indexing_maps = [%s, %s, %s], "
                "iterator_types = [\"parallel\", \"parallel\", "
                "\"reduction\"]}" % (amap_, bmap, cmap),
                "      ins(%%a, %%b : %s, %s) outs(%%f : %s) {" % (at, bt,
                                                                   ct),
                "  ^bb0(%%x: %s, %%y: %s, %%acc: f32):" % (elem, elem)] + ([
                "    %%xe = arith.extf %%x : %s to f32" % elem,
                "    %%ye = arith.extf %%y : %s to f32" % elem,
                "    %p = arith.mulf %xe, %ye : f32"] if elem != "f32" else [
                "    %p = arith.mulf %x, %y : f32"]) + [
                "    %s = arith.addf %acc, %p : f32",
                "    linalg.yield %s : f32",
                "  } -> %s" % ct]
    lines += ["  return %%r : %s" % ct, "}"]
    return "\n".join(lines) + "\n", ashape, bshape


def contraction_bound(k, am, bm, elem):
    """A priori bound of each output's error in a tensor-core contraction
    (see the docstring): the accumulation, and for TF32 the rounding of
    the inputs."""
    ab = np.abs(am) @ np.abs(bm)
    if elem != "tf32":
        return (k + 2) * U_TENSOR_CORE * ab
    u_in = U["tf32"]
    return (2 * u_in + u_in ** 2 +
            (k + 2) * U_TENSOR_CORE * (1 + u_in) ** 2) * ab


def tf32_extra(elem):
    """Case.extra of a case built with the tf32 pipeline option."""
    return dict(pipeline=TF32_PIPELINE) if elem == "tf32" else {}


def matmul_case(name, m, n, k, elem, form):
    text, ashape, bshape = matmul_text(m, n, k, elem, form)
    rng = rng_for(name)
    st = STORAGE.get(elem, elem)
    a, av = store(rng.standard_normal(ashape), st)
    b, bv = store(rng.standard_normal(bshape), st)
    am = av.T if form.endswith("tA") else av
    bm = bv if form.endswith("tA") else bv.T
    y = am @ bm
    bound = contraction_bound(k, am, bm, elem) + 2 * U["f32"] * np.abs(y)
    return Case(name, text, [[a, b]], [[result(y, "f32")]],
                tolerance(bound, y), U["tf32" if elem == "tf32" else "f32"],
                PRECISION[elem], [1], ["out0"],
                dict(shapes=[[m, n, k]], kind="matmul-" + form,
                     **tf32_extra(elem)))


def epilogue_case(name, m, n, k, elem, kind):
    """A contraction whose f32 result only elementwise ops read, which
    mpt-contraction-to-mma computes in the kernel's epilogue (staged through
    shared memory in full tiles when the outputs' rows allow 4-element
    vector stores, fragment by fragment otherwise and at the edges):
      fwd      y = E(A B + bias[n]), r = max(y, 0): two stages, both stored;
      rowbias  y = E(A B + bias[m]), r = max(y, 0): the bias by row;
      mask-t   y = E(A B if h[n, m] > 0 else 0): h read through a
               transposed map (no vector loads).
    E is the 16-bit format, or for "tf32" (f32 inputs on TF32 tensor cores)
    f32 with no rounding op; A is MxK, B is KxN."""
    out = "f32" if elem == "tf32" else elem
    st = STORAGE.get(elem, elem)
    et, ft = ttype([m, n], out), ttype([m, n], "f32")
    at, bt = ttype([m, k], st), ttype([k, n], st)
    idm = amap(2, ["d0", "d1"])
    rng = rng_for(name)
    a, av = store(rng.standard_normal([m, k]), st)
    b, bv = store(rng.standard_normal([k, n]), st)
    y = av @ bv
    bound = contraction_bound(k, av, bv, elem)
    if kind == "mask-t":
        h, hv = store(rng.standard_normal([n, m]), st)
        extra_arg = "%%h: %s" % ttype([n, m], st)
        ins, maps = "%%c, %%h : %s, %s" % (ft, ttype([n, m], st)), [
            idm, amap(2, ["d1", "d0"]), idm]
        body = ["  ^bb0(%%x: f32, %%g: %s, %%o: %s):" % (st, out),
                "    %%z = arith.constant 0.0 : %s" % st,
                "    %zf = arith.constant 0.0 : f32",
                "    %%p = arith.cmpf ogt, %%g, %%z : %s" % st,
                "    %s = arith.select %p, %x, %zf : f32"]
        y = np.where(hv.T > 0, y, 0.0)
        args = [a, b, h]
    else:
        bias_len, bias_dim = (n, "d1") if kind == "fwd" else (m, "d0")
        bias, biasv = store(rng.standard_normal([bias_len]), "f32")
        extra_arg = "%%bias: %s" % ttype([bias_len], "f32")
        ins, maps = "%%c, %%bias : %s, %s" % (ft, ttype([bias_len],
                                                        "f32")), [
            idm, amap(2, [bias_dim]), idm]
        body = ["  ^bb0(%%x: f32, %%v: f32, %%o: %s):" % out,
                "    %s = arith.addf %x, %v : f32"]
        y = y + (biasv[None, :] if kind == "fwd" else biasv[:, None])
        bound = bound + U["f32"] * np.abs(y)
        args = [a, b, bias]
    bound = bound + 2 * U[out] * np.abs(y)
    if out == "f32":
        body.append("    linalg.yield %s : f32")
    else:
        body += ["    %%t = arith.truncf %%s : f32 to %s" % out,
                 "    linalg.yield %%t : %s" % out]
    lines = [
        "func.func @step(%%a: %s, %%b: %s, %s) -> (%s%s) {" % (
            at, bt, extra_arg, et, "" if kind == "mask-t" else ", " + et),
        "  %zero = arith.constant 0.0 : f32",
        "  %%e = tensor.empty() : %s" % ft,
        "  %%f = linalg.fill ins(%%zero : f32) outs(%%e : %s) -> %s" % (
            ft, ft),
        "  %%c = linalg.matmul ins(%%a, %%b : %s, %s) outs(%%f : %s) -> %s"
        % (at, bt, ft, ft),
        "  %%ey = tensor.empty() : %s" % et,
        "  %%y = linalg.generic {indexing_maps = [%s], iterator_types = "
        "[\"parallel\", \"parallel\"]}" % ", ".join(maps),
        "      ins(%s) outs(%%ey : %s) {" % (ins, et)] + body + [
        "  } -> %s" % et]
    expected = [result(y, out)]
    if kind == "mask-t":
        lines.append("  return %%y : %s" % et)
    else:
        r = np.maximum(y, 0.0)
        expected.append(result(r, out))
        lines += [
            "  %%er = tensor.empty() : %s" % et,
            "  %%r = linalg.generic {indexing_maps = [%s, %s], "
            "iterator_types = [\"parallel\", \"parallel\"]}" % (idm, idm),
            "      ins(%%y : %s) outs(%%er : %s) {" % (et, et),
            "  ^bb0(%%v: %s, %%o: %s):" % (out, out),
            "    %%z = arith.constant 0.0 : %s" % out,
            "    %%w = arith.maximumf %%v, %%z : %s" % out,
            "    linalg.yield %%w : %s" % out,
            "  } -> %s" % et,
            "  return %%y, %%r : %s, %s" % (et, et)]
    text = "\n".join(lines + ["}"]) + "\n"
    roles = ["out%d" % i for i in range(len(expected))]
    return Case(name, text, [args], [expected], tolerance(bound, y),
                U[elem], PRECISION[elem], [1], roles,
                dict(shapes=[[m, n, k]], kind="epilogue-" + kind,
                     **tf32_extra(elem)))


def conv_case(name, n, h, w, c, f, k, elem, kind):
    """A convolution (stride 1, no padding; NHWC input, HWCF weights, f32
    accumulator), which mpt-conv-to-gemm turns into im2col + a tensor-core
    contraction:
      fwd  y[n, oh, ow, f] = sum x[n, oh + kh, ow + kw, c] w[kh, kw, c, f]
           (linalg.conv_2d_nhwc_hwcf);
      dw   dW[kh, kw, c, f] = sum x[n, oh + kh, ow + kw, c] g[n, oh, ow, f]
           (a linalg.generic, as gen.py writes it);
      dx   dX[n, i, j, c] = sum gp[n, i - kh + k - 1, j - kw + k - 1, f]
           w[kh, kw, c, f], gp the output gradient padded by k - 1."""
    oh, ow = h - k + 1, w - k + 1
    rng = rng_for(name)
    a, av = store(rng.standard_normal([n, h, w, c]), elem)
    wt, wv = store(rng.standard_normal([k, k, c, f]), elem)
    g, gv = store(rng.standard_normal([n, oh, ow, f]), elem)
    # Windows of x: xw[n, oh, ow, kh, kw, c].
    xw = np.lib.stride_tricks.sliding_window_view(av, (k, k), axis=(1, 2))
    xw = xw.transpose(0, 1, 2, 4, 5, 3)

    def t(shape, e=elem):
        return ttype(shape, e)

    def m7(results):
        return amap(7, results)

    body = [
        "  ^bb0(%%p: %s, %%q: %s, %%s: f32):" % (elem, elem),
        "    %%pe = arith.extf %%p : %s to f32" % elem,
        "    %%qe = arith.extf %%q : %s to f32" % elem,
        "    %m = arith.mulf %pe, %qe : f32",
        "    %r = arith.addf %s, %m : f32",
        "    linalg.yield %r : f32"]
    loops = ('["parallel", "parallel", "parallel", "parallel", '
             '"reduction", "reduction", "reduction"]')
    if kind == "fwd":
        out = [n, oh, ow, f]
        args, arg_types = [a, wt], [t([n, h, w, c]), t([k, k, c, f])]
        y = np.einsum("nhwijc,ijcf->nhwf", xw, wv)
        absy = np.einsum("nhwijc,ijcf->nhwf", np.abs(xw), np.abs(wv))
        depth = k * k * c
        op = ["  %%y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : "
              "tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%%a0,"
              " %%a1 : %s, %s) outs(%%f : %s) -> %s" % (
                  arg_types[0], arg_types[1], t(out, "f32"), t(out, "f32"))]
    elif kind == "dw":
        out = [k, k, c, f]
        args, arg_types = [a, g], [t([n, h, w, c]), t([n, oh, ow, f])]
        y = np.einsum("nhwijc,nhwf->ijcf", xw, gv)
        absy = np.einsum("nhwijc,nhwf->ijcf", np.abs(xw), np.abs(gv))
        depth = n * oh * ow
        op = ["  %%y = linalg.generic {indexing_maps = [%s, %s, %s], "
              "iterator_types = %s} ins(%%a0, %%a1 : %s, %s) outs(%%f : %s)"
              " {" % (m7(["d4", "d5 + d0", "d6 + d1", "d2"]),
                      m7(["d4", "d5", "d6", "d3"]),
                      m7(["d0", "d1", "d2", "d3"]), loops, arg_types[0],
                      arg_types[1], t(out, "f32"))] + body + [
            "  } -> %s" % t(out, "f32")]
    else:
        out = [n, h, w, c]
        gp = np.zeros([n, oh + 2 * (k - 1), ow + 2 * (k - 1), f])
        gp[:, k - 1:k - 1 + oh, k - 1:k - 1 + ow, :] = gv
        gpa, _ = store(gp, elem)
        args = [gpa, wt]
        arg_types = [t(list(gp.shape)), t([k, k, c, f])]
        gw = np.lib.stride_tricks.sliding_window_view(gp, (k, k), axis=(1, 2))
        gw = gw.transpose(0, 1, 2, 4, 5, 3)[:, :, :, ::-1, ::-1, :]
        y = np.einsum("nhwijf,ijcf->nhwc", gw, wv)
        absy = np.einsum("nhwijf,ijcf->nhwc", np.abs(gw), np.abs(wv))
        depth = k * k * f
        op = ["  %%y = linalg.generic {indexing_maps = [%s, %s, %s], "
              "iterator_types = %s} ins(%%a0, %%a1 : %s, %s) outs(%%f : %s)"
              " {" % (m7(["d0", "d1 - d4 + %d" % (k - 1),
                          "d2 - d5 + %d" % (k - 1), "d6"]),
                      m7(["d4", "d5", "d3", "d6"]),
                      m7(["d0", "d1", "d2", "d3"]), loops, arg_types[0],
                      arg_types[1], t(out, "f32"))] + body + [
            "  } -> %s" % t(out, "f32")]
    lines = ["func.func @step(%%a0: %s, %%a1: %s) -> (%s) {" % (
        arg_types[0], arg_types[1], t(out, "f32")),
        "  %z = arith.constant 0.0 : f32",
        "  %%e = tensor.empty() : %s" % t(out, "f32"),
        "  %%f = linalg.fill ins(%%z : f32) outs(%%e : %s) -> %s" % (
            t(out, "f32"), t(out, "f32"))] + op + [
        "  return %%y : %s" % t(out, "f32"), "}"]
    bound = (depth + 2) * U_TENSOR_CORE * absy + 2 * U["f32"] * np.abs(y)
    return Case(name, "\n".join(lines) + "\n", [args], [[result(y, "f32")]],
                tolerance(bound, y), U["f32"], PRECISION[elem], [1],
                ["out0"], dict(shapes=[[n, h, w, c, f, k]],
                               kind="conv-" + kind))


# ------------------------------------------------------------------ cases

def plant_at(*points):
    """Values planted at index tuples (negative indices from the end)."""
    def plant(shape):
        out = []
        for idx, value in points:
            out.append((tuple(i % s for i, s in zip(idx, shape)), value))
        return out
    return plant


def _cases():
    R = reduction_case
    out = []

    def add(name, fn, *args, **kw):
        full = "kernel-" + name
        out.append((full, lambda: fn(full, *args, **kw)))

    # Column sums (reduce dim 0; the innermost dim parallel).
    for m, n in [(8192, 1000), (1000, 37), (33, 4097), (1, 5), (7, 1)]:
        add("colsum-f16-%dx%d" % (m, n), R, [(m, n)], "f16", "f32", [0])
    add("colsum-f32-1031x1003", R, [(1031, 1003)], "f32", "f32", [0])
    add("colsum-f32-reduce-1025x129", R, [(1025, 129)], "f32", "f32", [0],
        form="reduce")
    add("colsum-bf16-3001x67", R, [(3001, 67)], "bf16", "f32", [0])
    # Combined with a non-zero initial output: split, then not split.
    add("colsum-init-f16-2048x999", R, [(2048, 999)], "f16", "f32", [0],
        init=1.5)
    add("colsum-init-f16-150x9001", R, [(150, 9001)], "f16", "f32", [0],
        init=1.5)
    # Row sums (reduce dim 1).
    for m, n in [(5000, 1001), (3, 100000), (64, 31)]:
        add("rowsum-f16-%dx%d" % (m, n), R, [(m, n)], "f16", "f32", [1])
    add("rowsum-f32-reduce-3x100000", R, [(3, 100000)], "f32", "f32", [1],
        form="reduce")
    add("rowsum-init-f32-7x65537", R, [(7, 65537)], "f32", "f32", [1],
        init=-2.5)
    add("rowsum-f16acc-64x1000", R, [(64, 1000)], "f16", "f16", [1],
        data=lambda rng, s: rng.uniform(0.0, 1.0, s))
    # Max reductions of negative data (a 0 start would show).
    add("rowmax-f32-257x3001", R, [(257, 3001)], "f32", "f32", [1],
        kind="max", data=negative)
    add("colmax-f32-2053x257", R, [(2053, 257)], "f32", "f32", [0],
        kind="max", data=negative)
    add("colmax-f16-2049x333", R, [(2049, 333)], "f16", "f16", [0],
        kind="max", data=negative)
    add("rowmax-bf16-3x70001", R, [(3, 70001)], "bf16", "bf16", [1],
        kind="max", data=negative, form="reduce")
    # Sums of squares.
    add("rowsumsq-f16-129x10007", R, [(129, 10007)], "f16", "f32", [1],
        kind="sumsq")
    add("fullsumsq-f32-499999", R, [(499999,)], "f32", "f32", [0],
        kind="sumsq")
    # Full reductions (0-d result).
    for n in (1, 1000, (1 << 20) + 3):
        add("fullsum-f32-%d" % n, R, [(n,)], "f32", "f32", [0])
    add("fullsum-f16-17x33x1001", R, [(17, 33, 1001)], "f16", "f32",
        [0, 1, 2])
    add("fullmax-f16-999x1001", R, [(999, 1001)], "f16", "f32", [0, 1],
        kind="max", data=negative)
    # Any element non-finite (or into an i1), with and without one planted.
    add("nonfinite-f32-523x1037", R, [(523, 1037)], "f32", "i1", [0, 1],
        kind="nonfinite", data=lambda rng, s: rng.standard_normal(s))
    add("nonfinite-inf-f32-523x1037", R, [(523, 1037)], "f32", "i1",
        [0, 1], kind="nonfinite",
        data=lambda rng, s: rng.standard_normal(s),
        plant=plant_at(((-1, -2), np.inf)))
    add("nonfinite-nan-f16-65537x7", R, [(65537, 7)], "f16", "i1", [0, 1],
        kind="nonfinite", data=lambda rng, s: rng.standard_normal(s),
        plant=plant_at(((40000, 3), np.nan)))
    add("rownonfinite-f16-300x1001", R, [(300, 1001)], "f16", "i1", [1],
        kind="nonfinite", data=lambda rng, s: rng.standard_normal(s),
        plant=plant_at(((0, 0), np.inf), ((7, -1), -np.inf),
                       ((-1, 500), np.nan), ((150, 31), np.inf)))
    # 3-D: over [0, 2] keeping 1 (row layout), over [1] keeping [0, 2].
    add("sum02-f16-17x517x129", R, [(17, 517, 129)], "f16", "f32", [0, 2])
    add("sum1-f16-31x513x67", R, [(31, 513, 67)], "f16", "f32", [1])
    # Dynamic shapes, one library called with several.
    add("dyn-colsum-f16", R, [(3001, 515), (5, 1001), (65537, 3)], "f16",
        "f32", [0], dynamic=True)
    add("dyn-rowsum-f16", R, [(513, 3001), (7, 5), (1, 100003)], "f16",
        "f32", [1], dynamic=True)
    # Two outputs (sum and max) in one linalg.generic.
    add("colsummax-f16-3001x77", R, [(3001, 77)], "f16", "f32", [0],
        kind="summax")
    add("rowsummax-f32-77x3001", R, [(77, 3001)], "f32", "f32", [1],
        kind="summax")
    # Elementwise.
    add("bcast-add-f32-5x7x1003", bcast_add_case, [5, 7, 1003], "f32")
    add("bcast-add-f16-37x1001", bcast_add_case, [37, 1001], "f16")
    for elem in ("f16", "bf16"):
        for form in ("tensor", "generic"):
            add("chain-%s-%s-257x1003" % (form, elem), chain_case,
                [257, 1003], elem, form)
    # Elementwise kernels on vectors (innermost sizes that a vector of 16
    # bytes, or of 8 or 4, divides; a last block partly outside): f32 x4,
    # f16 x8, bf16 x4 (1004 = 4 x 251), broadcast inputs read once a
    # vector, and transposed reads into vector stores.
    add("bcast-add-f32-5x7x1024", bcast_add_case, [5, 7, 1024], "f32")
    add("bcast-add-f16-37x1000", bcast_add_case, [37, 1000], "f16")
    add("chain-generic-bf16-259x1004", chain_case, [259, 1004], "bf16",
        "generic")
    add("chain-tensor-f16-3x2056", chain_case, [3, 2056], "f16", "tensor")
    add("tcast-f32-bf16-6x130x68", tcast_case, [6, 130, 68], "f32", "bf16")
    add("tcast-f16-f32-3x64x33", tcast_case, [3, 64, 33], "f16", "f32")
    # Row softmax chains (fuse-rows: a block per row, the row in
    # registers): rows not a multiple of the block (1000, 77), two outer
    # dims, the longest fused row (8192: 32 elements a thread), one too
    # long for it (8193: op by op), and 16-bit input and output.
    add("softmax-f32-37x1000", softmax_case, [37, 1000], "f32")
    add("softmax-f32-2x3x77", softmax_case, [2, 3, 77], "f32")
    add("softmax-f32-5x8192", softmax_case, [5, 8192], "f32")
    add("softmax-f32-3x8193", softmax_case, [3, 8193], "f32")
    add("softmax-bf16-64x512", softmax_case, [64, 512], "bf16")
    add("softmax-f16-9x33", softmax_case, [9, 33], "f16")
    # The loss-scaling check of several gradients in two kernels
    # (fuse-reductions): tensors of one element to a few chunks, odd sizes,
    # 16-bit gradients; an Inf in the second batch.
    add("multi-reduce-f32", multi_reduce_case,
        [[1000, 37], [5], [64, 129, 3], [1], [4097]], "f32", 2)
    add("multi-reduce-f16", multi_reduce_case, [[333, 7], [2049]], "f16", 0)
    # Contractions on tensor cores, transposed operands: every form and
    # format at 128x256x64 and 8x8x8, half of them at 1000x1001x999 (8 MB
    # each with the f32 result).
    for m, n, k in [(1000, 1001, 999), (128, 256, 64), (8, 8, 8)]:
        for elem in ("f16", "bf16"):
            for form in ("tA", "tB", "gen-tA", "gen-tB"):
                if m == 1000 and (elem == "f16") != (form in ("tA",
                                                              "gen-tB")):
                    continue
                add("mm-%s-%s-%dx%dx%d" % (form, elem, m, n, k),
                    matmul_case, m, n, k, elem, form)
    add("mm-maps-tB-f16-128x256x64", matmul_case, 128, 256, 64, "f16",
        "maps-tB")
    # FP32 contractions on TF32 tensor cores (pipeline option tf32=true):
    # the backward's layouts at 1000x1001x999 (4-byte copies, masked
    # edges), every form at 128x256x64 (A^T: 32-bit shared loads for A;
    # B [K][N]: for B) and at 8x8x8 (one K step of 8, all edges).
    for m, n, k in [(1000, 1001, 999), (128, 256, 64), (8, 8, 8)]:
        for form in ("tA", "tB", "gen-tA", "gen-tB"):
            if m == 1000 and form.startswith("gen"):
                continue
            add("mm-%s-tf32-%dx%dx%d" % (form, m, n, k), matmul_case,
                m, n, k, "tf32", form)
    # Contractions with epilogues: full tiles staged through shared memory
    # (N a multiple of 4) with masked edge tiles, the direct path (odd N),
    # a row-indexed bias, a transposed mask, and tiles all at the edge.
    for m, n, k, elem, kind in [(1000, 1024, 999, "f16", "fwd"),
                                (1000, 1001, 999, "bf16", "fwd"),
                                (256, 512, 64, "bf16", "fwd"),
                                (520, 768, 200, "f16", "rowbias"),
                                (512, 768, 256, "f16", "mask-t"),
                                (384, 1000, 72, "bf16", "mask-t"),
                                (8, 8, 8, "f16", "fwd"),
                                (256, 512, 64, "tf32", "fwd"),
                                (200, 301, 40, "tf32", "mask-t")]:
        add("mm-epi-%s-%s-%dx%dx%d" % (kind, elem, m, n, k), epilogue_case,
            m, n, k, elem, kind)
    # Convolutions on tensor cores (mpt-conv-to-gemm): forward, weight and
    # input gradients; channels a multiple of 8 (16-byte copies) and odd.
    for n, h, w, c, f, k, elem in [(4, 18, 18, 16, 24, 3, "f16"),
                                   (3, 13, 11, 5, 7, 3, "bf16"),
                                   (2, 9, 9, 8, 8, 1, "f16")]:
        for kind in ("fwd", "dw", "dx"):
            add("conv-%s-%s-%dx%dx%dx%dx%dx%d" % (kind, elem, n, h, w, c, f,
                                                   k),
                conv_case, n, h, w, c, f, k, elem, kind)
    return out


CASES = _cases()


def selected(patterns):
    """(name, factory) of CASES whose names fully match a pattern."""
    if not patterns:
        return list(CASES)
    return [c for c in CASES if any(re.fullmatch(p, c[0]) for p in patterns)]


if __name__ == "__main__":
    for name, factory in selected(sys.argv[1:]):
        c = factory()
        size = sum(a.nbytes for call in c.inputs + c.expected for a in call)
        print("%-40s tol %.3g (%.1f u)  %.1f MB  %s" % (
            name, c.tolerance, c.tolerance / c.unit_roundoff if
            c.unit_roundoff else 0, size / 1e6, c.extra.get("depth", "")))
