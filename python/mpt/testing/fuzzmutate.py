"""Mutation fuzzer: mpt-opt on mutated examples never crashes or hangs.

Each case takes one of the shipped training steps (examples/*.mlir), applies
a few token mutations (numbers, types, tensor dimensions, op names,
attribute values, SSA names; deleted, duplicated or swapped lines) and runs
`mpt-opt` over it with one of several pipelines (AMP with options, loss
scaling, the optimizer, the CPU lowering, single passes), sometimes with a
mutated option value. The oracle:

* exit 0, or exit 1 with a diagnostic (`error:`): fine;
* a signal, an assertion, `LLVM ERROR`, "PLEASE submit a bug report", or an
  exit without a diagnostic: a crash;
* no answer within the timeout: a hang.

  python3 -m mpt.testing.fuzzmutate --count 100 --seed 1
  python3 -m mpt.testing.fuzzmutate --time 600 --out fuzz-out/mutations
  python3 -m mpt.testing.fuzzmutate --repro fuzz-out/mutations

Failures are minimised (lines deleted while the same failure persists) and
saved, one folder per distinct failure, as input.mlir, cmd.json (the
pipeline) and stderr.txt; `--repro` re-runs them.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from mpt import aot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PIPELINES = [
    ["--auto-mixed-precision"],
    ["--auto-mixed-precision=dtype=bf16 report=-"],
    ["--auto-mixed-precision=dtype=f16 keep-io-types=false "
     "return-16bit-params=true allow-excess-precision=true"],
    ["--auto-mixed-precision=loss-scaling=static init-scale=1024"],
    ["--auto-mixed-precision=loss-scaling=dynamic growth-interval=3 "
     "hysteresis=2 min-scale=2 max-scale=65536",
     "--mpt-attach-optimizer=kind=adamw lr=0.001 weight-decay=0.01 "
     "clip-norm=1"],
    ["--auto-mixed-precision=dtype=bf16 loss-scaling=none",
     "--mpt-attach-optimizer=kind=momentum lr=0.1 momentum=0.9"],
    ["--auto-mixed-precision=dtype=f16",
     "--mpt-attach-optimizer=kind=sgd lr=0.1"],
    ["--mpt-lower-to-cpu"],
    ["--auto-mixed-precision=dtype=bf16", "--mpt-lower-to-cpu"],
    ["--mpt-assign-precision=dtype=f16", "--mpt-apply-precision",
     "--mpt-fold-casts"],
    ["--mpt-insert-loss-scaling=mode=dynamic"],
]
# Replacements keep the kind of the number (an integer for an integer), so
# that most mutants parse and reach the passes.
INTEGERS = ["0", "-1", "1", "2", "3", "7", "65504", "65520", "2147483648",
            "4294967297", "9223372036854775807", "-9223372036854775808"]
FLOATS = ["0.0", "-0.0", "1.5", "65504.0", "65520.0", "1.0e5", "1.0e-9",
          "6.0e-8", "5.96e-8", "1.0e-5", "3.4e38", "1.0e39", "-1.0e39",
          "1.0e-45", "0x7F800000", "0x7FC00000", "0xFF800000"]
NUMBERS = INTEGERS + FLOATS
TYPES = ["f32", "f16", "bf16", "f64", "i32", "i64", "i1", "index", "f8E4M3FN"]
STRINGS = ['"param"', '"input"', '"loss"', '"grad"', '"loss_grad"',
           '"found_inf"', '"loss_scale"', '"opt_state"', '"f32"', '"f16"',
           '"bf16"', '""', '"bogus"']
# Ops that share a syntax: a swap inside a group keeps the text parseable.
OP_GROUPS = [
    ["arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.remf",
     "arith.maximumf", "arith.minimumf", "arith.maxnumf", "arith.minnumf",
     "math.powf", "math.atan2", "math.copysign"],
    ["math.exp", "math.log", "math.tanh", "math.sqrt", "math.rsqrt",
     "arith.negf", "math.absf", "math.erf", "math.sin", "math.cos",
     "math.log1p", "math.expm1", "math.exp2", "math.log2", "math.floor",
     "math.ceil", "math.round", "math.atan", "math.cbrt", "math.erfc"],
    ["linalg.matmul", "linalg.batch_matmul", "linalg.matvec", "linalg.dot",
     "linalg.vecmat", "linalg.batch_matvec"],
    ["linalg.pooling_nhwc_sum", "linalg.pooling_nhwc_max",
     "linalg.pooling_nhwc_min"],
    ["arith.truncf", "arith.extf"],
    ["tensor.collapse_shape", "tensor.expand_shape"],
]
CRASH_MARKS = ("PLEASE submit a bug report", "Assertion", "LLVM ERROR",
               "Stack dump", "UNREACHABLE", "Segmentation fault")
TOKEN = re.compile(
    r"(?P<num>(?<![\w%#@^])[-+]?(0x[0-9A-Fa-f]+|\d+(\.\d*)?([eE][-+]?\d+)?)"
    r"(?![\w]))|(?P<type>\b(f32|f16|bf16|f64|i32|i64|i1|index)\b)"
    r"|(?P<op>(?<== )[a-z_]+\.[a-z_0-9.]+\b)|(?P<str>\"[^\"\n]*\")"
    r"|(?P<ssa>%[\w.]+)")


def corpus(paths=None):
    paths = paths or sorted(
        os.path.join(ROOT, "examples", f)
        for f in os.listdir(os.path.join(ROOT, "examples"))
        if f.endswith(".mlir"))
    out = []
    for p in paths:
        with open(p) as f:
            out.append((os.path.basename(p), f.read()))
    return out


def mutate_token(text, rng, kind=None):
    toks = [m for m in TOKEN.finditer(text)
            if (kind is None or m.lastgroup == kind) and (
                m.lastgroup != "op" or any(m.group(0) in g
                                           for g in OP_GROUPS))]
    if not toks:
        return text
    m = toks[int(rng.integers(len(toks)))]
    k = m.lastgroup
    old = m.group(0)
    if k == "num":
        pool = INTEGERS if re.fullmatch(r"[-+]?\d+", old) else FLOATS
        new = pool[int(rng.integers(len(pool)))]
    elif k == "type":
        new = TYPES[int(rng.integers(len(TYPES)))]
    elif k == "op":
        group = [g for g in OP_GROUPS if old in g]
        names = group[0] if group else sorted(
            {t.group(0) for t in TOKEN.finditer(text) if t.lastgroup == "op"})
        new = names[int(rng.integers(len(names)))]
    elif k == "str":
        new = STRINGS[int(rng.integers(len(STRINGS)))]
    else:
        names = sorted({t.group(0) for t in TOKEN.finditer(text)
                        if t.lastgroup == "ssa"})
        new = names[int(rng.integers(len(names)))]
    return text[:m.start()] + new + text[m.end():]


def mutate_lines(text, rng):
    lines = text.split("\n")
    i = int(rng.integers(len(lines)))
    k = int(rng.integers(3))
    if k == 0:
        del lines[i]
    elif k == 1:
        lines.insert(i, lines[int(rng.integers(len(lines)))])
    else:
        j = int(rng.integers(len(lines)))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def mutate_dims(text, rng):
    """A tensor dimension changed (or made dynamic)."""
    ms = list(re.finditer(r"(?<=[<x])(\d+)(?=x)", text))
    if not ms:
        return text
    m = ms[int(rng.integers(len(ms)))]
    new = str(rng.choice(["?", "0", "1", "3", "17"]))
    return text[:m.start()] + new + text[m.end():]


def mutate_all_types(text, rng):
    """Every f32 becomes another float type (an already-16-bit or f64
    step), or one dimension size changes everywhere."""
    if rng.random() < 0.5:
        return re.sub(r"\bf32\b", str(rng.choice(["f16", "bf16", "f64"])),
                      text)
    dims = sorted(set(re.findall(r"(?<=[<x])(\d+)(?=x)", text)))
    if not dims:
        return text
    d = str(rng.choice(dims))
    new = str(rng.choice(["1", "2", "3", "17", "?"]))
    return re.sub(r"(?<=[<x])%s(?=x)" % d, new, text)


def mutate(text, rng, count):
    for _ in range(count):
        r = rng.random()
        if r < 0.32:
            text = mutate_token(text, rng, "num")
        elif r < 0.54:
            text = mutate_token(text, rng, "op")
        elif r < 0.66:
            text = mutate_token(text, rng, "str")
        elif r < 0.81:
            text = mutate_all_types(text, rng)
        elif r < 0.89:
            text = mutate_lines(text, rng)
        elif r < 0.93:
            text = mutate_dims(text, rng)
        elif r < 0.97:
            text = mutate_token(text, rng, "type")
        else:
            text = mutate_token(text, rng, "ssa")
    return text


def mutate_pipeline(pipe, rng):
    """One option's number replaced by an edge value."""
    i = int(rng.integers(len(pipe)))
    ms = list(re.finditer(r"(?<==)-?\d[\d.e+-]*", pipe[i]))
    if not ms:
        return pipe
    m = ms[int(rng.integers(len(ms)))]
    new = NUMBERS[int(rng.integers(len(NUMBERS)))]
    pipe = list(pipe)
    pipe[i] = pipe[i][:m.start()] + new + pipe[i][m.end():]
    return pipe


def make_case(seed, i, sources):
    rng = np.random.default_rng([seed, i])
    name, text = sources[int(rng.integers(len(sources)))]
    pipe = PIPELINES[int(rng.integers(len(PIPELINES)))]
    if rng.random() < 0.15:
        pipe = mutate_pipeline(pipe, rng)
    return name, mutate(text, rng, 1 + int(rng.integers(2))), pipe


def run_opt(text, pipe, timeout, tmp):
    """(verdict, signature, stderr): verdict 'ok' or 'diagnostic' (fine),
    'crash' or 'hang'."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", dir=tmp,
                                     delete=False) as f:
        f.write(text)
        src = f.name
    opt = os.path.abspath(aot._tool("mpt-opt", "MPT_TOOLS_DIR"))
    cmd = [opt, src] + list(pipe) + ["-o", os.devnull]
    try:
        # In the scratch folder: a mutated option may name a file to write.
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout,
                              cwd=tmp)
    except subprocess.TimeoutExpired:
        return "hang", "hang: " + " ".join(pipe), ""
    finally:
        os.unlink(src)
    err = proc.stderr.decode(errors="replace")
    if proc.returncode == 0:
        return "ok", None, err
    crash = proc.returncode < 0 or any(m in err for m in CRASH_MARKS)
    if not crash and proc.returncode == 1 and "error:" in err:
        return "diagnostic", None, err
    return "crash", signature(proc.returncode, err), err


def signature(rc, err):
    """What identifies a crash: the assertion or fatal message, else the
    innermost pretty-stack entry (pass or parser) and the first named
    frame below the signal handler, else the exit code."""
    for pat in (r"Assertion `.*' failed", r"LLVM ERROR: .*",
                r"UNREACHABLE executed.*"):
        m = re.search(pat, err)
        if m:
            return re.sub(r"\s+", " ", m.group(0))[:200]
    where = [w.strip() for w in re.findall(r"^\d+\.\t(.*)$", err, re.M)]
    where = [w for w in where if not w.startswith("Program arguments")]
    frame = None
    for m in re.finditer(r"^ *#(\d+) 0x[0-9a-f]+ (\S.*?) \(", err, re.M):
        name = m.group(2)
        if int(m.group(1)) >= 3 and not name.startswith("llvm::sys::"):
            frame = re.sub(r"\(.*", "", name)[:120]
            break
    parts = ["rc %d" % rc]
    if where:
        parts.append("in " + where[-1][:120])
    if frame:
        parts.append("at " + frame)
    if "error:" not in err and len(parts) == 1:
        parts.append("without a diagnostic")
    return " ".join(parts)


def upstream(sig, text, timeout, tmp):
    """A crash that is not mpt's: inside MLIR's own parser (before any mpt
    code runs), or on an input that upstream `mlir-opt` cannot even parse,
    verify and print without crashing. Reported, not counted."""
    if " in MLIR Parser: " in sig:
        return True
    if "-9223372036854775808" in text:
        # INT64_MIN is MLIR's "dynamic" sentinel: written as a static size
        # or offset (tensor.pad, extract_slice, ...) upstream code reads it
        # as dynamic and crashes at random places (mlir-opt too, at print).
        return True
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", dir=tmp,
                                     delete=False) as f:
        f.write(text)
        src = f.name
    try:
        # Such crashes read freed or wild memory: a run may get through,
        # so three tries, in the generic and the custom form.
        for extra in ([], ["--mlir-print-op-generic"], []):
            proc = subprocess.run(
                [aot._tool("mlir-opt", "MPT_LLVM_TOOLS_DIR"), src,
                 "--allow-unregistered-dialect", "-o", os.devnull] + extra,
                capture_output=True, timeout=timeout)
            err = proc.stderr.decode(errors="replace")
            if proc.returncode < 0 or any(m in err for m in CRASH_MARKS):
                return True
        return False
    except subprocess.TimeoutExpired:
        return False
    finally:
        os.unlink(src)


def minimise(text, pipe, sig, timeout, tmp, budget_s):
    """Deletes chunks of lines while the same failure persists."""
    start = time.time()
    lines = text.split("\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.time() - start < budget_s:
        k, changed = 0, False
        while k < len(lines) and time.time() - start < budget_s:
            trial = lines[:k] + lines[k + chunk:]
            v, s, _ = run_opt("\n".join(trial), pipe, timeout, tmp)
            if v in ("crash", "hang") and s == sig:
                lines, changed = trial, True
            else:
                k += chunk
        if not changed:
            chunk //= 2
    return "\n".join(lines)


def save(out, text, pipe, sig, err):
    h = hashlib.sha1(sig.encode()).hexdigest()[:10]
    d = os.path.join(out, "mut-" + h)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "input.mlir"), "w") as f:
        f.write(text)
    with open(os.path.join(d, "cmd.json"), "w") as f:
        json.dump({"pipeline": pipe, "signature": sig}, f, indent=1)
    with open(os.path.join(d, "stderr.txt"), "w") as f:
        f.write(err[-20000:])
    return d


def repro(folder, timeout, tmp):
    bad = n = 0
    for r, _, files in sorted(os.walk(folder)):
        if "cmd.json" not in files:
            continue
        n += 1
        with open(os.path.join(r, "cmd.json")) as f:
            cmd = json.load(f)
        with open(os.path.join(r, "input.mlir")) as f:
            text = f.read()
        v, s, _ = run_opt(text, cmd["pipeline"], timeout, tmp)
        name = os.path.relpath(r, folder)
        if v == "crash" and upstream(s, text, timeout, tmp):
            print("UPSTREAM %s: %s" % (name, s))
        elif v in ("crash", "hang"):
            bad += 1
            print("FAIL %s: %s" % (name, s))
        else:
            print("PASS %s: %s" % (name, v))
    print("%d cases, %d failing" % (n, bad))
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m mpt.testing.fuzzmutate")
    ap.add_argument("--count", type=int, help="cases to run")
    ap.add_argument("--time", type=float, help="or run this many seconds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30,
                    help="seconds per mpt-opt run; more is a hang")
    ap.add_argument("--inputs", nargs="*", help="default: examples/*.mlir")
    ap.add_argument("--out", help="save failures, minimised, here")
    ap.add_argument("--minimise-time", type=float, default=120)
    ap.add_argument("--repro", help="re-run saved failures in this folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mpt-fuzzmutate-") as tmp:
        if args.repro:
            return repro(args.repro, args.timeout, tmp)
        sources = corpus(args.inputs)
        deadline = time.time() + args.time if args.time else None
        count = args.count if args.count is not None else (
            None if deadline else 100)
        stats, seen, upstream_seen, i = {}, {}, set(), 0
        while (count is None or i < count) and \
                (deadline is None or time.time() < deadline):
            name, text, pipe = make_case(args.seed, i, sources)
            v, sig, err = run_opt(text, pipe, args.timeout, tmp)
            if v == "crash" and upstream(sig, text, args.timeout, tmp):
                v = "upstream crash"
            stats[v] = stats.get(v, 0) + 1
            if args.verbose:
                print("case %d %s %s: %s" % (i, name, " ".join(pipe), v))
            if v == "upstream crash":
                if sig not in upstream_seen:
                    upstream_seen.add(sig)
                    print("UPSTREAM case %d (seed %d) %s: %s" % (
                        i, args.seed, name, sig), flush=True)
            elif v in ("crash", "hang"):
                new = sig not in seen
                seen.setdefault(sig, []).append(i)
                print("FAIL case %d (seed %d) %s %s: %s%s" % (
                    i, args.seed, name, " ".join(pipe), sig,
                    "" if new else " (seen)"), flush=True)
                if new and args.out:
                    small = minimise(text, pipe, sig, args.timeout, tmp,
                                     args.minimise_time)
                    d = save(args.out, small, pipe, sig, err)
                    print("  minimised to %d lines in %s" % (
                        small.count("\n") + 1, d), flush=True)
            i += 1
        print("%d cases: %s; %d distinct failures" % (
            i, ", ".join("%d %s" % (stats[k], k) for k in sorted(stats)),
            len(seen)))
        return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
