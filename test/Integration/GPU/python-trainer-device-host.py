# mpt.Trainer(step, params, results="device") (python/mpt/trainer.py): the
# weights, optimizer state and loss-scale state of a CUDA step stay on the
# device between steps as mpt.cuda.DeviceArrays; only the batch and the
# seed are copied to the device, only loss, found_inf and the scale back.
# Without a GPU: the CPU build of the same step behind mpt.cuda.Library
# with a runtime whose "device" memory is host memory (Inputs/
# host_runtime.py). The trajectory (losses, skipped step, scale, weights,
# momentum) must equal the numpy Trainer's on the CPU step bit for bit.
# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s | FileCheck %s
# CHECK: PASS device trainer
# CHECK-NOT: FAIL

import gc
import os
import sys

import numpy as np

import mpt
from mpt import cuda, gen

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
from host_runtime import HostRuntime  # noqa: E402


class Runtime(HostRuntime):
    """With what DeviceArrays use: the device ordinal, stream syncs, and
    stream-ordered frees; counts copies to the device."""

    def __init__(self):
        super().__init__()
        self.copies = 0

    def to_device(self, array):
        self.copies += 1
        return super().to_device(array)

    def free(self, ptr, stream=None):
        super().free(ptr)

    def device(self):
        return 0

    def sync_stream(self, stream):
        pass


text, _ = gen.generate("mlp", batch=8, widths=[6, 16, 4])
opts = dict(amp="f16", optimizer=mpt.Optimizer("momentum", lr=0.05),
            loss_scaling=mpt.LossScaling("dynamic", init_scale=256.0,
                                         growth_interval=2))
cpu = mpt.compile(text, **opts)
gpu = mpt.compile(text, **opts)
rt = Runtime()
gpu.target = "cuda"
gpu._lib = cuda.Library(cpu.library.lib, cpu.text, rt)

rng = np.random.default_rng(0)
params = {n: (rng.standard_normal(cpu.arg(n).shape) * 0.3).astype(np.float32)
          for n in cpu.params}
batches = []
for _ in range(8):
    batches.append((rng.standard_normal((8, 6)).astype(np.float32),
                    np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]))
batches[5][0][1, 2] = np.nan  # skipped: the scale backs off

with mpt.Trainer(cpu, params, progress=False) as ref:
    ref.fit(batches)
with mpt.Trainer(gpu, params, progress=False, results="device") as dev:
    dev.train_step(batches[0])
    assert all(isinstance(v, cuda.DeviceArray) for v in dev.params.values())
    assert all(isinstance(v, cuda.DeviceArray) for v in dev.state.values())
    before = rt.copies
    for b in batches[1:]:
        dev.train_step(b)
    # x, labels and the seed a step; nothing else crosses.
    assert rt.copies - before == 3 * (len(batches) - 1), rt.copies - before

for a, b in zip(ref.history, dev.history):
    assert (a["scale"], a["skipped"]) == (b["scale"], b["skipped"]), (a, b)
    assert np.array_equal(a["loss"], b["loss"], equal_nan=True), (a, b)
assert ref.skipped == dev.skipped == 1
for k, v in ref.params.items():
    assert np.array_equal(dev.host_params()[k], v), k
for k, v in ref.state.items():
    got = dev.host_state()[k]
    assert got.dtype == v.dtype and np.array_equal(got, v), k
assert ref.host_params()["w0"] is ref.params["w0"]
del dev
gc.collect()
assert not rt.live, "buffers copied to the device were not freed"
print("PASS device trainer: %d steps, scales %s, skipped %d" % (
    len(ref.history), sorted({r["scale"] for r in ref.history}),
    ref.skipped))
