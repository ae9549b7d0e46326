# mpt.compile(target="cuda") without a GPU (python/mpt/step.py): the
# mpt-opt arguments of the GPU path, option checks, and the Step calling
# mpt.cuda.Library (named arguments, results, errors that name the argument)
# with a runtime whose "device" memory is host memory standing in for
# libmpt_cuda_runtime (as cuda-loader-host.py), on the CPU build of the
# same step (same C entry point).
# REQUIRES: numpy
# RUN: rm -rf %t && mkdir -p %t && env MPT_CACHE_DIR=%t/cache %PYTHON %s | FileCheck %s

import os
import sys

import numpy as np

import mpt
from mpt import cuda, gen

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
from host_runtime import HostRuntime  # noqa: E402

# --- the pipeline: transforms, then mpt-lower-to-nvvm with its options.
args = mpt.pipeline_args(target="cuda", amp="bf16",
                         optimizer=mpt.Optimizer("adamw", lr=1e-3,
                                                 weight_decay=0.01))
assert args == [
    "--auto-mixed-precision=dtype=bf16",
    "--mpt-attach-optimizer=kind=adamw lr=0.001 weight-decay=0.01",
    "--mpt-lower-to-nvvm=chip=sm_90a features=+ptx80 format=bin "
    "opt-level=3"], args
print("\n".join(args))
# CHECK: --auto-mixed-precision=dtype=bf16
# CHECK-NEXT: --mpt-attach-optimizer=kind=adamw lr=0.001 weight-decay=0.01
# CHECK-NEXT: --mpt-lower-to-nvvm=chip=sm_90a features=+ptx80 format=bin opt-level=3
args = mpt.pipeline_args(target="cuda", amp="f16", loss_scaling="dynamic",
                         target_options={"chip": "sm_80",
                                         "features": "+ptx70",
                                         "format": "isa", "tf32": True,
                                         "epilogue_stages": 2})
assert args == [
    "--auto-mixed-precision=dtype=f16 loss-scaling=dynamic",
    "--mpt-lower-to-nvvm=chip=sm_80 features=+ptx70 format=isa "
    "opt-level=3 tf32=true epilogue-stages=2"], args
# The CPU path takes mpt-lower-to-cpu's options the same way.
assert mpt.pipeline_args(target_options={"fuse_elementwise": True}) == [
    "--mpt-lower-to-cpu=fuse-elementwise=true"]
assert mpt.pipeline_args(pipeline="--auto-mixed-precision=dtype=f16 "
                         "report=- --mpt-attach-optimizer=kind=sgd",
                         target="cuda")[:2] == [
    "--auto-mixed-precision=dtype=f16 report=-",
    "--mpt-attach-optimizer=kind=sgd"]
# FP32 with loss scaling: the pass alone, strict.
assert mpt.pipeline_args(loss_scaling={"mode": "static",
                                       "init_scale": 8.0}) == [
    "--mpt-insert-loss-scaling=mode=static strict=true init-scale=8.0",
    "--mpt-lower-to-cpu"]
for bad, needle in [({"target": "gpu"}, "'gpu'"),
                    ({"amp": "f8", "target": "cuda"}, "'f8'"),
                    ({"loss_scaling": "always"}, "'always'"),
                    ({"amp_options": {"dtype": "f16"}}, "amp_options")]:
    try:
        mpt.pipeline_args(**bad)
        raise AssertionError(bad)
    except ValueError as e:
        assert needle in str(e), (needle, e)
print("PASS pipeline arguments")
# CHECK: PASS pipeline arguments


# --- the Step over mpt.cuda.Library, with host memory as device memory.


text, _ = gen.generate("mlp", batch=3, widths=[4, 6, 3])
cpu = mpt.compile(text, amp="f16", optimizer="sgd")
gpu = mpt.compile(text, amp="f16", optimizer="sgd")  # the cached library
rt = HostRuntime()
gpu.target = "cuda"
gpu._lib = cuda.Library(cpu.library.lib, cpu.text, rt)
rng = np.random.default_rng(0)
feed = {a.name: rng.standard_normal(a.shape).astype(np.float32)
        for a in cpu.arguments if a.role in ("input", "param")}
feed.update(cpu.init_state())
want = cpu(**feed)
got = gpu(**feed)
assert list(got) == list(want)
for k in want:
    assert np.array_equal(got[k], want[k]), k
assert not rt.live, "inputs left allocated"
print("PASS cuda Library through Step: %s" % ", ".join(got))
# CHECK: PASS cuda Library through Step: loss, found_inf, loss_scale, growth_tracker, hysteresis, w0, b0, w1, b1

for bad, kind, needle in [
        (dict(feed, w0=feed["w0"].astype(np.float64)), TypeError, "'w0'"),
        (dict(feed, b1=feed["b1"][:2]), ValueError, "'b1'")]:
    try:
        gpu(**bad)
        raise AssertionError(needle)
    except kind as e:
        assert needle in str(e), e
        print("ERROR %s" % e)
# CHECK: ERROR @step argument 'w0' (#2, role param, tensor<4x6xf32>): dtype float64, expected float32
# CHECK: ERROR @step argument 'b1' (#5, role param, tensor<3xf32>): shape (2,) does not fit (3,)


# A device buffer (here: host memory behind __cuda_array_interface__) is
# passed to mpt.cuda unchecked; its errors get the argument's name.
class FakeDevice:
    def __init__(self, array):
        self.array = array
        self.__cuda_array_interface__ = {
            "shape": array.shape, "typestr": array.dtype.str,
            "data": (array.ctypes.data, False), "version": 3,
            "strides": None, "stream": None}


try:
    gpu(**dict(feed, w1=FakeDevice(feed["w1"].astype(np.float64))))
    raise AssertionError("no error for a float64 device buffer")
except TypeError as e:
    assert "argument #4 'w1'" in str(e), e
    print("ERROR %s" % e)
# CHECK: ERROR @step argument #4 'w1' (tensor<6x3xf32>): dtype <f8, expected float32 (f32)
print("DONE")
# CHECK: DONE
