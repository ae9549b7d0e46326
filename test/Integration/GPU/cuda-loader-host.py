# The calling convention of mpt.cuda (argument checks, descriptors, result
# copies, frees), without a GPU: a step compiled for the CPU has the same C
# entry point, and a fake runtime whose "device" memory is host memory
# stands in for libmpt_cuda_runtime. Results must equal mpt.aot's.
# REQUIRES: numpy
# RUN: %PYTHON %s

import os
import sys

import numpy as np

from mpt import aot, cuda, gen

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "Inputs"))
from host_runtime import HostRuntime  # noqa: E402




text, _ = gen.generate("mlp", batch=3, dynamic=True)
cpu = aot.compile_module(text)
rt = HostRuntime()
lib = cuda.Library(cpu.lib, cpu.text, rt)
arg_types, _ = aot.parse_signature(text, "step")
rng = np.random.default_rng(0)
arrays = [rng.standard_normal([3 if d is None else d for d in t.shape])
          .astype(np.float32) for t in arg_types]
got = lib.call("step", *arrays)
want = cpu.call("step", *arrays)
assert len(got) == len(want)
for g, w in zip(got, want):
    assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape)
    assert np.array_equal(g, w)
assert got[0].shape == ()  # the 0-d loss stays 0-d
assert not rt.live, "inputs left allocated"

# Errors name the argument.
def expect(exc, fn, needle):
    try:
        fn()
    except exc as e:
        assert needle in str(e), str(e)
    else:
        raise AssertionError("no %s" % exc.__name__)

expect(TypeError, lambda: lib.call("step", *arrays[:-1]),
       "takes %d arguments, got %d" % (len(arrays), len(arrays) - 1))
bad = list(arrays)
bad[2] = bad[2].astype(np.float64)
expect(TypeError, lambda: lib.call("step", *bad), "argument #2")
bad = list(arrays)
bad[2] = bad[2][:, :1]
expect(ValueError, lambda: lib.call("step", *bad), "argument #2")
assert not rt.live
print("ok")
