# mpt.compile(target="cuda") builds the GPU step without a GPU: the
# library is linked against libmpt_cuda_runtime (mpt.cuda.build), cached
# like a CPU step, and loaded only at the first call, after the arguments
# are checked (python/mpt/step.py).
# REQUIRES: numpy, cuda-toolkit, mpt-cuda-runtime
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s | FileCheck %s

import os

import numpy as np

import mpt
from mpt import gen

text, _ = gen.generate("mlp", batch=3, widths=[4, 6, 3])
opts = dict(target="cuda", amp="f16", optimizer="momentum",
            target_options={"chip": "sm_80", "features": "+ptx70"})
step = mpt.compile(text, **opts)
print(step.pipeline[-1])
# CHECK: --mpt-lower-to-nvvm=chip=sm_80 features=+ptx70 format=bin opt-level=3
assert not step.cache_hit and step._lib is None
files = sorted(os.listdir(step.path))
assert {"libstep.so", "step.mlir", "meta.json"} <= set(files), files
with open(os.path.join(step.path, "step.gpu.mlir")) as f:
    assert "gpu.binary" in f.read()
assert step.state[3:] == ("w0_momentum", "b0_momentum", "w1_momentum",
                          "b1_momentum"), step.state
again = mpt.compile(text, **opts)
assert again.cache_hit and again.path == step.path
print("PASS built %s" % ", ".join(f for f in files if f.endswith(".so")))
# CHECK: PASS built libstep.so

feed = {a.name: np.zeros(a.shape, np.float32) for a in step.arguments
        if a.role in ("input", "param")}
feed.update(step.init_state())
try:
    step(**dict(feed, x=np.zeros((3, 5), np.float32)))
    raise AssertionError("no error")
except ValueError as e:
    print("ERROR %s" % e)
# CHECK: ERROR @step argument 'x' (#0, role input, tensor<3x4xf32>): shape (3, 5) does not fit (3, 4)
assert step._lib is None, "loaded before the arguments were checked"
print("DONE")
# CHECK: DONE
