# REQUIRES: torch
# mpt.cuda's fast path for calls whose arguments are all CUDA torch tensors
# (Library.call: only the data pointers change from call to call), without
# a GPU: a step compiled for the CPU has the same C entry point, a malloc
# runtime stands in for libmpt_cuda_runtime, and torch CPU tensors of a
# subclass that answers is_cuda / get_device() as a CUDA tensor would stand
# in for CUDA tensors. Checked: the fast path is taken (the general path's
# argument readers are never asked), results are bit-identical to the
# numpy path's and to the general path's, results in an argument's buffer
# hold the tensor, shared results are freed once, and every argument that
# does not fit (dtype, shape, layout, alignment, requires_grad, device,
# host data) goes to the general path with its diagnostic. Two threads
# calling at once each get their own results.
# RUN: env MALLOC_CHECK_=3 %venv_python %s | FileCheck %s

import ctypes
import gc
import os
import subprocess
import tempfile
import threading

import numpy as np
import torch

from mpt import aot, cuda, gen

libc = ctypes.CDLL(None)
libc.free.argtypes = [ctypes.c_void_p]


class FakeCudaTensor(torch.Tensor):
    """A CPU tensor that says it is a CUDA tensor on `FakeCudaTensor.ordinal`
    (its memory is host memory, which the CPU-compiled step reads)."""

    __torch_function__ = torch._C._disabled_torch_function_impl
    ordinal = 0

    @property
    def is_cuda(self):
        return True

    def get_device(self):
        return FakeCudaTensor.ordinal


def fake(t):
    return t.as_subclass(FakeCudaTensor)


cuda._torch_tensor_class = lambda: FakeCudaTensor


class HostRuntime:
    """mpt.cuda.Runtime's interface on malloc; records frees and syncs."""

    def __init__(self):
        self.freed, self.syncs = [], []

    def check(self, what):
        pass

    def to_device(self, array):
        ptr = libc.malloc(max(array.nbytes, 1))
        ctypes.memmove(ptr, array.ctypes.data, array.nbytes)
        return ptr

    def to_host(self, ptr, nbytes, out):
        ctypes.memmove(out.ctypes.data, ptr, nbytes)

    def free(self, ptr, stream=None):
        self.freed.append(ptr)
        libc.free(ptr)

    def device(self):
        return 0

    def sync_stream(self, stream):
        self.syncs.append(stream)


libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]


def general_path_asked(lib):
    """Counts the calls of the general path's argument reader."""
    seen = []
    original = lib._device_buffer

    def counting(*args):
        seen.append(args[1])
        return original(*args)
    lib._device_buffer = counting
    return seen


def same(got, want):
    """Bit for bit."""
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        g = g.numpy() if isinstance(g, cuda.DeviceArray) else g
        assert g.shape == w.shape and g.dtype == w.dtype, (g, w)
        assert g.tobytes() == w.tobytes(), (g, w)


def expect(exc, fn, *needles):
    try:
        fn()
    except exc as e:
        for needle in needles:
            assert needle in str(e), (needle, str(e))
    else:
        raise AssertionError("no %s" % exc.__name__)


rt = HostRuntime()

# -- 1. A transformer step after AMP (f16, dynamic loss scaling) with AdamW:
# ~60 tensor arguments of f32, f16 and i32 and 0-d ones, as many results.
text, _ = gen.generate("transformer", batch=2, seq=4, dim=8, heads=2,
                       hidden=16, classes=5, depth=1)
cpu = aot.compile_module(text, extra_passes=[
    "--auto-mixed-precision=dtype=f16 loss-scaling=dynamic",
    "--mpt-attach-optimizer=kind=adamw lr=1e-3 weight-decay=0.01"])
lib = cuda.Library(cpu.lib, cpu.text, rt)
arg_types, res_types = aot.parse_signature(cpu.text, "step")
rng = np.random.default_rng(0)


def host_value(t):
    shape = [d for d in t.shape]
    if t.elem in ("f32", "f16"):
        return (rng.standard_normal(shape) * 0.1).astype(
            aot._NP_TYPES[t.elem])
    return np.zeros(shape, aot._NP_TYPES[t.elem])


arrays = [host_value(t) for t in arg_types]
for i, t in enumerate(arg_types):  # the loss scale must be positive
    if t.elem == "f32" and not t.shape:
        arrays[i] = np.array(1024.0, np.float32)
want = lib.call("step", *arrays)
same(want, cpu.call("step", *arrays))
tensors = [fake(torch.from_numpy(a.copy())) for a in arrays]

asked = general_path_asked(lib)
rt.syncs.clear()
same(lib.call("step", *tensors), want)
assert not asked, "the fast path read the arguments: %s" % asked
assert rt.syncs == [1], "the legacy default stream, once: %s" % rt.syncs
res = lib.call("step", *tensors, results="device")
same(res, want)
res = None
gc.collect()
lib.fast_torch_calls = False
same(lib.call("step", *tensors, results="device"), want)
assert len(asked) == len(tensors), "fast_torch_calls=False: general path"
lib.fast_torch_calls = True
del asked[:]
# A second call reuses the descriptors, pointers updated: other tensors,
# same values.
again = [fake(torch.from_numpy(a.copy())) for a in arrays]
same(lib.call("step", *again), want)
assert not asked
print("PASS fast path: %d torch arguments, %d results, bit-identical"
      % (len(tensors), len(res_types)))
# CHECK: PASS fast path: {{[0-9]+}} torch arguments, {{[0-9]+}} results, bit-identical

# -- 2. What does not fit goes to the general path, which says why.
f32_arg = next(i for i, t in enumerate(arg_types)
               if t.elem == "f32" and t.rank == 2)
t2 = arg_types[f32_arg]


def with_arg(value):
    args = list(tensors)
    args[f32_arg] = value
    return args


base = tensors[f32_arg]
wide = fake(torch.zeros(t2.shape[0], t2.shape[1] * 2))
cases = [
    ("dtype", fake(base.to(torch.float64)), TypeError, "dtype float64"),
    ("shape", fake(torch.zeros(t2.shape[0] + 1, t2.shape[1])), ValueError,
     "does not fit"),
    ("layout", fake(wide[:, ::2]), ValueError, "not contiguous"),
    ("requires_grad", fake(base.clone().requires_grad_()), TypeError,
     "requires grad"),
]
for what, value, exc, needle in cases:
    del asked[:]
    expect(exc, lambda: lib.call("step", *with_arg(value)), needle,
           "argument #%d" % f32_arg)
    assert asked, what
# Misaligned: a view 4 bytes into a buffer.
flat = torch.zeros(t2.shape[0] * t2.shape[1] + 1)
expect(ValueError, lambda: lib.call("step", *with_arg(
    fake(flat[1:].view(*t2.shape)))), "aligned")
# Another device.
FakeCudaTensor.ordinal = 1
expect(ValueError, lambda: lib.call("step", *tensors), "on CUDA device 1")
FakeCudaTensor.ordinal = 0
# Host data among torch tensors: copied by the general path, same results.
del asked[:]
same(lib.call("step", *with_arg(arrays[f32_arg])), want)
assert len(asked) == len(tensors) - 1
print("PASS misfits: dtype, shape, layout, requires_grad, alignment, "
      "device, host data")
# CHECK: PASS misfits

# -- 3. Results in an argument's buffer, and results sharing one: what the
# CPU pipeline does not make (it copies a returned argument; a GPU step need
# not), written in C: @passthrough returns its argument's buffer and, twice,
# a new buffer of s times it.
STEP_C = r"""
#include <stdint.h>
#include <stdlib.h>
typedef struct {
  float *allocated, *aligned;
  int64_t offset, size, stride;
} M1;
typedef struct { M1 r0, r1, r2; } R3;
void _mlir_ciface_passthrough(R3 *out, M1 *x, float s) {
  M1 y = *x;
  y.allocated = y.aligned = malloc(sizeof(float) * x->size);
  y.offset = 0;
  y.stride = 1;
  for (int64_t i = 0; i < x->size; ++i)
    y.aligned[i] = s * x->aligned[x->offset + i * x->stride];
  out->r0 = *x;
  out->r1 = y;
  out->r2 = y;
}
"""
SIGNATURE = """
func.func @passthrough(%x: tensor<4xf32>, %s: f32)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  return
}
"""
workdir = tempfile.mkdtemp(prefix="mpt-fast-path-")
with open(os.path.join(workdir, "step.c"), "w") as f:
    f.write(STEP_C)
subprocess.run([os.environ.get("MPT_CC") or "cc", "-shared", "-fPIC", "-o",
                os.path.join(workdir, "libstep.so"),
                os.path.join(workdir, "step.c")], check=True)
small = cuda.Library(ctypes.CDLL(os.path.join(workdir, "libstep.so")),
                     SIGNATURE, rt)
asked = general_path_asked(small)
x = fake(torch.arange(4, dtype=torch.float32))
rt.freed.clear()
r = small.call("passthrough", x, 3.0, results="device")
assert not asked
same(r, [np.arange(4, dtype=np.float32), 3 * np.arange(4, dtype=np.float32),
         3 * np.arange(4, dtype=np.float32)])
assert r[0].ptr == x.data_ptr(), "the argument's buffer, not a copy"
assert r[1].ptr == r[2].ptr
r[1].free()
assert not rt.freed
r[2].free()
assert len(rt.freed) == 1, "one allocation, freed once"
r[0].free()
r = None
gc.collect()
assert len(rt.freed) == 1, "an argument's buffer is never freed"
out = small.call("passthrough", x, 2.0)
same(out, [np.arange(4, dtype=np.float32)] +
     [2 * np.arange(4, dtype=np.float32)] * 2)
assert len(rt.freed) == 2, "numpy results: the shared buffer freed once"
print("PASS ownership: argument buffers held, shared results freed once")
# CHECK: PASS ownership

# -- 4. Two threads at once: each its own descriptors.
errors = []


def worker(scale):
    try:
        for _ in range(50):
            got = small.call("passthrough", x, scale)
            assert got[1].tobytes() == (scale * np.arange(
                4, dtype=np.float32)).tobytes()
    except BaseException as e:  # reported below
        errors.append(e)


threads = [threading.Thread(target=worker, args=(float(s),))
           for s in (2, 5)]
for th in threads:
    th.start()
for th in threads:
    th.join()
assert not errors, errors
print("PASS threads")
# CHECK: PASS threads
