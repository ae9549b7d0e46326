"""GEMM cases of bench/gpu/gemm.sh: MLIR for each, built by mpt-opt.

`python3 gemm_cases.py build OUTDIR` (here, where mpt-opt and ptxas are)
writes OUTDIR/<case>.cubin and OUTDIR/cases.json; gemm_run.py runs them.
A case is one contraction on static memrefs through mpt-select-mma-strategy
(or a pinned strategy), mpt-contraction-to-mma, gpu-kernel-outlining and
upstream's gpu-lower-to-nvvm-pipeline with the bare-pointer kernel ABI:
the kernel's arguments are then the pointers of A, B and C, in that order.
"""
import json
import os
import re
import shutil
import subprocess
import sys

# name, dtype, batch, M, N, K, A layout (mk|km), B layout (kn|nk), out
# (f32|in), init (zero: C = A*B after a zero fill | acc: C += A*B), strategy
# pinned as "tile_m,tile_n,tile_k,warps_m,warps_n,stages" or None.
CASES = [
    ("f16_8192", "f16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", None),
    ("bf16_8192", "bf16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", None),
    ("f16_4096", "f16", 0, 4096, 4096, 4096, "mk", "kn", "f32", "zero", None),
    ("bf16_4096", "bf16", 0, 4096, 4096, 4096, "mk", "kn", "f32", "zero", None),
    ("f16_ragged", "f16", 0, 1000, 1001, 999, "mk", "kn", "f32", "zero", None),
    ("bf16_ragged", "bf16", 0, 1000, 1001, 999, "mk", "kn", "f32", "zero", None),
    ("f16_ragged8", "f16", 0, 1000, 1000, 1000, "mk", "kn", "f32", "zero", None),
    ("f16_m1", "f16", 0, 1, 4096, 4096, "mk", "kn", "f32", "zero", None),
    ("bf16_k8", "bf16", 0, 256, 256, 8, "mk", "kn", "f32", "zero", None),
    ("f16_AtB", "f16", 0, 4096, 4096, 4096, "km", "kn", "f32", "zero", None),
    ("bf16_ABt", "bf16", 0, 4096, 4096, 4096, "mk", "nk", "f32", "zero", None),
    ("bf16_AtBt", "bf16", 0, 2048, 1024, 512, "km", "nk", "f32", "zero", None),
    ("f16_batch", "f16", 32, 1024, 1024, 1024, "mk", "kn", "f32", "zero", None),
    ("bf16_batch_ABt", "bf16", 16, 512, 768, 64, "mk", "nk", "f32", "zero", None),
    ("f16_out16_acc", "f16", 0, 2048, 2048, 2048, "mk", "kn", "in", "acc", None),
    ("bf16_out16", "bf16", 0, 4096, 4096, 4096, "mk", "kn", "in", "zero", None),
    ("f32_acc", "f16", 0, 1024, 512, 768, "mk", "kn", "f32", "acc", None),
    # Strategy variants at 8192^3 (tuning).
    ("f16_8192_t128x128s4", "f16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "128,128,32,2,2,4"),
    ("f16_8192_t128x256k64s3", "f16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "128,256,64,2,4,3"),
    ("f16_8192_t256x128s4", "f16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "256,128,32,4,2,4"),
    ("f16_8192_t128x256s3", "f16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "128,256,32,2,4,3"),
    ("bf16_8192_t128x256s5", "bf16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "128,256,32,2,4,5"),
    ("bf16_8192_t128x256k64s4", "bf16", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", "128,256,64,2,4,4"),
    # TF32 (f32 inputs, --mpt-select-mma-strategy=allow-tf32): against
    # cuBLAS with TF32 allowed and exact FP32.
    ("tf32_8192", "tf32", 0, 8192, 8192, 8192, "mk", "kn", "f32", "zero", None),
    ("tf32_4096", "tf32", 0, 4096, 4096, 4096, "mk", "kn", "f32", "zero", None),
    ("tf32_ragged", "tf32", 0, 1000, 1001, 999, "mk", "kn", "f32", "zero", None),
    ("tf32_AtB", "tf32", 0, 4096, 4096, 4096, "km", "kn", "f32", "zero", None),
    ("tf32_ABt", "tf32", 0, 4096, 4096, 4096, "mk", "nk", "f32", "zero", None),
]
# Hopper warpgroup kernels (mpt-select-mma-strategy wgmma=true: TMA,
# mbarriers, wgmma), named <case>_wg, beside the mma.sync ones; the issue's
# ragged shape 8000x8192x3000 both ways.
CASES.append(("f16_ragged3000", "f16", 0, 8000, 8192, 3000, "mk", "kn",
              "f32", "zero", None))
CASES.append(("bf16_ragged3000", "bf16", 0, 8000, 8192, 3000, "mk", "kn",
              "f32", "zero", None))
WGMMA_CASES = ["f16_8192", "bf16_8192", "f16_4096", "bf16_4096",
               "f16_ragged3000", "bf16_ragged3000", "f16_ragged8", "f16_m1",
               "bf16_k8", "f16_AtB", "bf16_ABt", "bf16_AtBt",
               "f16_out16_acc", "bf16_out16", "f32_acc"]
CASES += [(c[0] + "_wg",) + c[1:] for c in CASES if c[0] in WGMMA_CASES]
# The same with a persistent grid (wgmma=true persistent=true): <case>_wgp.
CASES += [(c[0] + "_wgp",) + c[1:] for c in CASES if c[0] in WGMMA_CASES]
# Warpgroup tile variants (pinned: tile m, n, k, warps m, n, stages, wgmma).
for base, pin in [("f16_8192", "128,256,64,8,1,4,wgmma"),
                  ("bf16_8192", "128,256,64,8,1,4,wgmma"),
                  ("f16_8192", "256,128,64,16,1,4,wgmma"),
                  ("f16_4096", "128,256,64,8,1,4,wgmma"),
                  ("f16_ragged3000", "128,256,64,8,1,4,wgmma")]:
    c = next(c for c in CASES if c[0] == base)
    tm, tn, _, _, _, st, _ = pin.split(",")
    CASES.append(("%s_wg_t%sx%ss%s" % (base, tm, tn, st),) + c[1:10] + (pin,))
# CUtensorMapDataType of the 16-bit formats.
TMA_DATA_TYPE = {"f16": 6, "bf16": 9}
# Storage type of a case's inputs.
STORAGE = {"tf32": "f32"}


def memref(shape, ty):
    return "memref<%sx%s>" % ("x".join(str(d) for d in shape), ty)


def case_mlir(case):
    name, dt, batch, m, n, k, la, lb, out, init, pin = case
    oty = "f32" if out == "f32" else dt
    lead = [batch] if batch else []
    a = lead + ([m, k] if la == "mk" else [k, m])
    b = lead + ([k, n] if lb == "kn" else [n, k])
    c = lead + [m, n]
    bd = "d0, " if batch else ""
    off = 1 if batch else 0
    dm, dn, dk = ("d%d" % (off + i) for i in range(3))
    dims = bd + ", ".join([dm, dn, dk])
    amap = "%s%s" % (bd, "%s, %s" % ((dm, dk) if la == "mk" else (dk, dm)))
    bmap = "%s%s" % (bd, "%s, %s" % ((dk, dn) if lb == "kn" else (dn, dk)))
    cmap = "%s%s, %s" % (bd, dm, dn)
    st = STORAGE.get(dt, dt)
    oty = "f32" if out == "f32" else st
    ta, tb, tc = memref(a, st), memref(b, st), memref(c, oty)
    attr = ""
    if pin:
        tm, tn, tk, wm, wn, st = pin.split(",")[:6]
        attr = (" {mma_strategy = {tile = array<i64: %s, %s, %s>, "
                "warps = array<i64: %s, %s>, stages = %s : i64, "
                "group_m = 8 : i64, copy = array<i64: 8, 8>%s}}"
                % (tm, tn, tk, wm, wn, st,
                   ", wgmma" if pin.endswith(",wgmma") else ""))
    op = "linalg.batch_matmul" if batch else "linalg.matmul"
    lines = ["func.func @%s(%%a: %s, %%b: %s, %%c: %s) {" % (name, ta, tb, tc)]
    if init == "zero":
        lines.append("  %%z = arith.constant 0.0 : %s" % oty)
        lines.append("  linalg.fill ins(%%z : %s) outs(%%c : %s)" % (oty, tc))
    lines.append(
        "  %s indexing_maps = [affine_map<(%s) -> (%s)>, "
        "affine_map<(%s) -> (%s)>, affine_map<(%s) -> (%s)>]%s"
        " ins(%%a, %%b : %s, %s) outs(%%c : %s)"
        % (op, dims, amap, dims, bmap, dims, cmap, attr, ta, tb, tc))
    lines += ["  return", "}"]
    return "\n".join(lines) + "\n"


def unescape(raw):
    out = re.sub(r'\\([0-9A-Fa-f]{2})', lambda h: chr(int(h.group(1), 16)),
                 raw)
    return out.replace('\\"', '"').replace('\\\\', '\\')


def build(outdir, tools, ptxas, only=None):
    os.makedirs(outdir, exist_ok=True)
    mpt_opt = os.path.join(tools, "mpt-opt")
    meta = []
    for case in CASES:
        name = case[0]
        if only and name not in only:
            continue
        src = case_mlir(case)
        with open(os.path.join(outdir, name + ".mlir"), "w") as f:
            f.write(src)
        select = "--mpt-select-mma-strategy" + (
            "=allow-tf32=true" if case[1] == "tf32" else
            "=wgmma=true" if name.endswith("_wg") else
            "=wgmma=true persistent=true" if name.endswith("_wgp") else "")
        gpu = subprocess.run(
            [mpt_opt, "-", select,
             "--mpt-contraction-to-mma", "--gpu-kernel-outlining"],
            input=src, capture_output=True, text=True, check=True).stdout
        launch = re.search(
            r"gpu.launch_func\s+@(\w+)::@(\w+) blocks in \(([^)]*)\) "
            r"threads in \(([^)]*)\)\s+dynamic_shared_memory_size (\S+) "
            r"args\(([^)]*)\)", gpu)
        strat = re.search(r"mma_strategy = (\{[^}]*\})", subprocess.run(
            [mpt_opt, "-", select], input=src,
            capture_output=True, text=True, check=True).stdout).group(1)
        args = [x.split(":")[0].strip() for x in launch.group(6).split(",")]
        # A warpgroup kernel takes the TMA maps of A and B after them.
        wgmma = "wgmma" in strat
        if args[:3] != ["%arg0", "%arg1", "%arg2"] or len(args) != (
                5 if wgmma else 3):
            sys.exit("%s: kernel arguments are %s, not A, B, C%s"
                     % (name, args, " and two tensor maps" if wgmma else ""))
        lowered = subprocess.run(
            [mpt_opt, "-", "--gpu-lower-to-nvvm-pipeline=cubin-chip=sm_90a "
             "cubin-features=+ptx80 cubin-format=isa "
             "kernel-bare-ptr-calling-convention=true"],
            input=gpu, capture_output=True, text=True, check=True).stdout
        ptx = unescape(re.search(r'assembly = "((?:[^"\\]|\\.)*)"',
                                 lowered).group(1))
        ptx_path = os.path.join(outdir, name + ".ptx")
        with open(ptx_path, "w") as f:
            f.write(ptx)
        res = subprocess.run(
            [ptxas, "-arch=sm_90a", "-v", ptx_path, "-o",
             os.path.join(outdir, name + ".cubin")],
            capture_output=True, text=True, check=True)
        usage = " ".join(l.split("ptxas info    : ")[-1]
                         for l in res.stderr.splitlines()
                         if "registers" in l or "spill" in l)
        # Grid and block from the host code: x = tiles, z = batch.
        _, dt, batch, m, n, k, la, lb, out, init, _ = case
        tile = [int(x) for x in re.search(r"tile = array<i64: ([^>]*)>",
                                          strat).group(1).split(",")]
        smem = int(re.search(r"c(\d+)_i32", launch.group(5)).group(1))
        threads = int(re.search(r"%c(\d+)", launch.group(4)).group(1))
        maps = []
        if wgmma:
            # Boxes as mpt-contraction-to-mma makes them: [tile][64] for a
            # K-major operand, [64][64] for a transposed one. The kernel
            # takes the maps in the order outlining chose: follow each
            # argument back to the operand it describes.
            boxes = [[tile[0], 64] if la == "mk" else [64, 64],
                     [tile[1], 64] if lb == "nk" else [64, 64]]
            for arg in args[3:]:
                ptr = re.search(re.escape(arg) + r" = builtin."
                                r"unrealized_conversion_cast (%\w+)", gpu)
                desc = re.search(re.escape(ptr.group(1)) + r" = nvgpu.tma."
                                 r"create.descriptor (%\w+)", gpu)
                src = re.search(re.escape(desc.group(1)) + r" = memref.cast "
                                r"%arg(\d)", gpu)
                operand = int(src.group(1))
                maps.append(dict(operand=operand,
                                 data_type=TMA_DATA_TYPE[dt],
                                 box=boxes[operand]))
        grid = [-(-m // tile[0]) * -(-n // tile[1]), 1, max(batch, 1)]
        blocks = re.search(r"persistent = (\d+)", strat)
        if blocks:  # a persistent grid: at most that many blocks
            grid[0] = min(grid[0], int(blocks.group(1)))
        meta.append(dict(case=name, dtype=dt, batch=batch, m=m, n=n, k=k,
                         a=la, b=lb, out=out, init=init,
                         kernel=launch.group(2), grid=grid,
                         block=[threads, 1, 1], smem=smem, tensor_maps=maps,
                         strategy=strat, ptxas=usage))
        print("%-24s %s | %s" % (name, strat, usage), flush=True)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
    # gemm_run.py encodes the warpgroup kernels' TMA maps with mpt's runtime.
    runtime = os.environ.get("MPT_CUDA_RUNTIME") or os.path.join(
        os.path.dirname(os.path.abspath(tools)), "lib",
        "libmpt_cuda_runtime.so")
    if any(m["tensor_maps"] for m in meta):
        shutil.copy(runtime, os.path.join(outdir, "libmpt_cuda_runtime.so"))


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "build":
        sys.exit("usage: gemm_cases.py build OUTDIR [CASE...]")
    build(sys.argv[2], os.environ.get("MPT_TOOLS_DIR", "build/bin"),
          os.environ.get("PTXAS", "ptxas"), sys.argv[3:])
