# mpt.cuda's device-buffer arguments and device results, without a GPU: a
# step compiled for the CPU has the same C entry point, a fake runtime on
# malloc stands in for libmpt_cuda_runtime, and the "device tensors" are
# host memory behind __cuda_array_interface__ or a DLPack capsule marked
# kDLCUDA (made here with ctypes, as a producer would). Results must equal
# the numpy path's bit for bit, with no copy to the device; every error
# names the argument; every buffer is freed once (MALLOC_CHECK_=3 aborts on
# a double free), and only buffers mpt.cuda owns.
# REQUIRES: numpy
# RUN: env MALLOC_CHECK_=3 %PYTHON %s

import ctypes
import gc
import os
import subprocess
import tempfile
import weakref

import numpy as np

from mpt import aot, cuda, gen

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]


class HostRuntime:
    """mpt.cuda.Runtime's interface on malloc/memmove; counts copies,
    frees and stream synchronisations."""

    def __init__(self):
        self.ordinal = 0
        self.reset()

    def reset(self):
        self.to_device_calls = self.to_host_calls = 0
        self.copies = set()  # buffers made by to_device, not yet freed
        self.made = []  # every buffer made by to_device
        self.freed = []
        self.free_streams = []  # None: now; 1: after the legacy stream
        self.syncs = []

    def check(self, what):
        pass

    def to_device(self, array):
        self.to_device_calls += 1
        ptr = libc.malloc(max(array.nbytes, 1))
        ctypes.memmove(ptr, array.ctypes.data, array.nbytes)
        self.copies.add(ptr)
        self.made.append(ptr)
        return ptr

    def to_host(self, ptr, nbytes, out):
        self.to_host_calls += 1
        ctypes.memmove(out.ctypes.data, ptr, nbytes)

    def free(self, ptr, stream=None):
        # A second free of one buffer aborts in glibc (MALLOC_CHECK_=3).
        self.freed.append(ptr)
        self.free_streams.append(stream)
        self.copies.discard(ptr)
        libc.free(ptr)

    def device(self):
        return self.ordinal

    def sync_stream(self, stream):
        self.syncs.append(stream)


MALLOCED = []


def host_buffer(array, extra=0):
    """`array`'s bytes in malloc'ed memory (16-byte aligned), `extra` bytes
    in front."""
    ptr = libc.malloc(max(array.nbytes + extra, 1))
    MALLOCED.append(ptr)
    ctypes.memmove(ptr + extra, array.ctypes.data, array.nbytes)
    return ptr + extra


class CudaArray:
    """A producer of __cuda_array_interface__ over host memory. `entries`
    replace or (None) drop entries of the interface; `device` adds
    __dlpack_device__ (kDLCUDA, device), as PyTorch has."""

    def __init__(self, array, typestr=None, device=None, **entries):
        array = np.require(array, requirements="C")
        self.ptr = host_buffer(array)
        self.cai = {"shape": array.shape,
                    "typestr": typestr or array.dtype.str,
                    "data": (self.ptr, False), "strides": None,
                    "version": 3}
        for k, v in entries.items():
            if v is None:
                self.cai.pop(k, None)
            else:
                self.cai[k] = v
        if device is not None:
            self.__dlpack_device__ = lambda: (2, device)

    @property
    def __cuda_array_interface__(self):
        return dict(self.cai)


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32),
                ("device_id", ctypes.c_int32), ("ndim", ctypes.c_int32),
                ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                ("lanes", ctypes.c_uint16),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class Managed(ctypes.Structure):
    _fields_ = [("dl", DLTensor), ("ctx", ctypes.c_void_p),
                ("deleter", DELETER)]


def pyapi(name, restype, *argtypes):
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


capsule_new = pyapi("PyCapsule_New", ctypes.py_object, ctypes.c_void_p,
                    ctypes.c_char_p, ctypes.c_void_p)
capsule_valid = pyapi("PyCapsule_IsValid", ctypes.c_int, ctypes.c_void_p,
                      ctypes.c_char_p)
capsule_get = pyapi("PyCapsule_GetPointer", ctypes.c_void_p,
                    ctypes.py_object, ctypes.c_char_p)
capsule_get_raw = pyapi("PyCapsule_GetPointer", ctypes.c_void_p,
                        ctypes.c_void_p, ctypes.c_char_p)
capsule_set_name = pyapi("PyCapsule_SetName", ctypes.c_int,
                         ctypes.py_object, ctypes.c_char_p)
DLTENSOR = ctypes.c_char_p(b"dltensor")
USED = ctypes.c_char_p(b"used_dltensor")
DL_CODES = {"f": 2, "i": 0, "u": 1, "b": 6}


class DLPackArray:
    """A DLPack producer over host memory marked as device (kind, id):
    kDLCUDA = 2 by default. Counts its capsules and deleter calls and keeps
    the streams it was asked for."""

    def __init__(self, array, device=(2, 0), code=None, bits=None,
                 strides=None, byte_offset=0, shape=None):
        array = np.require(array, requirements="C")
        self.base = host_buffer(array, byte_offset) - byte_offset
        self.byte_offset = byte_offset
        self.shape = tuple(array.shape if shape is None else shape)
        self.strides = strides
        self.device = device
        self.code = DL_CODES[array.dtype.kind] if code is None else code
        self.bits = 8 * array.dtype.itemsize if bits is None else bits
        self.exported = self.deleted = 0
        self.streams = []
        self.live = {}
        self._deleter = DELETER(self._delete)
        self._destructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(
            self._destroy)

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, stream=None):
        self.streams.append(stream)
        m = Managed()
        n = len(self.shape)
        shape = (ctypes.c_int64 * max(n, 1))(*self.shape)
        m.dl.data = self.base
        m.dl.device_type, m.dl.device_id = self.device
        m.dl.ndim = n
        m.dl.code, m.dl.bits, m.dl.lanes = self.code, self.bits, 1
        m.dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
        strides = None
        if self.strides is not None:
            strides = (ctypes.c_int64 * max(n, 1))(*self.strides)
            m.dl.strides = ctypes.cast(strides,
                                       ctypes.POINTER(ctypes.c_int64))
        m.dl.byte_offset = self.byte_offset
        m.deleter = self._deleter
        self.live[ctypes.addressof(m)] = (m, shape, strides)
        self.exported += 1
        return capsule_new(ctypes.addressof(m), DLTENSOR,
                           ctypes.cast(self._destructor, ctypes.c_void_p))

    def _delete(self, addr):
        assert addr in self.live, "deleter called twice"
        del self.live[addr]
        self.deleted += 1

    def _destroy(self, capsule):
        if capsule_valid(capsule, b"dltensor"):
            self._delete(capsule_get_raw(capsule, b"dltensor"))


def consume(capsule):
    """What a DLPack consumer does: take the DLManagedTensor, rename the
    capsule; returns (managed, address)."""
    addr = capsule_get(capsule, b"dltensor")
    capsule_set_name(capsule, USED)
    return Managed.from_address(addr), addr


def expect(exc, fn, *needles):
    try:
        fn()
    except exc as e:
        for needle in needles:
            assert needle in str(e), (needle, str(e))
    else:
        raise AssertionError("no %s" % exc.__name__)


def same(got, want):
    """Bit for bit."""
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        g = g.numpy() if isinstance(g, cuda.DeviceArray) else g
        assert g.shape == w.shape and g.dtype == w.dtype, (g, w)
        assert g.tobytes() == w.tobytes(), (g, w)


rt = HostRuntime()

# -- 1. The MLP step (f32, a dynamic batch, a 0-d seed): device arguments
# give the numpy path's results, with no copy to the device.
text, _ = gen.generate("mlp", batch=3, dynamic=True)
cpu = aot.compile_module(text)
lib = cuda.Library(cpu.lib, cpu.text, rt)
arg_types, res_types = aot.parse_signature(text, "step")
rng = np.random.default_rng(0)
arrays = [rng.standard_normal([3 if d is None else d for d in t.shape])
          .astype(np.float32) for t in arg_types]
want = want_mlp = lib.call("step", *arrays)
same(want, cpu.call("step", *arrays))
assert rt.to_device_calls == len(arrays) and not rt.copies

rt.reset()
cais = [CudaArray(a) for a in arrays]  # CAI v3 without "stream": v2-like
same(lib.call("step", *cais), want)
assert rt.to_device_calls == 0, "a device argument was copied"
assert rt.syncs == [1], "the legacy default stream, once: %s" % rt.syncs

rt.reset()
dls = [DLPackArray(a) for a in arrays]
same(lib.call("step", *dls), want)
assert rt.to_device_calls == 0
assert all(d.streams == [1] for d in dls), "asked for the legacy stream"
assert all(d.exported == d.deleted == 1 for d in dls), "deleters"
assert rt.syncs == [1]

# Mixed: numpy, CAI with an explicit stream or none needed, DLPack.
rt.reset()
mixed = [arrays[0], CudaArray(arrays[1], stream=0x5000),
         DLPackArray(arrays[2]), CudaArray(arrays[3], stream=None)] + \
    [CudaArray(a, stream=0x4000) for a in arrays[4:]]
same(lib.call("step", *mixed), want)
assert rt.to_device_calls == 1 and not rt.copies
assert rt.syncs == [1, 0x4000, 0x5000], rt.syncs
# DLPack's byte_offset is honoured; the stride of a dimension of size 1
# does not matter.
rt.reset()
same(lib.call("step", *arrays[:2], DLPackArray(arrays[2], byte_offset=32),
              *arrays[3:]), want)
x1, y1 = arrays[0][:1], arrays[1][:1]
want1 = lib.call("step", x1, y1, *arrays[2:])
rt.reset()
same(lib.call("step", CudaArray(x1, strides=(4096, 4)),
              DLPackArray(y1, strides=(77, 1)), *cais[2:]), want1)
assert rt.to_device_calls == 0
print("PASS mlp: CAI, DLPack, mixed; streams synchronised")

# Device results: same bits, nothing copied either way until numpy().
rt.reset()
res = lib.call("step", *cais, results="device")
assert rt.to_device_calls == 0 and rt.to_host_calls == 0
assert [r.shape for r in res] == [w.shape for w in want]
assert res[0].shape == () and res[0].dtype == np.float32
cai = res[1].__cuda_array_interface__
assert cai["typestr"] == "<f4" and cai["version"] == 3
assert cai["stream"] is None and cai["strides"] is None
assert cai["data"] == (res[1].ptr, False) and res[1].__dlpack_device__() == \
    (2, 0)
same(res, want)
assert rt.to_host_calls == len(want)
assert len({r.ptr for r in res}) == len(res) and not rt.freed
res[2].free()
res[2].free()  # twice is harmless
assert len(rt.freed) == 1 and rt.free_streams == [1], "ordered after the " \
    "legacy default stream, whose work may still read it"
expect(ValueError, lambda: res[2].numpy(), "freed")
# Its __cuda_array_interface__ was read: a consumer may hold the array (not
# the buffer), so the buffer goes when the array does.
res[1].free()
assert len(rt.freed) == 1
expect(ValueError, lambda: res[1].__cuda_array_interface__, "freed")
res = None
gc.collect()
assert len(rt.freed) == len(want), "each result freed once"
print("PASS mlp: device results, freed once each")

# -- 2. Element types: f16, bf16 (CAI "<V2" or its bits "<u2", DLPack
# kDLBfloat), i32, i1; results of each.
MODULE = """
func.func @mixed(%a: tensor<4xf16>, %b: tensor<4xbf16>, %n: tensor<i32>,
                 %m: tensor<2x2xi1>)
    -> (tensor<4xf32>, tensor<4xbf16>, tensor<i32>, tensor<2x2xi1>) {
  %af = arith.extf %a : tensor<4xf16> to tensor<4xf32>
  %bf = arith.extf %b : tensor<4xbf16> to tensor<4xf32>
  %s = arith.addf %af, %bf : tensor<4xf32>
  %sb = arith.truncf %s : tensor<4xf32> to tensor<4xbf16>
  %n2 = arith.addi %n, %n : tensor<i32>
  %t = arith.constant dense<true> : tensor<2x2xi1>
  %mn = arith.xori %m, %t : tensor<2x2xi1>
  return %s, %sb, %n2, %mn
      : tensor<4xf32>, tensor<4xbf16>, tensor<i32>, tensor<2x2xi1>
}
func.func @twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = arith.addf %x, %x : tensor<4xf32>
  return %y, %y : tensor<4xf32>, tensor<4xf32>
}
func.func @reshaped(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>) {
  %y = arith.mulf %x, %x : tensor<2x3xf32>
  %z = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  return %y, %z : tensor<2x3xf32>, tensor<6xf32>
}
"""
small_cpu = aot.compile_module(MODULE)
small = cuda.Library(small_cpu.lib, small_cpu.text, rt)

# What the CPU pipeline does not make (it copies a returned argument and
# returns contiguous results; a GPU step need do neither), written in C:
# @passthrough returns its argument's buffer as two of its results, @column
# a strided view (column 1) of a buffer it also returns whole.
FAKE_STEPS_C = r"""
#include <stdint.h>
#include <stdlib.h>
typedef struct {
  float *allocated, *aligned;
  int64_t offset, size, stride;
} M1;
typedef struct { M1 r0, r1, r2; } R3;
void _mlir_ciface_passthrough(R3 *out, M1 *x) {
  M1 y = *x;
  y.allocated = y.aligned = malloc(sizeof(float) * (x->size + 1));
  y.offset = 0;
  y.stride = 1;
  for (int64_t i = 0; i < x->size; ++i)
    y.aligned[i] = 2 * x->aligned[x->offset + i * x->stride];
  out->r0 = *x;
  out->r1 = y;
  out->r2 = *x;
}
typedef struct { float *allocated, *aligned; int64_t offset, sizes[2],
                 strides[2]; } M2;
typedef struct { M2 r0, r1; } R2;
void _mlir_ciface_column(R2 *out, M2 *x) {
  M2 y = {0, 0, 0, {2, 3}, {3, 1}};
  y.allocated = y.aligned = malloc(6 * sizeof(float));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      int64_t at = x->offset + i * x->strides[0] + j * x->strides[1];
      float v = x->aligned[at];
      y.aligned[3 * i + j] = v * v;
    }
  out->r0 = y;
  out->r0.offset = 1;
  out->r0.sizes[1] = 1;
  out->r1 = y;
}
"""
FAKE_STEPS = """
func.func @passthrough(%x: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  return
}
func.func @column(%x: tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<2x3xf32>) {
  return
}
"""
workdir = tempfile.mkdtemp(prefix="mpt-fake-steps-")
with open(os.path.join(workdir, "steps.c"), "w") as f:
    f.write(FAKE_STEPS_C)
subprocess.run([os.environ.get("MPT_CC") or "cc", "-shared", "-fPIC", "-o",
                os.path.join(workdir, "libsteps.so"),
                os.path.join(workdir, "steps.c")], check=True)
fake = cuda.Library(ctypes.CDLL(os.path.join(workdir, "libsteps.so")),
                    FAKE_STEPS, rt)


def bf16_bits(x):
    return (np.asarray(x, np.float32).view(np.uint32) >> 16).astype(np.uint16)


a16 = np.array([1.5, -2.25, 3.0, 0.125], np.float16)
b16 = bf16_bits([0.5, 4.0, -1.0, 2.0])
n32 = np.array(21, np.int32)
m1 = np.array([[True, False], [False, True]])
host = [a16, b16, n32, m1]
want = small.call("mixed", *host)
same(want, small_cpu.call("mixed", *host))
assert want[1].dtype == np.uint16 and want[3].dtype == np.bool_

rt.reset()
for bf in (CudaArray(b16, typestr="<V2"), CudaArray(b16),  # "<u2": bits
           DLPackArray(b16, code=4), DLPackArray(b16)):     # uint16 bits
    same(small.call("mixed", CudaArray(a16), bf, CudaArray(n32),
                    DLPackArray(m1)), want)
assert rt.to_device_calls == 0


class TorchLike(DLPackArray):
    """Like a PyTorch CUDA tensor: both protocols, but its
    __cuda_array_interface__ raises (PyTorch's does for bf16 and for a
    tensor that requires grad)."""

    @property
    def __cuda_array_interface__(self):
        raise TypeError("no typestr for bfloat16")


bf = TorchLike(b16, code=4)
same(small.call("mixed", a16, bf, n32, m1), want)
assert bf.exported == bf.deleted == 1 and rt.to_device_calls == 3

rt.reset()
res = small.call("mixed", *[DLPackArray(x) for x in host], results="device")
same(res, want)
assert [r.elem for r in res] == ["f32", "bf16", "i32", "i1"]
assert res[3].__cuda_array_interface__["typestr"] == "|b1"
expect(AttributeError, lambda: res[1].__cuda_array_interface__, "DLPack")
assert not hasattr(res[1], "__cuda_array_interface__")

# DLPack export: a consumer sees the buffer as it is; it stays allocated,
# after the array is freed, until the consumer's deleter call.
m, addr = consume(res[1].__dlpack__(stream=1, max_version=(1, 0)))
assert (m.dl.device_type, m.dl.device_id, m.dl.ndim) == (2, 0, 1)
assert (m.dl.code, m.dl.bits, m.dl.lanes) == (4, 16, 1)
assert m.dl.shape[0] == 4 and m.dl.strides[0] == 1
assert m.dl.data + m.dl.byte_offset == res[1].ptr
freed = len(rt.freed)
res[1].free()
assert len(rt.freed) == freed, "freed under the consumer"
got = np.empty(4, np.uint16)
ctypes.memmove(got.ctypes.data, m.dl.data + m.dl.byte_offset, 8)
assert got.tobytes() == want[1].tobytes()
m.deleter(addr)
assert len(rt.freed) == freed + 1
# A capsule nobody consumed gives its hold back when it is destroyed.
cap = res[2].__dlpack__()
res[2].free()
assert len(rt.freed) == freed + 1
cap = None
gc.collect()
assert len(rt.freed) == freed + 2
expect(BufferError, lambda: res[0].__dlpack__(dl_device=(2, 3)), "device")
expect(BufferError, lambda: res[0].__dlpack__(copy=True), "copy")

# Results as arguments of the next call, without copies (the i1 one by
# __cuda_array_interface__, the bf16 one by DLPack).
res = None
res = small.call("mixed", *host, results="device")
rt.reset()
again = small.call("mixed", DLPackArray(a16), res[1], CudaArray(n32),
                   res[3])
assert rt.to_device_calls == 0
same(again, small.call("mixed", a16, want[1], n32, want[3]))
res = again = None
gc.collect()
print("PASS element types: f16, bf16 (CAI <V2/<u2, DLPack), i32, i1")

# -- 3. Ownership of shared results: each allocation freed once, a
# caller's buffer never.
rt.reset()
v = np.arange(4, dtype=np.float32)
x23 = np.arange(6, dtype=np.float32).reshape(2, 3)
r = small.call("twice", CudaArray(v), results="device")
assert r[0].ptr == r[1].ptr
r[0].free()
assert not rt.freed
same(r[1:], [2 * v])
r[1].free()
assert len(rt.freed) == 1

sq = small.call("reshaped", x23)
rt.reset()
r = small.call("reshaped", DLPackArray(x23), results="device")
same(r, sq)
r = None
gc.collect()
assert len(rt.freed) == 1, "a value and its reshape: one buffer"

# A strided result: copied out as it is, described with its strides.
rt.reset()
r = fake.call("column", CudaArray(x23), results="device")
same(r, [(x23 * x23)[:, 1:2], x23 * x23])
assert not r[0].contiguous and r[0].ptr == r[1].ptr + 4
assert r[0].__cuda_array_interface__["strides"] == (12, 4)
m, addr = consume(r[0].__dlpack__())
assert (m.dl.shape[0], m.dl.shape[1]) == (2, 1)
assert (m.dl.strides[0], m.dl.strides[1]) == (3, 1)
m.deleter(addr)
r = None
gc.collect()
assert len(rt.freed) == 1

# A result that is the caller's device buffer: never freed by us, the
# caller's object kept alive as long as the result.
rt.reset()
arg = CudaArray(v)
ref = weakref.ref(arg)
r = fake.call("passthrough", arg, results="device")
assert r[0].ptr == r[2].ptr == arg.ptr and r[1].ptr != arg.ptr
del arg
gc.collect()
assert ref() is not None, "the argument must live as long as its results"
same(r, [v, 2 * v, v])
r = None
gc.collect()
assert ref() is None and len(rt.freed) == 1, rt.freed

# The same with a DLPack argument: its deleter waits for the results.
rt.reset()
dl = DLPackArray(v)
r = fake.call("passthrough", dl, results="device")
assert dl.deleted == 0
r[0].free()
assert dl.deleted == 0
r = None
gc.collect()
assert dl.deleted == 1 and len(rt.freed) == 1

# A numpy argument returned as is: the device copy lives on in the
# results, and is freed once, with the last of them.
rt.reset()
r = fake.call("passthrough", v, results="device")
(copy,) = rt.copies
assert r[0].ptr == copy and not rt.freed
r[2].free()
r[0].free()
assert rt.freed == [copy] and rt.free_streams == [None], "mptMemFree"
r[1].free()
assert len(rt.freed) == 2 and rt.free_streams[1] == 1 and not rt.copies
# The numpy path is unchanged there: copies out, then frees the copy and
# the result at once.
rt.reset()
same(fake.call("passthrough", v), [v, 2 * v, v])
assert not rt.copies and rt.free_streams == [None, None]
rt.reset()
same(fake.call("passthrough", CudaArray(v)), [v, 2 * v, v])
assert len(rt.freed) == 1, "the caller's buffer is not freed"
print("PASS ownership: shared results, aliased arguments, exports")

# -- 4. Errors name the function, the argument and its type; nothing leaks.
rt.reset()
f32 = arrays[2]  # argument #2: tensor<16x32xf32>


def step_with(i, bad):
    args = list(arrays)
    args[i] = bad
    return lambda: lib.call("step", *args)


expect(TypeError, lambda: lib.call("step", *cais[:-1]),
       "takes %d arguments, got %d" % (len(arrays), len(arrays) - 1))
expect(TypeError, step_with(2, CudaArray(f32.astype(np.float64))),
       "@step argument #2 (tensor<16x32xf32>)", "dtype <f8", "float32")
expect(TypeError, step_with(2, DLPackArray(f32.astype(np.float16))),
       "@step argument #2", "dtype float16")
expect(TypeError, step_with(2, DLPackArray(f32.view(np.int32))),
       "argument #2", "dtype int32")
expect(ValueError, step_with(2, CudaArray(f32[:, :8])), "argument #2",
       "shape (16, 8) does not fit")
expect(ValueError, step_with(2, DLPackArray(f32.reshape(32, 16))),
       "argument #2", "shape (32, 16)")
expect(ValueError, step_with(2, CudaArray(f32, device=1)), "argument #2",
       "on CUDA device 1", "runs on device 0")
expect(ValueError, step_with(2, DLPackArray(f32, device=(2, 1))),
       "argument #2", "on CUDA device 1")
t32 = np.ascontiguousarray(f32.T)  # 32x16 in memory, read as 16x32
expect(ValueError, step_with(2, CudaArray(t32, shape=(16, 32),
                                          strides=(4, 64))),
       "argument #2", "not contiguous", "(4, 64)", "bytes")
expect(ValueError, step_with(2, DLPackArray(t32, shape=(16, 32),
                                            strides=(1, 16))),
       "argument #2", "not contiguous", "(1, 16)", "elements")
misaligned = CudaArray(f32)
misaligned.cai["data"] = (host_buffer(f32, extra=4), False)
expect(ValueError, step_with(2, misaligned), "argument #2", "aligned")
expect(ValueError, step_with(2, DLPackArray(f32, byte_offset=4)),
       "argument #2", "aligned")
expect(ValueError, step_with(2, CudaArray(f32, stream=0)), "argument #2",
       "stream 0")
expect(TypeError, step_with(2, CudaArray(f32, mask=object())),
       "argument #2", "masked")
expect(TypeError, step_with(2, CudaArray(f32, typestr=None, shape=None)),
       "argument #2", "malformed")
expect(TypeError, step_with(2, DLPackArray(f32, device=(4, 0))),
       "argument #2", "device type 4")


class Broken:
    """__cuda_array_interface__ raises and there is no DLPack (PyTorch: a
    tensor that requires grad)."""

    @property
    def __cuda_array_interface__(self):
        raise RuntimeError("requires grad")


expect(TypeError, step_with(2, Broken()), "argument #2", "requires grad")
expect(ValueError, lambda: lib.call("step", *arrays, results="torch"),
       "results must be")
# Every error after other arguments were taken: nothing copied stays
# allocated, every DLPack producer got its tensor back.
dl_ok, dl_bad = DLPackArray(arrays[0]), DLPackArray(f32, device=(2, 1))
args = [dl_ok, arrays[1], dl_bad] + arrays[3:]
expect(ValueError, lambda: lib.call("step", *args), "argument #2")
assert dl_ok.deleted == 1 and dl_bad.deleted == 0 and dl_bad.exported == 0
dl_wrong = DLPackArray(f32.astype(np.float16))
args[2] = dl_wrong
expect(TypeError, lambda: lib.call("step", *args), "argument #2")
assert dl_wrong.exported == dl_wrong.deleted == 1
assert not rt.copies, "a copy leaked"
assert set(rt.freed) <= set(rt.made), "freed a buffer that is not ours"

# Host data behind DLPack (a CPU tensor) takes the copy path.
rt.reset()
cpu_dl = DLPackArray(f32, device=(1, 0))
same(lib.call("step", *arrays[:2], cpu_dl, *arrays[3:]), want_mlp)
assert rt.to_device_calls == len(arrays) and not rt.copies
assert cpu_dl.streams == [None] and cpu_dl.deleted == 1
strided_cpu = DLPackArray(t32, device=(1, 0), shape=(16, 32), strides=(1, 16))
same(lib.call("step", *arrays[:2], strided_cpu, *arrays[3:]), want_mlp)


class NumpyByDLPack:
    """numpy's own capsules: a real producer (host memory)."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


rt.reset()
same(lib.call("step", *[NumpyByDLPack(a) for a in arrays]), want_mlp)
assert rt.to_device_calls == len(arrays)
bf_cpu = DLPackArray(b16, device=(1, 0), code=4)  # numpy cannot read bf16
same(small.call("mixed", a16, bf_cpu, n32, m1), want)
assert bf_cpu.deleted == 1

# A runtime on another device: arguments there are accepted, results say
# where they are.
rt.reset()
rt.ordinal = 1
r = small.call("twice", CudaArray(v, device=1), results="device")
assert r[0].device == 1 and r[0].__dlpack_device__() == (2, 1)
expect(ValueError, lambda: small.call("twice", DLPackArray(v)),
       "argument #0 (tensor<4xf32>)", "on CUDA device 0", "runs on device 1")
r = None
rt.ordinal = 0
print("PASS errors name the argument; CPU DLPack is copied")

for ptr in MALLOCED:
    libc.free(ptr)
print("ok")
