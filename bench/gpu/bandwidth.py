"""Memory-bound kernels of mpt-lower-to-nvvm against the H100's copy
bandwidth and PyTorch's own kernels, in one run.

The elementwise and reduction kernels of a training step (casts, the
softmax's exp(x - max) and its row sums, GELU, bias-gradient column sums,
transposed casts) move bytes; they are fast when they move them at the
copy bandwidth. Each case is one op on tensors (no roles), built with
several pipeline variants:

  before   the mpt-opt given by --before-tools (e.g. a build of an earlier
           commit; skipped without it)
  scalar   this mpt-opt, `vectorize=false`: a point a thread at a time
  vec      this mpt-opt, defaults (16-byte vectors where the op allows)
  vec16    vectorize, elements-per-thread=16
  vec32    vectorize, elements-per-thread=32

Here (mpt-opt, llc, ptxas):
    python3 bench/gpu/bandwidth.py build DIR [--before-tools BIN_DIR]
On the GPU machine (PyTorch; MPT_CUDA_RUNTIME defaults to DIR's copy):
    python3 bench/gpu/bandwidth.py run DIR OUT.jsonl

`run` makes each case's inputs on the GPU from a fixed seed, calls every
variant once and compares its results with PyTorch's (exact for copies,
casts, maxima and the scalar-free permutations; a few units of the result's
format for exp and GELU, whose libm differs; the summation-order bound for
sums), then takes the kernel time of each (torch.profiler's device time of
the kernels of --reps calls, divided by --reps: no host time, no
allocation) beside PyTorch's kernels for the same op and a plain device
copy of 256 MiB (torch `copy_`, the bandwidth reference). GB/s count each
input and output once (bytes that must cross DRAM at least once). One JSON
line per (case, variant) goes to OUT, and a Markdown table to stdout.
"""

import argparse
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))

VARIANTS = {
    "before": None,  # --before-tools
    "scalar": "vectorize=false",
    "vec": "",
    "vec16": "elements-per-thread=16",
    "vec32": "elements-per-thread=32",
}

B, T = 256, 512          # the transformer's score tensors: 256 x 512 x 512
M, N = 8192, 4096        # the MLP's activations


def ttype(shape, elem):
    return "tensor<%sx%s>" % ("x".join(map(str, shape)), elem)


def amap(rank, results):
    dims = ", ".join("d%d" % i for i in range(rank))
    return "affine_map<(%s) -> (%s)>" % (dims, ", ".join(results))


def generic(ins, out, maps, iters, body, out_elem=None, init=None):
    """func @step(ins...) -> out: one linalg.generic. ins: [(shape, elem)];
    out: (shape, elem); body: lines using %a0.. (inputs), %o (output),
    ending in a value named %y."""
    args = ", ".join("%%x%d: %s" % (i, ttype(*t)) for i, t in enumerate(ins))
    ot = ttype(*out)
    lines = ["func.func @step(%s) -> %s {" % (args, ot)]
    if init is None:
        lines.append("  %%e = tensor.empty() : %s" % ot)
    else:
        lines += ["  %%e0 = tensor.empty() : %s" % ot,
                  "  %%c = arith.constant %s : %s" % (init, out[1]),
                  "  %%e = linalg.fill ins(%%c : %s) outs(%%e0 : %s) -> %s"
                  % (out[1], ot, ot)]
    lines += [
        "  %%r = linalg.generic {indexing_maps = [%s], iterator_types = "
        "[%s]}" % (", ".join(maps), ", ".join('"%s"' % i for i in iters)),
        "      ins(%s : %s) outs(%%e : %s) {" % (
            ", ".join("%%x%d" % i for i in range(len(ins))),
            ", ".join(ttype(*t) for t in ins), ot),
        "  ^bb0(%s, %%o: %s):" % (", ".join(
            "%%a%d: %s" % (i, t[1]) for i, t in enumerate(ins)), out[1])]
    lines += ["    " + l for l in body]
    lines += ["    linalg.yield %%y : %s" % out[1],
              "  } -> %s" % ot, "  return %%r : %s" % ot, "}"]
    return "\n".join(lines) + "\n"


def _cases():
    """name -> (mlir, inputs(torch, dev), reference(torch, xs), tolerance
    kind)."""
    c = {}
    id3 = amap(3, ["d0", "d1", "d2"])
    id2 = amap(2, ["d0", "d1"])
    s3 = [B, T, T]
    c["add1-f32"] = (
        generic([(s3, "f32")], (s3, "f32"), [id3, id3], ["parallel"] * 3,
                ["%one = arith.constant 1.0 : f32",
                 "%y = arith.addf %a0, %one : f32"]),
        lambda torch, dev: [torch.randn(s3, device=dev)],
        lambda torch, xs: xs[0] + 1.0, "exact")
    c["cast-f32-bf16"] = (
        generic([(s3, "f32")], (s3, "bf16"), [id3, id3], ["parallel"] * 3,
                ["%y = arith.truncf %a0 : f32 to bf16"]),
        lambda torch, dev: [torch.randn(s3, device=dev)],
        lambda torch, xs: xs[0].to(torch.bfloat16), "exact")
    c["softmax-exp-f32"] = (
        generic([(s3, "f32"), ([B, T], "f32")], (s3, "f32"),
                [id3, amap(3, ["d0", "d1"]), id3], ["parallel"] * 3,
                ["%s = arith.subf %a0, %a1 : f32",
                 "%y = math.exp %s : f32"]),
        lambda torch, dev: [torch.randn(s3, device=dev),
                            torch.randn(B, T, device=dev) + 3.0],
        lambda torch, xs: torch.exp(xs[0] - xs[1][..., None]), "ulp8")
    c["transpose-cast-f32-bf16"] = (
        generic([(s3, "f32")], (s3, "bf16"),
                [amap(3, ["d0", "d2", "d1"]), id3], ["parallel"] * 3,
                ["%y = arith.truncf %a0 : f32 to bf16"]),
        lambda torch, dev: [torch.randn(s3, device=dev)],
        lambda torch, xs: torch.empty(s3, dtype=torch.bfloat16,
                                      device=xs[0].device).copy_(
                                          xs[0].transpose(1, 2)), "exact")
    c["fma-f32"] = (
        generic([([M, N], "f32")] * 3, ([M, N], "f32"), [id2] * 4,
                ["parallel"] * 2,
                ["%m = arith.mulf %a0, %a1 : f32",
                 "%y = arith.addf %m, %a2 : f32"]),
        lambda torch, dev: [torch.randn(M, N, device=dev) for _ in range(3)],
        lambda torch, xs: xs[0] * xs[1] + xs[2], "ulp2")
    c["gelu-bf16"] = (
        generic([([M, N], "bf16")], ([M, N], "bf16"), [id2, id2],
                ["parallel"] * 2,
                ["%h = arith.constant 0.5 : bf16",
                 "%k = arith.constant 0.7978846 : bf16",
                 "%q = arith.constant 0.044715 : bf16",
                 "%one = arith.constant 1.0 : bf16",
                 "%x2 = arith.mulf %a0, %a0 : bf16",
                 "%x3 = arith.mulf %x2, %a0 : bf16",
                 "%t0 = arith.mulf %x3, %q : bf16",
                 "%t1 = arith.addf %a0, %t0 : bf16",
                 "%t2 = arith.mulf %t1, %k : bf16",
                 "%t3 = math.tanh %t2 : bf16",
                 "%t4 = arith.addf %t3, %one : bf16",
                 "%t5 = arith.mulf %a0, %t4 : bf16",
                 "%y = arith.mulf %t5, %h : bf16"]),
        lambda torch, dev: [torch.randn(M, N, device=dev).to(torch.bfloat16)],
        lambda torch, xs: torch.nn.functional.gelu(xs[0], approximate="tanh"),
        "bf16-ops")
    rows = [B * T, T]
    c["rowsum-f32"] = (
        generic([(rows, "f32")], ([B * T], "f32"),
                [id2, amap(2, ["d0"])], ["parallel", "reduction"],
                ["%y = arith.addf %a0, %o : f32"], init="0.0"),
        lambda torch, dev: [torch.rand(rows, device=dev)],
        lambda torch, xs: xs[0].sum(-1), "sum")
    c["rowmax-f32"] = (
        generic([(rows, "f32")], ([B * T], "f32"),
                [id2, amap(2, ["d0"])], ["parallel", "reduction"],
                ["%y = arith.maximumf %a0, %o : f32"], init="0xFF800000"),
        lambda torch, dev: [torch.randn(rows, device=dev)],
        lambda torch, xs: xs[0].amax(-1), "exact")
    c["colsum-bf16-f32"] = (
        generic([([M, N], "bf16")], ([N], "f32"),
                [id2, amap(2, ["d1"])], ["reduction", "parallel"],
                ["%w = arith.extf %a0 : bf16 to f32",
                 "%y = arith.addf %w, %o : f32"], init="0.0"),
        lambda torch, dev: [torch.rand(M, N, device=dev).to(torch.bfloat16)],
        lambda torch, xs: xs[0].sum(0, dtype=torch.float32), "sum")
    return c


CASES = _cases()


def build(outdir, before_tools, only):
    from mpt import cuda
    import shutil
    os.makedirs(outdir, exist_ok=True)
    shutil.copy(cuda.runtime_path(), outdir)
    for variant, extra in VARIANTS.items():
        env = {}
        if variant == "before":
            if not before_tools:
                continue
            env["MPT_TOOLS_DIR"] = before_tools
            extra = ""
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            for name, (text, _, _, _) in CASES.items():
                if only and name not in only:
                    continue
                d = os.path.join(outdir, variant, name)
                t0 = time.time()
                cuda.build(text, d, pipeline_extra=extra)
                print("built %s/%s (%.1f s)" % (variant, name,
                                                time.time() - t0),
                      flush=True)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return 0


def kernel_ms(torch, fn, reps):
    """Device time of the kernels of one call of fn (mean of reps)."""
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as p:
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
    total = sum(e.self_device_time_total for e in p.key_averages()
                if "CUDA" in str(getattr(e, "device_type", "")))
    kernels = sum(e.count for e in p.key_averages()
                  if "CUDA" in str(getattr(e, "device_type", "")))
    return total / 1e3 / reps, kernels / reps


def close(torch, got, want, kind, xs):
    got, want = got.double(), want.double()
    if kind == "exact":
        return bool(torch.equal(got, want)), 0.0
    err = (got - want).abs()
    if kind == "sum":
        # Pairwise/strided order vs torch's: depth <= n, u = 2^-24, data
        # >= 0 in [0, 1): |err| <= n u sum|x| (loose, a lost chunk is far
        # outside it).
        n = xs[0].numel() // want.numel()
        bound = n * 2.0 ** -24 * want.abs() + 1e-30
    elif kind == "ulp2":
        bound = 2 * 2.0 ** -24 * (want.abs() + xs[2].double().abs())
    elif kind == "ulp8":
        bound = 8 * 2.0 ** -24 * want.abs()
    else:
        # bf16-ops: mpt rounds each of GELU's 10 ops to bf16, torch rounds
        # once; 1 + tanh(.) near 0 (x < 0) cancels: an error of a few u in
        # tanh is one of about u |x| in y.
        x = xs[0].double()
        bound = 16 * 2.0 ** -8 * (want.abs() + x.abs()) + 1e-30
    ratio = float((err / bound).max())
    return ratio <= 1.0, ratio


def run(artdir, out_path, reps, only):
    import torch
    from mpt import cuda
    runtime = os.path.join(artdir, "libmpt_cuda_runtime.so")
    if os.path.exists(runtime):
        os.environ.setdefault("MPT_CUDA_RUNTIME", os.path.abspath(runtime))
    dev = torch.device("cuda")
    gpu = torch.cuda.get_device_name()
    date = datetime.date.today().isoformat()
    # The bandwidth reference: a 256 MiB device-to-device copy.
    src = torch.randn(64 << 20, device=dev)
    dst = torch.empty_like(src)
    copy_ms, _ = kernel_ms(torch, lambda: dst.copy_(src), reps)
    copy_gbs = 2 * src.nbytes / copy_ms / 1e6
    del src, dst
    print("copy: %.3f ms, %.0f GB/s" % (copy_ms, copy_gbs), flush=True)
    rows, failed = [], 0
    for name, (_, make, ref, kind) in CASES.items():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        xs = make(torch, dev)
        want = ref(torch, xs)
        nbytes = sum(x.nbytes for x in xs) + want.nbytes
        ref_ms, ref_k = kernel_ms(torch, lambda: ref(torch, xs), reps)
        base = dict(date=date, gpu=gpu, bench="bandwidth", case=name,
                    shape="x".join(map(str, xs[0].shape)), bytes=nbytes,
                    copy_gbs=round(copy_gbs, 1), ref="torch",
                    ref_ms=round(ref_ms, 4),
                    ref_gbs=round(nbytes / ref_ms / 1e6, 1),
                    ref_kernels=ref_k, reps=reps,
                    command="bench/gpu/bandwidth.py run")
        for variant in VARIANTS:
            d = os.path.join(artdir, variant, name)
            if not os.path.exists(os.path.join(d, "libstep.so")):
                continue
            lib = cuda.load(d)
            res = lib.call("step", *xs, results="device")
            got = torch.from_dlpack(res[0]).clone()
            res[0].free()
            ok, ratio = close(torch, got, want, kind, xs)
            del got

            def call():
                for r in lib.call("step", *xs, results="device"):
                    r.free()
            ms, k = kernel_ms(torch, call, reps)
            row = dict(base, variant=variant, mpt_ms=round(ms, 4),
                       mpt_gbs=round(nbytes / ms / 1e6, 1),
                       mpt_of_copy=round(nbytes / ms / 1e6 / copy_gbs, 3),
                       ref_of_copy=round(nbytes / ref_ms / 1e6 / copy_gbs,
                                         3),
                       kernels=k, correct=ok, err_over_bound=round(ratio, 4))
            failed += not ok
            rows.append(row)
            print(json.dumps(row), flush=True)
        del xs, want
        torch.cuda.empty_cache()
    with open(out_path, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(table(rows))
    return 1 if failed else 0


def table(rows):
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
    lines = ["| case | bytes | torch GB/s (% copy) | " + " | ".join(
        "mpt %s GB/s (%% copy)" % v for v in variants) + " | correct |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in variants) +
        " | --- |"]
    for case in dict.fromkeys(r["case"] for r in rows):
        rs = {r["variant"]: r for r in rows if r["case"] == case}
        r0 = next(iter(rs.values()))
        cells = []
        for v in variants:
            r = rs.get(v)
            cells.append("%.0f (%.0f %%)" % (r["mpt_gbs"],
                                             100 * r["mpt_of_copy"])
                         if r else "-")
        lines.append("| %s | %.0f MB | %.0f (%.0f %%) | %s | %s |" % (
            case, r0["bytes"] / 1e6, r0["ref_gbs"],
            100 * r0["ref_of_copy"], " | ".join(cells),
            all(r["correct"] for r in rs.values())))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("build", "run"))
    ap.add_argument("dir")
    ap.add_argument("out", nargs="?", help="run: the JSONL to append to")
    ap.add_argument("--only", nargs="*", help="case names")
    ap.add_argument("--before-tools",
                    help="build: a directory holding an earlier mpt-opt "
                    "(the `before` variant)")
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    if a.mode == "build":
        return build(a.dir, a.before_tools, a.only)
    if not a.out:
        ap.error("run needs OUT")
    return run(a.dir, a.out, a.reps, a.only)


if __name__ == "__main__":
    sys.exit(main())
