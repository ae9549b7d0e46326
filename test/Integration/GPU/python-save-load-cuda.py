# Step.save / mpt.load_step for target="cuda" without a GPU: the saved
# directory holds the library (cubins inside), step.mlir, step.json and a
# copy of libmpt_cuda_runtime.so; another process with no tool and no
# MPT_CUDA_RUNTIME loads it (names, state, the runtime beside it) without
# opening the library. Steps saved with runtime=False under a directory
# holding the runtime use that one ($ORIGIN/.. of libstep.so). A CPU
# library in a CUDA step's place, and the other way round, is refused.
# REQUIRES: numpy, cuda-toolkit, mpt-cuda-runtime
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache MPT_CUDA_RUNTIME=%mpt_cuda_runtime %PYTHON %s %t | FileCheck %s
# CHECK: PASS saved libmpt_cuda_runtime.so, libstep.so, step.json, step.mlir
# CHECK: PASS loaded without tools: <mpt.Step @step cuda: x, labels, w0,
# CHECK: PASS errors
# CHECK-NOT: FAIL

import json
import os
import shutil
import subprocess
import sys

import numpy as np

import mpt
from mpt import gen

OUT = sys.argv[1]
SAVED = os.path.join(OUT, "saved")

if len(sys.argv) > 2 and sys.argv[2] == "child":
    assert not shutil.which("mpt-opt") and not shutil.which("ptxas")
    assert "MPT_CUDA_RUNTIME" not in os.environ
    step = mpt.load_step(SAVED, target="cuda")
    assert step._lib is None and step.target == "cuda"
    assert step._runtime == os.path.abspath(os.path.join(
        SAVED, "libmpt_cuda_runtime.so")), step._runtime
    shared = mpt.load_step(os.path.join(OUT, "shared", "f16"))
    assert shared._runtime == os.path.join(
        os.path.abspath(OUT), "shared", "libmpt_cuda_runtime.so"), \
        shared._runtime
    print(json.dumps({"repr": repr(step), "state": step.state,
                      "init": {k: v.tolist() for k, v in
                               step.init_state().items()}}))
    sys.exit(0)

text, _ = gen.generate("mlp", batch=3, widths=[4, 6, 3])
step = mpt.compile(text, target="cuda", amp="f16", optimizer="momentum",
                   loss_scaling={"mode": "dynamic", "init_scale": 512.0},
                   target_options={"chip": "sm_80", "features": "+ptx70"})
step.save(SAVED)
files = sorted(os.listdir(SAVED))
print("PASS saved %s" % ", ".join(files))
with open(os.path.join(SAVED, "step.json")) as f:
    meta = json.load(f)
assert meta["chip"] == "sm_80" and meta["target"] == "cuda", meta
assert meta["runtime"] == "libmpt_cuda_runtime.so", meta
shared = os.path.join(OUT, "shared")
step.save(os.path.join(shared, "f16"), runtime=False)
assert "libmpt_cuda_runtime.so" not in os.listdir(os.path.join(shared, "f16"))
shutil.copy(os.environ["MPT_CUDA_RUNTIME"], shared)

env = {k: v for k, v in os.environ.items()
       if k not in ("MPT_TOOLS_DIR", "MPT_LLVM_TOOLS_DIR", "MPT_CC",
                    "MPT_CUDA_RUNTIME")}
env["PATH"] = os.path.join(OUT, "no-tools")
os.makedirs(env["PATH"])
child = json.loads(subprocess.run(
    [sys.executable, __file__, OUT, "child"], env=env, check=True,
    capture_output=True, text=True).stdout)
assert child["repr"] == repr(step), child
assert tuple(child["state"]) == step.state
assert child["init"]["loss_scale"] == 512.0, child["init"]
print("PASS loaded without tools: %s" % child["repr"])


def error(fn, *needles):
    try:
        fn()
    except (ValueError, FileNotFoundError) as e:
        for n in needles:
            assert n in str(e), (n, str(e))
        return
    raise AssertionError("no error: %s" % (needles,))


error(lambda: mpt.load_step(SAVED, target="cpu"),
      "built for target 'cuda', not 'cpu'")
cpu = mpt.compile(text, amp="f16", optimizer="momentum")
cpu_dir = cpu.save(os.path.join(OUT, "cpu"))
swapped = os.path.join(OUT, "swapped")
shutil.copytree(SAVED, swapped)
shutil.copy(os.path.join(cpu_dir, "libstep.so"), swapped)
error(lambda: mpt.load_step(swapped, verify=False), "is a CPU library",
      "says target 'cuda'")
error(lambda: mpt.load_step(swapped), "is a CPU library")
shutil.copy(os.path.join(SAVED, "libstep.so"), cpu_dir)
error(lambda: mpt.load_step(cpu_dir, verify=False), "is a CUDA library",
      "says target 'cpu'")
print("PASS errors")
